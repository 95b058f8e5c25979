import Foundation
import HTTPTransport
import StellwerkAPI
import TestSupport
import Testing

/// A new municipality from nothing to its sandbox services running in three commands (issue #22):
/// `stellwerk onboard`, `stellwerk node bootstrap` over a real SSH server on loopback, `stellwerk apply`.
@Suite(.serialized) struct OnboardEndToEndTests {
    @Test func onboardBootstrapApply_bringsANewMunicipalitysServicesUp() async throws {
        let cluster = try LocalCluster(
            block: 69, nodes: [LocalCluster.Node(name: "a-1", site: "a")], secrets: ["a": "a-token"])
        // The cluster's template: the test service with a secret of the site's own, on its first server,
        // and the shipped proxy in front (nginx), whose certificate cannot be a random secret.
        try Fixtures.write(
            [
                "Blueprints/templates/municipality.yaml": """
                # The test cluster's site template.
                name: "{{ onboard.name }}"
                display_name: "{{ onboard.display_name }}"
                nodes:
                  - name: "{{ onboard.name }}-1"
                    address: "{{ onboard.node_address }}"
                    labels: {role: app}
                services:
                  web: {parameters: {token: {secret: "{{ onboard.name }}-token"}}}
                  proxy:
                    parameters:
                      https_port: 8443
                      http_port: 8080
                      certificate: {secret: "{{ onboard.name }}-proxy-certificate"}
                      certificate_key: {secret: "{{ onboard.name }}-proxy-key"}

                """,
                "Blueprints/proxy.yaml": try String(
                    contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Blueprints/proxy.yaml"), encoding: .utf8
                ),
            ], under: cluster.workspace)
        let ssh = try SSHServer(host: "127.0.69.10")
        let prefix = cluster.root.appendingPathComponent("nodes/neustadt-over-ssh")
        defer {
            let started = SecretEndToEndTests.commandLinesContaining(prefix.path)
            for pid in started { kill(pid, SIGTERM) }
            // Then what its agent left running (nginx names no path of ours), once the agent is gone.
            let deadline = ContinuousClock.now + .seconds(10)
            while started.contains(where: { kill($0, 0) == 0 }), ContinuousClock.now < deadline { usleep(50_000) }
            for pid in WorkingProcesses.inside(prefix) { kill(pid, SIGTERM) }
            cluster.tearDown()
        }
        try await cluster.start()
        #expect(try await cluster.stellwerk(["secret", "generate", "a-token", "--env", "e2e"]).status == 0)
        let release = try await cluster.release(version: "1")

        // 1. Onboard: the site file, its secret, its plan, a join token, and what to run next.
        let tokens = cluster.root.appendingPathComponent("tokens")
        let onboarded = try await cluster.stellwerk([
            "onboard", "--id", "neustadt", "--name", "Verbandsgemeinde Neustadt", "--env", "e2e", "--address",
            "127.0.69.2", "--token-dir", tokens.path,
        ])
        #expect(onboarded.status == 0, "\(onboarded.standardOutput)\(onboarded.standardError)")
        let output = onboarded.standardOutput
        #expect(output.contains("wrote Environments/e2e/sites/neustadt.yaml (1 node(s): neustadt-1 at 127.0.69.2)"))
        #expect(
            output.contains(
                "Secrets made by the orchestrator for e2e (nobody sees them): neustadt-proxy-certificate, neustadt-proxy-key, neustadt-token"
            ), "\(output)")
        #expect(output.contains("with a stand-in certificate that browsers do not trust"), "\(output)")
        #expect(
            output.contains(
                "stellwerk secret set neustadt-proxy-certificate --env e2e --site neustadt --from-file chain.pem"))
        #expect(output.contains("neustadt-1"), "the plan names the new node: \(output)")
        let tokenFile = tokens.appendingPathComponent("neustadt-1.token")
        #expect(try String(contentsOf: tokenFile, encoding: .utf8).hasPrefix("swj"))
        let mode = try FileManager.default.attributesOfItem(atPath: tokenFile.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(!output.contains("swj"), "the token is in its file, not on the terminal")
        #expect(
            output.contains(
                "stellwerk-agent join \(cluster.serverURL) --token-file neustadt-1.token --ca-fingerprint \(cluster.fingerprint)"
            ))

        // 2. Bootstrap the node over SSH.
        let bootstrapped = try await cluster.stellwerk([
            "node", "bootstrap", "ssh://\(ssh.user)@\(ssh.host):\(ssh.port)", "--host-key", try ssh.fingerprint,
            "--env", "e2e", "--site", "neustadt", "--node", "neustadt-1", "--identity", ssh.clientKey.path,
            "--prefix", prefix.path, "--agent-binary",
            ProcessRunner.productsFolder.appendingPathComponent("stellwerk-agent").path,
        ])
        #expect(bootstrapped.status == 0, "\(bootstrapped.standardOutput)\(bootstrapped.standardError)")
        #expect(bootstrapped.standardOutput.contains("neustadt-1 reports to the orchestrator."))

        // 3. Apply: the new municipality's service runs, with the secret the orchestrator made for it.
        let applied = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", release])
        #expect(applied.status == 0, "\(applied.standardOutput)\(applied.standardError)")
        let nodes = try await cluster.status().environments.first?.nodes ?? []
        let node = nodes.first(where: { $0.node == "neustadt-1" })
        #expect(node?.instances.map(\.state) == [.running, .running], "\(String(describing: node))")
        // The proxy serves HTTPS with the stand-in certificate: it works, and nobody trusts it.
        let proxied = try await Curl.run(["-k", "https://127.0.69.2:8443/"])
        #expect(proxied.status == 421, "\(proxied)")
        let verified = try await Curl.run(["https://127.0.69.2:8443/"])
        #expect(verified.exitStatus == 60, "curl trusted the stand-in certificate: \(verified)")
        let file = try await HTTPExchange().fetch("http://127.0.69.2:\(cluster.servicePort)/file")
        #expect(file.status == 200 && file.text.hasPrefix("token=") && file.text.count > 20, "\(file.text)")

        // The same municipality again is refused, and nothing changes.
        let again = try await cluster.stellwerk(["onboard", "--id", "neustadt", "--name", "Neustadt", "--env", "e2e"])
        #expect(again.status == 1)
        #expect(again.standardError.contains("the site 'neustadt' exists already"), "\(again.standardError)")
    }
}
