import Model
import TestSupport
import Testing

/// Blueprints whose component comes from the node's Debian packages (`package:` with an absolute
/// `executable:`), and the `mosquitto_password` filter for secrets in their config files.
@Suite struct PackageComponentTests {
    static let component = "  product: datenplattform\n"

    @Test func packageWithAbsoluteExecutable_isValid() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, Self.component, to: "  package: mosquitto\n  executable: /usr/sbin/mosquitto\n")
        #expect(errors(files).isEmpty, "\(errors(files))")
    }

    @Test(arguments: [
        ("  package: mosquitto\n  executable: sbin/mosquitto\n", 5, "must be an absolute path without '..'"),
        ("  package: mosquitto\n  executable: /usr/../bin/sh\n", 5, "must be an absolute path without '..'"),
        (
            "  package: Mosquitto_2\n  executable: /usr/sbin/mosquitto\n", 4,
            "'Mosquitto_2' is not a Debian package name"
        ),
        ("  package: mosquitto\n", 4, "missing key 'executable' in component of blueprint 'api'"),
        (
            "  package: mosquitto\n  product: datenplattform\n  executable: /usr/sbin/mosquitto\n", 4,
            "names a package and also a product or an artifact"
        ),
    ])
    func badPackageComponents_areRefusedWhereTheyAre(replacement: String, line: Int, message: String) throws {
        let files = try Fixtures.files(changing: FixturePath.api, Self.component, to: replacement)
        let diagnostic = try onlyError(files, in: FixturePath.api)
        expect(diagnostic, file: FixturePath.api, line: line, message: message)
    }

    @Test func mosquittoPasswordFilter_onASecret_isValid() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "token: {{ param.token }}", to: "token: {{ param.token | mosquitto_password }}")
        #expect(errors(files).isEmpty, "\(errors(files))")
    }

    @Test(arguments: [
        ("{{ param.token | sha1 }}", "names an unknown filter 'sha1'"),
        ("{{ param.public_url | mosquitto_password }}", "applies 'mosquitto_password' to a parameter of type url"),
        ("{{ node.name | mosquitto_password }}", "applies 'mosquitto_password' to something other than a secret"),
    ])
    func filters_onlyKnownOnes_andOnlyOnSecrets(placeholder: String, message: String) throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, "token: {{ param.token }}", to: "token: \(placeholder)")
        let diagnostic = try onlyError(files, in: FixturePath.api)
        #expect(diagnostic.message.contains(message), "\(diagnostic.message)")
    }
}
