import Authority
package import Foundation
import Model
import Testing

/// nginx running the proxy that `files` give site alpha, with a certificate for the site's hosts
/// from a CA of the test's own; stopped by `stop`.
package struct NginxProxy {
    /// Debian's nginx; tests that need it require it with `CI=true`.
    package static let nginx = "/usr/sbin/nginx"
    package static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: nginx) }

    package var pid: pid_t
    package var folder: URL
    package var authorityFile: URL
    package var accessLog: String

    package init(_ files: [String: String]) async throws {
        let workspace = try Fixtures.load(files)
        let site = try #require(try EnvironmentResolver(workspace: workspace).resolve("sandbox").sites.first)
        let proxy = try #require(site.nodes.first?.instances.first { $0.service == "proxy" })
        // The instance's folder as the agent fills it: the config, the secrets in their places.
        folder = try Fixtures.temporaryFolder("stellwerk-proxy")
        let authority = try CertificateAuthority.create(name: "Testamt CA")
        let (certificate, key) = try authority.issueServerCertificate(hosts: site.routes.map(\.host))
        let secrets = [
            "{{secret:alpha-proxy-certificate}}": try certificate.serializeAsPEM().pemString + "\n",
            "{{secret:alpha-proxy-key}}": key.pemRepresentation + "\n",
        ]
        for file in proxy.configFiles {
            let url = folder.appendingPathComponent(file.path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data((secrets[file.content] ?? file.content).utf8).write(to: url)
        }
        authorityFile = folder.appendingPathComponent("ca.pem")
        try Data(try authority.certificatePEM.utf8).write(to: authorityFile)
        accessLog = folder.appendingPathComponent("access.log").path
        pid = try Spawn.run(
            NginxProxy.nginx, proxy.arguments, directory: folder.path, standardOutput: accessLog,
            standardError: folder.appendingPathComponent("error.log").path, wait: false
        ).pid
    }

    package func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}
