package import Foundation
package import Model

/// Factory functions for test inputs, in the manner of Nomad's `mock` package: a small, valid
/// workspace that each test changes in the one place it is about.
package enum Fixtures {
    /// The checkout this test run belongs to, for tests that read the shipped blueprints and environments.
    package static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// A blueprint `api` that exports its URL and has one parameter of each kind tests need.
    package static let apiBlueprint = """
        name: api
        description: A small API service.
        component:
          product: datenplattform
          args: [api, --config, api.yaml]
        parameters:
          port: {type: port, default: 9001}
          public_url: {type: url}
          token: {type: secret}
          workers: {type: int, default: 4, min: 1, max: 64}
          mode: {type: enum, values: [fast, safe], default: safe}
          database: {type: database_url, default: "sqlite:data/api.sqlite"}
        config:
          - path: api.yaml
            template: |
              port: {{ param.port }}
              url: {{ param.public_url }}
              token: {{ param.token }}
              workers: {{ param.workers }}
        health:
          http: {port: http, path: /health}
        migrations:
          args: [api, migrate]
        exports:
          url: http://{{ node.address }}:{{ param.port }}
        ports:
          http: port
        placement:
          labels: {role: app}
        """

    /// A blueprint `web` that depends on `api`.
    package static let webBlueprint = """
        name: web
        description: A web front end reading the API.
        component:
          product: datenplattform
          args: [web, --api, "{{ dep.api.url }}"]
        parameters:
          port: {type: port, default: 9002}
          title: {type: string, default: Beispiel}
        config:
          - path: web.yaml
            template: |
              api: {{ dep.api.url }}
              title: {{ param.title }}
        health:
          tcp: {port: http}
        dependencies:
          - blueprint: api
        ports:
          http: port
        placement:
          labels: {role: app}
        """

    package static let sandboxEnvironment = """
        name: sandbox
        description: Where changes run first.
        promotes_to: live
        rollout: {canary: 1, max_in_flight: 50%}
        """

    package static let liveEnvironment = """
        name: live
        description: Production.
        rollout: {canary: 1, max_in_flight: 1}
        promotion: {soak: 24h, approvals: 1, windows: true, canary_site: alpha}
        """

    /// A site that runs `api` and `web` on one node.
    package static func site(_ name: String, node: String, address: String, apiSite: String? = nil) -> String {
        var text = """
            name: \(name)
            display_name: Gemeinde \(name.capitalized)
            nodes:
              - name: \(node)
                address: \(address)
                labels: {role: app}
            services:

            """
        if apiSite == nil {
            text += """
                  api:
                    parameters:
                      public_url: https://api.\(name).example
                      token: {secret: \(name)-token}

                """
        }
        text += """
              web:
                parameters:
                  title: Daten \(name.capitalized)

            """
        if let apiSite {
            text += """
                    dependencies:
                      api: {site: \(apiSite)}

                """
        }
        text += """
            maintenance_windows:
              - days: [tue, thu]
                from: "20:00"
                to: "23:00"

            """
        return text
    }

    /// The files of a valid workspace: blueprints `api` and `web`; environments `sandbox` (sites alpha
    /// and beta, where beta reads alpha's API) and `live` (site alpha).
    package static func files() -> [String: String] {
        [
            "Blueprints/api.yaml": apiBlueprint,
            "Blueprints/web.yaml": webBlueprint,
            "Environments/sandbox/environment.yaml": sandboxEnvironment,
            "Environments/sandbox/sites/alpha.yaml": site("alpha", node: "alpha-1", address: "127.0.1.1"),
            "Environments/sandbox/sites/beta.yaml": site(
                "beta", node: "beta-1", address: "127.0.2.1", apiSite: "alpha"),
            "Environments/live/environment.yaml": liveEnvironment,
            "Environments/live/sites/alpha.yaml": site("alpha", node: "alpha-live-1", address: "127.0.3.1"),
        ]
    }

    /// Loads `files` as a workspace.
    package static func load(_ files: [String: String]) throws(ValidationFailure) -> Workspace {
        try WorkspaceLoader(source: MemorySourceTree(files: files)).load()
    }

    /// The diagnostics loading `files` gives; empty when the files are valid.
    package static func diagnostics(_ files: [String: String]) -> [Diagnostic] {
        do {
            let workspace = try load(files)
            return workspace.warnings
        } catch {
            return error.diagnostics
        }
    }

    /// A fresh empty folder inside this test run's own temporary folder, which is removed once the
    /// test process has ended (however it ended), so no run leaves folders behind.
    package static func temporaryFolder(_ label: String = "stellwerk-test") throws -> URL {
        let url = try runFolder.get().appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `/tmp/stellwerk-tests-PID`, made once per test process.
    private static let runFolder = Result<URL, any Error> {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stellwerk-tests-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Spawn.whenThisProcessEnds("sleep 2; rm -rf '\(folder.path)'")
        return folder
    }

    /// Writes `files` under `root`, creating folders as needed.
    package static func write(_ files: [String: String], under root: URL) throws {
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
    }
}

extension Fixtures {
    /// The fixture workspace with `api` public (its blueprint's `public:`, 2 KiB bodies, `rate`
    /// requests a second) at `https://HOST[:httpsPort]PATH`, and the shipped proxy
    /// blueprint in front of it at sandbox site alpha, on the given ports and node address.
    package static func proxiedFiles(
        httpsPort: Int = 443, httpPort: Int = 80, address: String = "127.0.1.1", apiPort: Int = 9001,
        host: String = "api.alpha.example", path: String = "", rate: Int = 7
    ) throws -> [String: String] {
        var files = files()
        files["Blueprints/api.yaml"] = apiBlueprint.replacingOccurrences(
            of: "ports:\n  http: port\n",
            with:
                "public:\n  url: public_url\n  port: http\n  max_body: 2048\n  rate: \(rate)\nports:\n  http: port\n")
        files["Blueprints/proxy.yaml"] = try String(
            contentsOf: repositoryRoot.appendingPathComponent("Blueprints/proxy.yaml"), encoding: .utf8)
        let portSuffix = httpsPort == 443 ? "" : ":\(httpsPort)"
        files["Environments/sandbox/sites/alpha.yaml"] = site("alpha", node: "alpha-1", address: address)
            .replacingOccurrences(
                of: "services:\n",
                with: """
                    services:
                      proxy:
                        parameters:
                          https_port: \(httpsPort)
                          http_port: \(httpPort)
                          certificate: {secret: alpha-proxy-certificate}
                          certificate_key: {secret: alpha-proxy-key}

                    """
            )
            .replacingOccurrences(
                of: "public_url: https://api.alpha.example",
                with: "port: \(apiPort)\n      public_url: https://\(host)\(portSuffix)\(path)")
        return files
    }
}
