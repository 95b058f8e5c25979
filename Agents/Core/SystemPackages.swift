package import FoundationEssentials

/// Components that come from the node's Debian packages (Mosquitto): nothing is downloaded, so the
/// agent checks with dpkg's own records that the package is installed and that the executable the
/// blueprint names is one of its files, before anything running is touched.
package enum SystemPackages {
    /// Debian's package database, where `dpkg` keeps `status` and `info/<package>.list`.
    package static let debianDatabase = URL(fileURLWithPath: "/var/lib/dpkg")

    /// Throws an error naming the package, the node and the command that fixes it, unless `package`
    /// is installed and `executable` is an executable file it installed.
    package static func requireInstalled(
        _ package: String, executable: String, node: String, database: URL = debianDatabase
    ) throws(AgentError) {
        let install = "install it there: apt-get install \(package)"
        guard let status = try? String(contentsOf: database.appendingPathComponent("status"), encoding: .utf8) else {
            throw AgentError(
                "\(node) has no Debian package database (\(database.path)/status), so the package \(package) cannot be checked; \(install)"
            )
        }
        guard installed(package, in: status) else {
            throw AgentError("the Debian package \(package) is not installed on \(node); \(install)")
        }
        guard files(of: package, in: database).contains(executable) else {
            throw AgentError(
                "\(executable) is not a file of the Debian package \(package) on \(node); check the blueprint's executable"
            )
        }
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw AgentError(
                "\(executable) of the Debian package \(package) is missing or not executable on \(node); reinstall it: apt-get install --reinstall \(package)"
            )
        }
    }

    /// Whether `status` (dpkg's status file) records `package` as installed.
    static func installed(_ package: String, in status: String) -> Bool {
        for stanza in status.split(separator: "\n\n", omittingEmptySubsequences: true) {
            var name: Substring?
            var state: Substring?
            for line in stanza.split(separator: "\n") {
                if line.hasPrefix("Package: ") { name = line.dropFirst("Package: ".count) }
                if line.hasPrefix("Status: ") { state = line.dropFirst("Status: ".count) }
            }
            if name == Substring(package) && state == "install ok installed" { return true }
        }
        return false
    }

    /// The paths the package installed, from `info/<package>.list` (or `<package>:<arch>.list`).
    static func files(of package: String, in database: URL) -> Set<String> {
        let info = database.appendingPathComponent("info")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: info.path)) ?? []
        let lists = names.filter { $0 == "\(package).list" || ($0.hasPrefix("\(package):") && $0.hasSuffix(".list")) }
        var paths = Set<String>()
        for list in lists {
            let text = (try? String(contentsOf: info.appendingPathComponent(list), encoding: .utf8)) ?? ""
            paths.formUnion(text.split(separator: "\n").map(String.init))
        }
        return paths
    }
}
