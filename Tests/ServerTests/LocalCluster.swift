import Foundation
import Identity
import OrchestratorClient
import StellwerkAPI
import TestSupport
import Testing

/// One orchestrator server and agents as real processes on loopback, each node with its own
/// 127.0.x.y address and data folder, deploying the test service through a small workspace of their
/// own. By default: environment e2e with nodes n1 (site a), n2 (site a) and n3 (site b).
final class LocalCluster: @unchecked Sendable {
    let root: URL
    let workspace: URL
    let addresses: [String: String]
    let servicePort: Int
    let nodes: [Node]
    private(set) var serverPort = 0
    private(set) var serverPID: pid_t = 0
    private(set) var agents: [String: pid_t] = [:]
    /// Servers of the store beside the cluster's own (``startAnotherServer(data:store:keyFile:)``).
    private(set) var otherServers: Set<pid_t> = []
    private(set) var adminToken = ""
    private(set) var fingerprint = ""
    /// The server's `--store`; nil keeps its SQLite file.
    var store: String?
    /// More options for `stellwerk server`.
    var serverArguments: [String] = []
    /// Namespaces of the test's own: the server and the CLI run in the one, the agents in the other
    /// (the nodes' addresses must be on its side of the link). Nil: everything on loopback.
    var namespaces: NetworkNamespaces?

    struct Node: Sendable {
        var name: String
        var site: String
        var environment = "e2e"
        /// YAML lines added to the node in its site file (such as `ssh: {…}`).
        var yaml = ""
    }

    static let e2eNodes = [Node(name: "n1", site: "a"), Node(name: "n2", site: "a"), Node(name: "n3", site: "b")]

    static func rolloutPolicy(healthyDeadline: String = "40s", canary: Int = 1, maxInFlight: Int = 2) -> String {
        """
        rollout:
          canary: \(canary)
          max_in_flight: \(maxInFlight)
          min_healthy_time: 1s
          healthy_deadline: \(healthyDeadline)
          progress_deadline: 2m
          auto_rollback: true
          lost_after: 30s
          on_disconnected: wait
        """
    }

    /// - Parameters:
    ///   - block: the third octet of the nodes' addresses, distinct per test so that tests running
    ///     side by side never share a listening address.
    ///   - environments: environment.yaml per environment beyond name and description (default: e2e
    ///     with the rollout policy); `sites` adds YAML to a site's file (such as maintenance windows).
    ///   - blueprintExtra: YAML added to the `web` blueprint (such as migrations).
    ///   - component: how `web` names its executable (default: the product the releases carry).
    ///   - secrets: the secret each site gives `web` as its `token`; with any, the blueprint has a
    ///     secret parameter `token` rendered into `token.conf`, which the service serves at `/file`.
    init(
        block: Int, healthyDeadline: String = "40s", nodes: [Node] = LocalCluster.e2eNodes,
        environments: [String: String]? = nil, sites: [String: String] = [:], blueprintExtra: String = "",
        secrets: [String: String] = [:], component: String = "product: stellwerk-test-service",
        addresses given: [String: String] = [:]
    ) throws {
        root = try Fixtures.temporaryFolder("stellwerk-cluster")
        workspace = root.appendingPathComponent("workspace")
        self.nodes = nodes
        var addresses: [String: String] = [:]
        for (index, node) in nodes.enumerated() {
            addresses[node.name] = given[node.name] ?? "127.0.\(block).\(index + 1)"
        }
        self.addresses = addresses
        servicePort = try FreePort.find()
        var files = [
            "Blueprints/web.yaml": """
            name: web
            description: The test service.
            component:
              \(component)
              args: [--host, "{{ node.address }}", --port, "{{ param.port }}"\(secrets.isEmpty ? "" : ", --read, token.conf")]
            parameters:
              port:
                type: port
                default: \(servicePort)
            \(secrets.isEmpty ? "" : "  token: {type: secret}\nconfig:\n  - path: token.conf\n    template: \"token={{ param.token }}\"")
            health:
              http: {port: http, path: /health}
              interval: 1s
              timeout: 1s
              retries: 2
            ports:
              http: port
            \(blueprintExtra)
            """
        ]
        let environments = environments ?? ["e2e": Self.rolloutPolicy(healthyDeadline: healthyDeadline)]
        for (environment, body) in environments {
            files["Environments/\(environment)/environment.yaml"] =
                "name: \(environment)\ndescription: End-to-end tests.\n\(body)\n"
        }
        let bySite = Dictionary(grouping: nodes) { "\($0.environment)/\($0.site)" }
        for members in bySite.values {
            let site = members[0].site
            let list = members.map {
                "  - name: \($0.name)\n    address: \(addresses[$0.name]!)\n"
                    + ($0.yaml.isEmpty ? "" : "    \($0.yaml)\n")
            }.joined()
            files["Environments/\(members[0].environment)/sites/\(site).yaml"] = """
                name: \(site)
                display_name: Gemeinde \(site.uppercased())
                nodes:
                \(list)services:
                  web: \(secrets[site].map { "{parameters: {token: {secret: \($0)}}}" } ?? "{}")
                \(sites[site] ?? "")

                """
        }
        try Fixtures.write(files, under: workspace)
    }

    var serverHost: String { namespaces?.serverAddress ?? "127.0.0.1" }
    var serverURL: String { "https://\(serverHost):\(serverPort)" }
    var authorityFile: URL { root.appendingPathComponent("server/ca/ca.pem") }
    var serverLog: URL { root.appendingPathComponent("server.log") }

    /// The environment a CLI call needs to reach the server as `token` (default: the admin).
    func operatorEnvironment(token: String? = nil) -> [String: String] {
        [
            "STELLWERK_SERVER": serverURL, "STELLWERK_TOKEN": token ?? adminToken,
            "STELLWERK_CA": authorityFile.path, "STELLWERK_ACTOR": "test",
        ]
    }

    func stellwerk(
        _ arguments: [String], token: String? = nil, standardInput: String? = nil
    ) async throws
        -> ProcessRunner.Result
    {
        try await ProcessRunner.run(
            "stellwerk", arguments, in: workspace, environment: operatorEnvironment(token: token),
            standardInput: standardInput, namespace: namespaces?.server)
    }

    /// Whether the server is told where to write the first admin token; without, it writes
    /// `server/admin.token` (its standard output is a log file).
    var adminTokenFileOption = true
    private var adminTokenFile: URL {
        root.appendingPathComponent(adminTokenFileOption ? "admin.token" : "server/admin.token")
    }

    /// Starts the server (again, on the same port and data folder when it ran before).
    func startServer() async throws {
        let portFile = root.appendingPathComponent("port")
        try? FileManager.default.removeItem(at: portFile)
        serverPID = try spawn(
            "stellwerk",
            [
                "server", "--data", root.appendingPathComponent("server").path, "--listen",
                "\(serverHost):\(serverPort)",
                "--port-file", portFile.path, "--lost-after", "30",
                // The whole suite at once can starve a server for seconds: its handshake limit is for
                // floods, not for a busy test machine.
                "--handshake-timeout", "60",
            ] + (adminTokenFileOption ? ["--admin-token-file", adminTokenFile.path] : [])
                + (store.map { ["--store", $0] } ?? []) + serverArguments, in: namespaces?.server,
            standardOutput: serverLog.path)
        try stopWhenTestsEnd(serverPID)
        try await waitFor("the server to listen", seconds: 60) { FileManager.default.fileExists(atPath: portFile.path) }
        serverPort =
            Int(try String(contentsOf: portFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        if adminToken.isEmpty {
            adminToken = try String(contentsOf: adminTokenFile, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let log = try String(contentsOf: serverLog, encoding: .utf8)
            let line = try #require(log.split(separator: "\n").first { $0.hasPrefix("CA fingerprint") })
            fingerprint = String(line.split(separator: " ").last ?? "")
        }
    }

    /// Starts a product of the package in the background, inside `namespace` when given.
    private func spawn(
        _ product: String, _ arguments: [String], in namespace: String?, standardOutput: String
    ) throws
        -> pid_t
    {
        var (executable, arguments) = (ProcessRunner.productsFolder.appendingPathComponent(product).path, arguments)
        if let namespace { (executable, arguments) = NetworkNamespaces.inside(namespace, executable, arguments) }
        return try Spawn.run(executable, arguments, standardOutput: standardOutput, wait: false).pid
    }

    /// Stops a process of this cluster if the test process ends first (a crash); the check of its
    /// command line keeps a reused process ID from being hit.
    private func stopWhenTestsEnd(_ pid: pid_t) throws {
        try Spawn.whenThisProcessEnds(
            "tr '\\0' ' ' < /proc/\(pid)/cmdline 2>/dev/null | grep -qF '\(root.path)' && kill -TERM \(pid)")
    }

    func stopServer(signal: Int32 = SIGTERM) {
        guard serverPID > 0 else { return }
        kill(serverPID, signal)
        var status: Int32 = 0
        waitpid(serverPID, &status, 0)
        serverPID = 0
    }

    /// Stops the server with SIGTERM and says whether it exited within `seconds`; if not, kills it.
    func stopServer(waitingAtMost seconds: Int) async throws -> Bool {
        guard serverPID > 0 else { return true }
        let pid = serverPID
        serverPID = 0
        kill(pid, SIGTERM)
        var status: Int32 = 0
        do {
            try await waitFor("the server to stop", seconds: seconds) { waitpid(pid, &status, WNOHANG) == pid }
            return true
        } catch {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            return false
        }
    }

    /// Starts another `stellwerk server` on `store` with the data folder `data` (under the cluster's
    /// folder) and the key file `keyFile`; answers its PID and port, or nil when it exited (DATA.log
    /// then says why). `tearDown` stops it, as it does the cluster's server.
    func startAnotherServer(data: String, store: String, keyFile: URL?) async throws -> (pid: pid_t, port: Int)? {
        let folder = root.appendingPathComponent(data)
        let portFile = root.appendingPathComponent("\(data).port")
        let spawned = try Spawn.run(
            ProcessRunner.productsFolder.appendingPathComponent("stellwerk").path,
            [
                "server", "--data", folder.path, "--listen", "127.0.0.1:0", "--port-file", portFile.path, "--store",
                store, "--handshake-timeout", "60", "--lost-after", "30",
            ] + (keyFile.map { ["--secrets-key", $0.path] } ?? []),
            standardOutput: root.appendingPathComponent("\(data).log").path, wait: false)
        try stopWhenTestsEnd(spawned.pid)
        var exited = false
        try await waitFor("\(data) to listen or exit", seconds: 60) {
            var status: Int32 = 0
            exited = waitpid(spawned.pid, &status, WNOHANG) == spawned.pid
            return exited || FileManager.default.fileExists(atPath: portFile.path)
        }
        if exited { return nil }
        otherServers.insert(spawned.pid)
        let port = Int(
            try String(contentsOf: portFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        return (spawned.pid, port ?? 0)
    }

    /// Makes another server of the store (``startAnotherServer(data:store:keyFile:)``) the one the
    /// CLI talks to and `tearDown` stops, once the first is gone.
    func switchToServer(pid: pid_t, port: Int) {
        otherServers.remove(pid)
        serverPID = pid
        serverPort = port
    }

    /// Ends a server of the cluster, whichever it is: at once (SIGKILL) unless `signal` says otherwise.
    func endServer(_ pid: pid_t, signal: Int32 = SIGKILL) {
        guard pid > 0, pid == serverPID || otherServers.contains(pid) else { return }
        kill(pid, signal)
        waitpid(pid, nil, 0)
        otherServers.remove(pid)
        if pid == serverPID { serverPID = 0 }
    }

    /// Reads `/v1/events` from the start as the admin for `seconds` (the stream itself never ends)
    /// into the file it returns; with `wait: false`, returns at once, with the reader's PID.
    func readEvents(for seconds: Int, wait: Bool = true) async throws -> (file: URL, reader: pid_t) {
        let script = """
            import signal, ssl, sys, urllib.request
            signal.alarm(\(seconds + 10))
            context = ssl.create_default_context(cafile=sys.argv[2])
            request = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.stdin.read().strip()})
            signal.signal(signal.SIGALRM, lambda *_: sys.exit(0))
            signal.alarm(\(seconds))
            with urllib.request.urlopen(request, context=context, timeout=\(seconds)) as response:
                for line in response:
                    sys.stdout.write(line.decode())
                    sys.stdout.flush()
            """
        let folder = root.appendingPathComponent("events-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let scriptFile = folder.appendingPathComponent("read.py")
        let tokenFile = folder.appendingPathComponent("token")
        let output = folder.appendingPathComponent("events.txt")
        try script.write(to: scriptFile, atomically: true, encoding: .utf8)
        try adminToken.write(to: tokenFile, atomically: true, encoding: .utf8)
        let arguments = [
            "-c", "exec python3 \"$0\" \"$1\" \"$2\" < \"$3\"", scriptFile.path,
            serverURL + Endpoints.events.path + "?after=0", authorityFile.path, tokenFile.path,
        ]
        let started = try await offloaded {
            try Spawn.run("/bin/sh", arguments, standardOutput: output.path, wait: wait)
        }
        return (output, started.pid)
    }

    func data(of node: String) -> URL { root.appendingPathComponent("nodes/\(node)") }

    /// Creates a join token with the CLI and joins the node with the agent.
    func join(_ node: String, site: String) async throws -> String {
        let environment = nodes.first { $0.name == node }?.environment ?? "e2e"
        let token = try await stellwerk([
            "token", "create", "--env", environment, "--site", site, "--node", node, "--ttl", "10m",
        ])
        #expect(token.status == 0, "\(token.standardError)")
        let tokenFile = root.appendingPathComponent("\(node).token")
        try Data(token.standardOutput.utf8).write(to: tokenFile)
        let joined = try await ProcessRunner.run(
            "stellwerk-agent",
            [
                "join", serverURL, "--token-file", tokenFile.path, "--ca-fingerprint", fingerprint, "--data",
                data(of: node).path,
            ], namespace: namespaces?.node)
        #expect(joined.status == 0, "\(joined.standardError)")
        return tokenFile.path
    }

    func startAgent(_ node: String) throws {
        agents[node] = try spawn(
            "stellwerk-agent", ["run", "--data", data(of: node).path, "--heartbeat", "1", "--stop-services"],
            in: namespaces?.node, standardOutput: root.appendingPathComponent("\(node).log").path)
        // The agent stops its services when it is stopped (--stop-services).
        try stopWhenTestsEnd(agents[node] ?? 0)
    }

    func stopAgent(_ node: String, signal: Int32 = SIGTERM) {
        guard let pid = agents.removeValue(forKey: node) else { return }
        kill(pid, signal)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// Starts the server, records the environments' policies, joins every node and starts its agent.
    func start(recordingPolicies: Bool = true) async throws {
        try await startServer()
        if recordingPolicies { try await recordPolicies() }
        for node in nodes {
            _ = try await join(node.name, site: node.site)
            try startAgent(node.name)
        }
    }

    /// Records every environment's policy from the workspace, as the server demands before any change:
    /// the admin records one without a promotion source; one with a source waits for a second person,
    /// so `policy-proposer` (an approver the admin made) proposes it and the admin approves.
    func recordPolicies() async throws {
        var proposer: String?
        for environment in Set(nodes.map(\.environment)).sorted() {
            let applied = try await stellwerk(["policy", "apply", "--env", environment, "--json"])
            #expect(applied.status == 0, "\(applied.standardError)")
            guard try decode(PolicyView.self, applied.standardOutput).proposal != nil else { continue }
            if proposer == nil {
                let created = try await stellwerk(["user", "create", "policy-proposer", "--role", "*=approver"])
                proposer = created.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let proposed = try await stellwerk(["policy", "apply", "--env", environment], token: proposer)
            #expect(proposed.status == 0, "\(proposed.standardError)")
            let approved = try await stellwerk(["policy", "approve", "--env", environment])
            #expect(approved.status == 0, "\(approved.standardError)")
        }
    }

    /// Packs the test service (or a script around it) as an artifact and registers a release.
    func release(
        version: String, healthStatus: Int? = nil, migrations: [String] = [],
        component: String = "stellwerk-test-service"
    ) async throws -> String {
        let content = root.appendingPathComponent("release-\(version)")
        try FileManager.default.createDirectory(at: content, withIntermediateDirectories: true)
        let binary = ProcessRunner.productsFolder.appendingPathComponent("stellwerk-test-service")
        let executable = content.appendingPathComponent("stellwerk-test-service")
        if let healthStatus {
            try Data("#!/bin/sh\nexec '\(binary.path)' \"$@\" --health \(healthStatus)\n".utf8).write(to: executable)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: executable.path)
        } else {
            try FileManager.default.copyItem(at: binary, to: executable)
        }
        let tar = root.appendingPathComponent("release-\(version).tar")
        #expect(try Spawn.run("/bin/tar", ["-cf", tar.path, "-C", content.path, "stellwerk-test-service"]).status == 0)
        let created = try await stellwerk(
            ["release", "create", "--version", version, "--artifact", "\(component)=\(tar.path)"]
                + migrations.flatMap { ["--migration", "\(component)=\($0)"] })
        #expect(created.status == 0, "\(created.standardError)")
        return created.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func status(env: String = "e2e") async throws -> StatusDocument {
        let result = try await stellwerk(["status", "--env", env, "--json"])
        #expect(result.status == 0, "\(result.standardError)")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(StatusDocument.self, from: Data(result.standardOutput.utf8))
    }

    /// A connection as the admin, for raw API calls.
    func adminConnection(url: String? = nil) throws -> OrchestratorConnection {
        try OrchestratorConnection(
            url: url ?? serverURL, authority: try String(contentsOf: authorityFile, encoding: .utf8), token: adminToken)
    }

    /// A connection with `node`'s client certificate.
    func agentConnection(_ node: String) throws -> OrchestratorConnection {
        let identity = NodeIdentity(folder: data(of: node).appendingPathComponent("identity"))
        return try OrchestratorConnection(
            url: serverURL, authority: try String(contentsOf: authorityFile, encoding: .utf8),
            clientCertificate: (
                try String(contentsOf: identity.certificateFile, encoding: .utf8),
                try String(contentsOf: identity.keyFile, encoding: .utf8)
            ))
    }

    /// Stops every agent (and with it the services), then the server, and removes the folder. It runs
    /// in a test's `defer`, on one of the two threads Swift concurrency has here: the waiting happens on
    /// a thread of its own, so the tests running meanwhile are not held up while processes stop.
    func tearDown() {
        let (agentPIDs, servers, folder) = (Array(agents.values), [serverPID] + otherServers, root)
        agents = [:]
        serverPID = 0
        otherServers = []
        DispatchQueue.global().async {
            var status: Int32 = 0
            for pid in agentPIDs { kill(pid, SIGTERM) }
            for pid in agentPIDs { waitpid(pid, &status, 0) }
            for server in servers where server > 0 { kill(server, SIGTERM) }
            for server in servers where server > 0 { waitpid(server, &status, 0) }
            // What the agents started and left running when they stopped (without their services).
            for pid in WorkingProcesses.inside(folder) { kill(pid, SIGTERM) }
            try? FileManager.default.removeItem(at: folder)
        }
    }

    func waitFor(_ what: String, seconds: Int = 90, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("timed out waiting for \(what)")
        throw TimedOut()
    }

    struct TimedOut: Error {}
}
