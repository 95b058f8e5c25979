import ArgumentParser
import Authority
import Foundation
import Identity
import Logging
import Model
import OrchestratorClient
import ServiceLifecycle
import StellwerkAPI
import Synchronization

/// `stellwerk up`: the whole platform on this machine, through the same code paths as a cluster.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run the whole platform on this machine: an orchestrator, agents per node, the services.",
        discussion: """
            Starts an orchestrator (embedded SQLite) in the state folder, an agent process per node of \
            the local-sandbox (and local-live) environment, each node on its own loopback address and \
            joined with a real join token over mutual TLS; packs the datenplattform executable built next \
            to this stellwerk as a release, rolls it out to local-sandbox with the live view, loads the \
            sample catalog, and prints what runs where. With --promote it then promotes the release to \
            local-live, approved by a second local operator. Ctrl-C or SIGTERM (or `stellwerk down`) \
            stops everything it started, and `up` exits with status 130. Run again with the same \
            state folder, it resumes.

            Examples:
              stellwerk up
              stellwerk up --promote
              stellwerk up --state /tmp/demo --detach
              stellwerk down --state /tmp/demo
            """)

    @OptionGroup var workspace: WorkspaceOption
    @Option(help: ArgumentHelp("The state folder (default: .stellwerk-local in the checkout).", valueName: "DIR"))
    var state: String?
    @Flag(help: "Also promote the release to local-live, approved by a second local operator.") var promote = false
    @Flag(help: "Return once the platform is up, leaving it running (stop it with `stellwerk down`).")
    var detach = false

    func run() async throws {
        let terminal = Terminal.detect()
        let (loaded, root) = try workspace.load(terminal: terminal, releaseProducts: ["datenplattform"])
        let platform = LocalPlatform(
            folder: URL(fileURLWithPath: state ?? root.appendingPathComponent(".stellwerk-local").path))
        let binaries = try Binaries.find()
        var environments: [ResolvedEnvironment] = []
        for name in LocalPlatform.environments {
            guard loaded.environments[name] != nil else {
                throw CLIError("the workspace has no environment \(name) (Environments/\(name)); stellwerk up needs it")
            }
            do {
                environments.append(try EnvironmentResolver(workspace: loaded).resolve(name))
            } catch {
                DiagnosticPrinter(terminal: terminal, root: root).printAll(error.diagnostics, to: .standardError)
                throw ExitCode(1)
            }
        }
        try FileManager.default.createDirectory(at: platform.logs, withIntermediateDirectories: true)
        let interrupted = try await UntilStopSignal.run { [environments] in
            try await bringUp(
                platform, environments: environments, workspace: loaded, binaries: binaries, root: root,
                terminal: terminal)
        }
        guard interrupted else { return }
        FileHandle.standardError.write(Data("\nStopping the local platform...\n".utf8))
        let stopped = platform.down()
        FileHandle.standardError.write(Data("Stopped \(stopped.summary).\n".utf8))
        throw ExitCode(130)
    }

    private func bringUp(
        _ platform: LocalPlatform, environments: [ResolvedEnvironment], workspace loaded: Workspace,
        binaries: Binaries, root: URL, terminal: Terminal
    ) async throws {

        let resumed = platform.readProcesses()
        let nodes = environments.flatMap { environment in
            environment.sites.flatMap { site in site.nodes.map { (environment.name, site.name, $0) } }
        }
        // Before anything starts: a failed check leaves nothing running.
        if resumed == nil {
            for (_, _, node) in nodes {
                for instance in node.instances {
                    // The agents would refuse it too, but only after everything else started.
                    if case .package(let package) = instance.source,
                        !FileManager.default.isExecutableFile(atPath: instance.executable)
                    {
                        throw CLIError(
                            "\(instance.service) on \(node.name) needs the Debian package \(package) (\(instance.executable) is missing); install it: sudo apt-get install \(package)"
                        )
                    }
                    for port in instance.ports.values where LocalProcesses.isTaken(host: node.address, port: port) {
                        throw CLIError(
                            "\(node.address):\(port) (\(instance.service) on \(node.name)) is taken by another program; stop it, or `stellwerk down` a platform started elsewhere"
                        )
                    }
                }
            }
        }
        let (url, port) = try await startServer(platform, binaries: binaries, resumed: resumed)
        var processes = platform.readProcesses() ?? LocalPlatform.Processes(port: port, pids: [:])
        let admin = try connection(platform, url: url, tokenFile: platform.adminTokenFile)
        defer { Task { await admin.shutdown() } }
        try await ensurePeople(platform, admin: admin)
        try await recordPolicies(environments, platform: platform, url: url, admin: admin, terminal: terminal)
        try await ensureCertificates(environments, workspace: loaded, platform: platform, admin: admin)
        try await ensureSecrets(environments, platform: platform, admin: admin, terminal: terminal)

        // Agents: join once, start when not running.
        for (environment, site, node) in nodes {
            let pid = try await startAgent(
                node.name, environment: environment, site: site, platform: platform, binaries: binaries, url: url,
                admin: admin, running: processes.pids["agent:\(node.name)"])
            processes.pids["agent:\(node.name)"] = pid
            try platform.write(processes)
        }
        terminal.line("Orchestrator \(url) and \(nodes.count) agents are running (logs: \(platform.logs.path)).")

        // The release: the datenplattform built next to this stellwerk, not a second build.
        let release = try await CreateRelease.register(
            files: [
                ("datenplattform", try ProductBuild.pack(executable: binaries.datenplattform, as: "datenplattform"))
            ],
            migrations: ["datenplattform": try ProductBuild.migrations(of: binaries.datenplattform)],
            version: "local", on: admin)
        terminal.line("Release \(release.manifest.id) of \(binaries.datenplattform.path).")

        try await rollOut(release.manifest.id, to: environments[0], admin: admin, terminal: terminal)
        var gauges = try seed(environments[0], platform: platform, binaries: binaries, root: root, terminal: terminal)
        if promote {
            try await promoteRelease(
                release.manifest.id, into: environments[1], platform: platform, url: url, admin: admin,
                terminal: terminal)
            gauges.merge(
                try seed(environments[1], platform: platform, binaries: binaries, root: root, terminal: terminal)
            ) { $1 }
        }
        try await waitUntilHealthy(promote ? environments : [environments[0]], admin: admin, terminal: terminal)
        // It holds the admin token.
        try PEMFiles.writeSecret(
            platform.environmentScript(url: url), to: platform.folder.appendingPathComponent("env.sh"))
        printSummary(
            environments: promote ? environments : [environments[0]], url: url, platform: platform, gauges: gauges,
            terminal: terminal)
        terminal.line("Stellwerk local platform is ready.")
        if detach {
            terminal.line("It keeps running; stop it with: stellwerk down --state \(platform.folder.path)")
            return
        }
        terminal.line("Press Ctrl-C to stop everything (or run `stellwerk down --state \(platform.folder.path)`).")
        // Also leave when the orchestrator is gone (`stellwerk down` from another terminal), instead
        // of waiting for a Ctrl-C that has nothing left to stop.
        let server = platform.readProcesses()?.pids["server"] ?? 0
        while LocalProcesses.isRunning(server, marker: platform.folder.path) {
            try await Task.sleep(for: .seconds(1))
        }
        let stopped = platform.down()
        terminal.line(
            stopped.isEmpty
                ? "The local platform was stopped; leaving."
                : "The orchestrator has stopped; stopped \(stopped.summary) and leaving.")
    }

    // MARK: Orchestrator and operators

    private func startServer(
        _ platform: LocalPlatform, binaries: Binaries, resumed: LocalPlatform.Processes?
    )
        async throws -> (String, Int)
    {
        let marker = platform.folder.path
        if let resumed, let pid = resumed.pids["server"], LocalProcesses.isRunning(pid, marker: marker) {
            return ("https://127.0.0.1:\(resumed.port)", resumed.port)
        }
        let saved = (try? String(contentsOf: platform.portFile, encoding: .utf8)).flatMap {
            Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        if let saved, LocalProcesses.isTaken(host: "127.0.0.1", port: saved) {
            throw CLIError(
                "127.0.0.1:\(saved), this platform's orchestrator port, is taken by another program; stop it (the agents are joined to that address)"
            )
        }
        try? FileManager.default.removeItem(at: platform.portFile)
        let pid = try LocalProcesses.start(
            binaries.stellwerk.path,
            [
                "server", "--data", platform.serverData.path, "--listen", "127.0.0.1:\(saved ?? 0)",
                "--admin-token-file", platform.adminTokenFile.path, "--port-file", platform.portFile.path,
                // A local platform only: its approver may read the catalog's write token back.
                "--reveal-secrets",
            ], log: platform.logs.appendingPathComponent("orchestrator.log"))
        var processes = resumed ?? LocalPlatform.Processes(port: saved ?? 0, pids: [:])
        processes.pids["server"] = pid
        try platform.write(processes)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let text = try? String(contentsOf: platform.portFile, encoding: .utf8),
                let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                processes.port = port
                try platform.write(processes)
                let log =
                    (try? String(contentsOf: platform.logs.appendingPathComponent("orchestrator.log"), encoding: .utf8))
                    ?? ""
                if let line = log.split(separator: "\n").last(where: { $0.hasPrefix("CA fingerprint") }) {
                    try Data((line.split(separator: " ").last ?? "").utf8).write(to: platform.fingerprintFile)
                }
                return ("https://127.0.0.1:\(port)", port)
            }
            guard LocalProcesses.isRunning(pid, marker: marker) else {
                throw CLIError(
                    "the orchestrator did not start; see \(platform.logs.appendingPathComponent("orchestrator.log").path)"
                )
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CLIError("the orchestrator did not start within a minute; see \(platform.logs.path)/orchestrator.log")
    }

    private func connection(_ platform: LocalPlatform, url: String, tokenFile: URL) throws -> OrchestratorConnection {
        let token = try String(contentsOf: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return try OrchestratorConnection(
            url: url, authority: try String(contentsOf: platform.authorityFile, encoding: .utf8), token: token)
    }

    /// Two people besides the admin: one who requests promotions into local-live, and a second who
    /// approves them. The admin made both, so a promotion the admin requested could not be approved
    /// by either (four eyes: nobody the requester made counts as a second person).
    private func ensurePeople(_ platform: LocalPlatform, admin: OrchestratorConnection) async throws {
        for (file, name, roles) in [
            (
                platform.requesterTokenFile, "erste-person",
                ["local-sandbox": Role.operator, "local-live": .operator]
            ),
            (platform.approverTokenFile, "zweite-person", ["local-live": .approver]),
        ] where !FileManager.default.fileExists(atPath: file.path) {
            let issued = try await admin.send(.createUser(UserRequest(name: name, roles: roles)))
            _ = FileManager.default.createFile(
                atPath: file.path, contents: Data(issued.token.utf8), attributes: [.posixPermissions: 0o600])
        }
    }

    /// The secrets the local sites name, held by the orchestrator: each made once as a random token
    /// that nobody sees. A state folder from a Stellwerk that kept them in `secrets.json` hands its
    /// values over, so the running services keep theirs, and the file goes.
    /// Each local site's proxy serves HTTPS with a certificate for its addresses from the local
    /// platform's own CA, made once and kept by the orchestrator as the site's secrets.
    private func ensureCertificates(
        _ environments: [ResolvedEnvironment], workspace: Workspace, platform: LocalPlatform,
        admin: OrchestratorConnection
    ) async throws {
        let sites = environments.map { ($0.name, ProxyCertificates.sites(of: $0, in: workspace)) }
        guard sites.contains(where: { !$0.1.isEmpty }) else { return }
        let authority = try CertificateAuthority.loadOrCreate(
            in: platform.httpsAuthorityFolder, name: "Stellwerk local HTTPS CA")
        for (environment, proxied) in sites {
            let held = Set(try await admin.send(.secrets(environment)).map(\.name))
            for site in proxied where !held.contains(site.certificateSecret) || !held.contains(site.keySecret) {
                let (chain, key) = try ProxyCertificates.issue(for: site.hosts, by: authority)
                for (name, value) in [(site.certificateSecret, chain), (site.keySecret, key)] {
                    _ = try await admin.send(
                        .setSecret(name, environment: environment, SecretValueRequest(value: value, site: site.site)))
                }
            }
        }
    }

    private func ensureSecrets(
        _ environments: [ResolvedEnvironment], platform: LocalPlatform, admin: OrchestratorConnection,
        terminal: Terminal
    ) async throws {
        let kept = platform.legacySecrets()
        for environment in environments {
            let held = Set(try await admin.send(.secrets(environment.name)).map(\.name))
            for name in environment.secretNames.subtracting(held).sorted() {
                if let value = kept[name] {
                    _ = try await admin.send(
                        .setSecret(name, environment: environment.name, SecretValueRequest(value: value)))
                } else {
                    _ = try await admin.send(
                        .generateSecret(name, environment: environment.name, SecretGenerateRequest(kind: .token)))
                }
            }
        }
        if !kept.isEmpty {
            try FileManager.default.removeItem(at: platform.legacySecretsFile)
            terminal.line("The orchestrator holds the secrets of \(platform.legacySecretsFile.path) now; removed it.")
        }
    }

    /// The orchestrator enforces each environment's policy as recorded, so it is recorded first: the
    /// admin records local-sandbox's; local-live has a promotion source, so its policy needs two people:
    /// zweite-person proposes it and the admin approves.
    private func recordPolicies(
        _ environments: [ResolvedEnvironment], platform: LocalPlatform, url: String, admin: OrchestratorConnection,
        terminal: Terminal
    ) async throws {
        let files = PlanComputation(workspace: workspace, terminal: terminal)
        for environment in environments {
            let policy = try files.policy(environment.name)
            let current = try await admin.send(.policy(environment.name))
            if current.recorded?.policy == policy { continue }
            guard policy.isGoverned || current.recorded?.policy.isGoverned == true else {
                _ = try await admin.send(.proposePolicy(policy, environment: environment.name))
                continue
            }
            let proposer = try connection(platform, url: url, tokenFile: platform.approverTokenFile)
            let proposed = try await proposer.send(.proposePolicy(policy, environment: environment.name))
            await proposer.shutdown()
            guard let digest = proposed.proposal?.digest else { continue }
            _ = try await admin.send(.approvePolicy(digest: digest, environment: environment.name))
            terminal.line(
                "Recorded the policy of \(environment.name): proposed by zweite-person, approved by the admin.")
        }
    }

    // MARK: Agents

    private func startAgent(
        _ node: String, environment: String, site: String, platform: LocalPlatform, binaries: Binaries, url: String,
        admin: OrchestratorConnection, running: Int32?
    ) async throws -> Int32 {
        let data = platform.nodeData(node)
        if let running, LocalProcesses.isRunning(running, marker: data.path) { return running }
        if !FileManager.default.fileExists(atPath: data.appendingPathComponent("identity/node.pem").path) {
            let token = try await admin.send(
                .createJoinToken(JoinTokenRequest(environment: environment, site: site, node: node, ttlSeconds: 600)))
            let tokenFile = platform.folder.appendingPathComponent("\(node).join-token")
            _ = FileManager.default.createFile(
                atPath: tokenFile.path, contents: Data(token.token.utf8), attributes: [.posixPermissions: 0o600])
            defer { try? FileManager.default.removeItem(at: tokenFile) }
            let fingerprint = try String(contentsOf: platform.fingerprintFile, encoding: .utf8)
            let join = try LocalProcesses.start(
                binaries.agent.path,
                ["join", url, "--token-file", tokenFile.path, "--ca-fingerprint", fingerprint, "--data", data.path],
                log: platform.logs.appendingPathComponent("\(node).log"))
            var status: Int32 = 0
            waitpid(join, &status, 0)
            guard status == 0 else {
                throw CLIError(
                    "\(node) could not join; see \(platform.logs.appendingPathComponent("\(node).log").path)")
            }
        }
        return try LocalProcesses.start(
            binaries.agent.path,
            [
                "run", "--data", data.path, "--stop-services", "--heartbeat",
                "2",
            ],
            log: platform.logs.appendingPathComponent("\(node).log"))
    }

    // MARK: Rolling out, promoting, sample data

    /// The plan that brings `release` to `environment`, or `nil` (said so) when it runs it already.
    private func changes(
        _ release: String, in environment: ResolvedEnvironment, admin: OrchestratorConnection, terminal: Terminal,
        forPromotion: Bool = false
    ) async throws -> Plan? {
        let plan = try await PlanComputation(workspace: workspace, terminal: terminal).plan(
            environment.name, release: release, server: admin, forPromotion: forPromotion)
        if plan.isEmpty { terminal.line("\(environment.name) runs \(release) already.") }
        return plan.isEmpty ? nil : plan
    }

    private func rollOut(
        _ release: String, to environment: ResolvedEnvironment, admin: OrchestratorConnection, terminal: Terminal
    ) async throws {
        guard let plan = try await changes(release, in: environment, admin: admin, terminal: terminal) else { return }
        let started = try await admin.send(.startRollout(plan))
        let outcome = try await RolloutFollower(terminal: terminal, quiet: false).follow(started.id, server: admin)
        guard outcome.state == .succeeded else {
            throw CLIError("the rollout to \(environment.name) \(outcome.state.rawValue): \(outcome.message)")
        }
    }

    private func promoteRelease(
        _ release: String, into environment: ResolvedEnvironment, platform: LocalPlatform, url: String,
        admin: OrchestratorConnection, terminal: Terminal
    ) async throws {
        guard
            let plan = try await changes(release, in: environment, admin: admin, terminal: terminal, forPromotion: true)
        else { return }
        let requester = try connection(platform, url: url, tokenFile: platform.requesterTokenFile)
        let requested = try await requester.send(
            .requestPromotion(PromotionRequest(plan: plan, dryRun: false, message: "stellwerk up --promote")))
        await requester.shutdown()
        for line in PromotionFollower.render(requested, terminal: terminal) { terminal.line(line) }
        if requested.state == .waiting {
            let approver = try connection(platform, url: url, tokenFile: platform.approverTokenFile)
            _ = try await approver.send(.approvePromotion(requested.id, reason: "lokale Erprobung"))
            await approver.shutdown()
            terminal.line("Requested by erste-person, approved by a second person (zweite-person).")
        }
        let outcome = try await PromotionFollower.follow(requested, server: admin, quiet: false)
        guard outcome.state == .succeeded else {
            throw CLIError("the promotion to \(environment.name) \(outcome.state.rawValue): \(outcome.message)")
        }
    }

    /// Loads each site's synthetic gauges, and the sample catalog into the environment's catalog, once,
    /// with the services' own import commands; answers the Datastream of each site's first gauge. The catalog's is
    /// `datenplattform catalog import` run in the instance's folder with the configuration its agent
    /// rendered: the same checks as the API, and the running catalog sees the new datasets at once.
    private func seed(
        _ environment: ResolvedEnvironment, platform: LocalPlatform, binaries: Binaries, root: URL, terminal: Terminal
    ) throws -> [String: Int] {
        let gauges = try seedGauges(environment, platform: platform, binaries: binaries, root: root, terminal: terminal)
        try seedTimetable(environment, platform: platform, binaries: binaries, terminal: terminal)
        guard
            let node = environment.sites.flatMap(\.nodes).first(where: { node in
                node.instances.contains { $0.service == "catalog" }
            })
        else { return gauges }
        let folder = platform.nodeData(node.name).appendingPathComponent("instances/catalog/current")
        let seed = root.appendingPathComponent("Services/Seed/catalog.json")
        let log = platform.logs.appendingPathComponent("seed-\(environment.name).log")
        let output = try LocalProcesses.run(
            binaries.datenplattform.path,
            ["catalog", "import", seed.path, "--config", "catalog.yaml", "--only-if-empty"], in: folder, log: log)
        guard output.status == 0 else {
            throw CLIError("loading the sample catalog into \(environment.name) failed; see \(log.path)")
        }
        let line = output.text.split(separator: "\n").last.map(String.init) ?? ""
        terminal.line("Sample catalog for \(environment.name): \(line)")
        return gauges
    }

    /// Loads each site's synthetic gauges into its sensor service once, the same way (the mobility
    /// service may have made its Datastreams there first); answers the Datastream of each site's
    /// first gauge, by `ENVIRONMENT/SITE`.
    private func seedGauges(
        _ environment: ResolvedEnvironment, platform: LocalPlatform, binaries: Binaries, root: URL, terminal: Terminal
    ) throws -> [String: Int] {
        var first: [String: Int] = [:]
        let gauges = root.appendingPathComponent("Services/Seed/gauges.json")
        for site in environment.sites {
            for node in site.nodes where node.instances.contains(where: { $0.service == "sensors" }) {
                let folder = platform.nodeData(node.name).appendingPathComponent("instances/sensors/current")
                let log = platform.logs.appendingPathComponent("seed-\(environment.name)-\(site.name)-sensors.log")
                let output = try LocalProcesses.run(
                    binaries.datenplattform.path,
                    [
                        "sensors", "seed", gauges.path, "--site", site.name, "--config", "sensors.yaml",
                        "--only-missing",
                    ], in: folder, log: log)
                guard output.status == 0 else {
                    throw CLIError(
                        "loading the synthetic gauges into \(site.name) (\(environment.name)) failed; see \(log.path)")
                }
                let line = output.text.split(separator: "\n").last.map(String.init) ?? ""
                terminal.line("Synthetic gauges for \(site.name) (\(environment.name)): \(line)")
                if let range = line.range(of: "the first gauge is Datastream "),
                    let id = Int(line[range.upperBound...])
                {
                    first["\(environment.name)/\(site.name)"] = id
                }
            }
        }
        return first
    }

    /// Imports a synthetic regional timetable (`datenplattform mobility synthetic-feed`, from 1 January
    /// of this year for two years) into each mobility service once, the same way.
    private func seedTimetable(
        _ environment: ResolvedEnvironment, platform: LocalPlatform, binaries: Binaries, terminal: Terminal
    ) throws {
        for site in environment.sites {
            for node in site.nodes where node.instances.contains(where: { $0.service == "mobility" }) {
                let folder = platform.nodeData(node.name).appendingPathComponent("instances/mobility/current")
                let log = platform.logs.appendingPathComponent("seed-\(environment.name)-\(site.name)-mobility.log")
                let feed = platform.folder.appendingPathComponent("synthetic-gtfs.zip")
                let written = try LocalProcesses.run(
                    binaries.datenplattform.path, ["mobility", "synthetic-feed", feed.path], in: folder, log: log)
                let output =
                    written.status == 0
                    ? try LocalProcesses.run(
                        binaries.datenplattform.path,
                        ["mobility", "import", feed.path, "--config", "mobility.yaml", "--only-if-empty"], in: folder,
                        log: log) : written
                try? FileManager.default.removeItem(at: feed)
                guard output.status == 0 else {
                    throw CLIError(
                        "loading the synthetic timetable into \(site.name) (\(environment.name)) failed; see \(log.path)"
                    )
                }
                let line = output.text.split(separator: "\n").last.map(String.init) ?? ""
                terminal.line("Synthetic timetable for \(site.name) (\(environment.name)): \(line)")
            }
        }
    }

    /// Waits until every instance of `environments` runs its desired release healthy (after a resume,
    /// the agents start the services again on their own).
    private func waitUntilHealthy(
        _ environments: [ResolvedEnvironment], admin: OrchestratorConnection, terminal: Terminal
    )
        async throws
    {
        // Reports from before this run (say, before `stellwerk down`) do not count.
        let started = Date()
        let deadline = started.addingTimeInterval(180)
        var waiting: [String] = []
        while Date() < deadline {
            waiting = []
            let status = try await admin.send(.status())
            for environment in status.environments where environments.contains(where: { $0.name == environment.name }) {
                for node in environment.nodes {
                    if node.connection != .connected || (node.lastSeen ?? .distantPast) < started {
                        waiting.append("\(node.node) (not reported yet)")
                    }
                    for instance in node.instances
                    where instance.state != .running
                        || (instance.desiredRelease.map { $0 != instance.release } ?? false)
                    {
                        waiting.append("\(instance.service) on \(node.node) (\(instance.state.rawValue))")
                    }
                }
            }
            if waiting.isEmpty { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw CLIError(
            "still not healthy after 3 minutes: \(waiting.joined(separator: ", ")); see the logs in the state folder")
    }

    /// The ids of the dashboards in an instance's rendered `dashboards.yaml` (the visualization
    /// blueprint's), read from the lines `  - id: ID` that start each dashboard.
    static func dashboardIDs(_ instance: ResolvedInstance) -> [String] {
        guard let file = instance.configFiles.first(where: { $0.path == "dashboards.yaml" }) else { return [] }
        return file.content.split(separator: "\n").compactMap { line in
            line.hasPrefix("  - id: ") ? String(line.dropFirst("  - id: ".count)) : nil
        }
    }

    /// Whether a mobility instance's rendered configuration names a parking source.
    static func hasParking(_ instance: ResolvedInstance) -> Bool {
        guard let file = instance.configFiles.first(where: { $0.path == "mobility.yaml" }) else { return false }
        return file.content.contains("kaiserslautern_xml: \"http") || file.content.contains("parkapi_sources: \"http")
    }

    private func printSummary(
        environments: [ResolvedEnvironment], url: String, platform: LocalPlatform, gauges: [String: Int],
        terminal: Terminal
    ) {
        var rows: [[String]] = []
        for environment in environments {
            for site in environment.sites {
                for node in site.nodes {
                    for instance in node.instances {
                        if let port = instance.ports["mqtt"] {
                            rows.append([environment.name, site.name, "MQTT broker", "mqtt://\(node.address):\(port)"])
                            continue
                        }
                        // The proxy itself: the addresses it serves are the other services' rows.
                        if instance.ports["https"] != nil { continue }
                        guard let port = instance.ports["http"] else { continue }
                        // Through the site's proxy where it has one, as citizens reach it.
                        let route = site.routes.first { $0.service == instance.service }
                        let base = route.map { String($0.url.dropLast()) } ?? "http://\(node.address):\(port)"
                        switch instance.service {
                        case "catalog":
                            rows.append([
                                environment.name, site.name, "catalog API", "\(base)/api/3/action/package_search",
                            ])
                            rows.append([environment.name, site.name, "DCAT-AP.de", "\(base)/catalog.ttl"])
                        case "portal": rows.append([environment.name, site.name, "portal", "\(base)/"])
                        case "sensors":
                            rows.append([environment.name, site.name, "SensorThings API", "\(base)/v1.1"])
                        case "mobility":
                            // The synthetic timetable's station, its feed, and the realtime it carries.
                            rows.append([
                                environment.name, site.name, "departures", "\(base)/api/stops/hbf/departures",
                            ])
                            rows.append([environment.name, site.name, "GTFS feed", "\(base)/gtfs/feed.zip"])
                            rows.append([
                                environment.name, site.name, "GTFS-Realtime", "\(base)/gtfs-rt/trip-updates.pb",
                            ])
                            if Self.hasParking(instance) {
                                rows.append([
                                    environment.name, site.name, "parking (ParkAPI)",
                                    "\(base)/api/parking/v3/parking-sites",
                                ])
                            }
                        case "visualization":
                            // The site's first seeded gauge, over the last week, and the site's dashboards.
                            if let gauge = gauges["\(environment.name)/\(site.name)"] {
                                rows.append([
                                    environment.name, site.name, "water-level chart",
                                    "\(base)/datastreams/\(gauge)?range=7d",
                                ])
                            }
                            for id in Self.dashboardIDs(instance) {
                                rows.append([environment.name, site.name, "dashboard", "\(base)/dashboards/\(id)"])
                            }
                        default: rows.append([environment.name, site.name, instance.service, base])
                        }
                    }
                }
            }
        }
        terminal.line()
        terminal.table(header: ["ENVIRONMENT", "SITE", "SERVICE", "URL"], rows: rows)
        terminal.line()
        if environments.contains(where: { $0.sites.contains { !$0.routes.isEmpty } }) {
            terminal.line(
                "HTTPS certificates are signed by the local CA \(platform.httpsAuthorityFile.path): trust it in a browser, "
                    + "or curl --cacert \(platform.httpsAuthorityFile.path) URL")
        }
        terminal.line("Orchestrator: \(url)  (to use stellwerk with it: source \(platform.folder.path)/env.sh)")
        // The token itself only to a person at a terminal; a log gets where it is (a 0600 file).
        let approver = (try? String(contentsOf: platform.approverTokenFile, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let signIn =
            isatty(STDOUT_FILENO) == 1 && approver != nil
            ? "sign in as zweite-person (approver in local-live) with \(approver ?? "")"
            : "sign in as zweite-person (approver in local-live) with the token in \(platform.approverTokenFile.path)"
        terminal.line(
            "Console: \(url)/console  (\(signIn); as erste-person with \(platform.requesterTokenFile.path))")
        if let environment = environments.first(where: { environment in
            environment.sites.flatMap(\.nodes).flatMap(\.instances).contains { $0.service == "catalog" }
        }) {
            terminal.line(
                "Catalog write token (the CKAN Authorization header), after sourcing env.sh: "
                    + "stellwerk secret show catalog-admin-token --env \(environment.name)")
        }
    }
}

/// `stellwerk down`: stop what `stellwerk up` started.
struct DownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop the local platform `stellwerk up` started: agents and their services, then the orchestrator.",
        discussion: """
            The state folder stays, so `stellwerk up` resumes with the same orchestrator and nodes; \
            delete the folder to start from scratch.

            Example:
              stellwerk down
            """)
    @OptionGroup var workspace: WorkspaceOption
    @Option(help: ArgumentHelp("The state folder (default: .stellwerk-local in the checkout).", valueName: "DIR"))
    var state: String?

    func run() throws {
        let folder =
            try state.map { URL(fileURLWithPath: $0) } ?? workspace.rootURL().appendingPathComponent(".stellwerk-local")
        let stopped = LocalPlatform(folder: folder).down()
        print(
            stopped.isEmpty ? "Nothing of \(folder.path) was running." : "Stopped \(stopped.summary) of \(folder.path)."
        )
    }
}

/// The executables `stellwerk up` runs: the ones built next to this `stellwerk`.
struct Binaries {
    var stellwerk: URL
    var agent: URL
    var datenplattform: URL

    static func find() throws -> Binaries {
        let folder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let binaries = Binaries(
            stellwerk: folder.appendingPathComponent("stellwerk"),
            agent: folder.appendingPathComponent("stellwerk-agent"),
            datenplattform: folder.appendingPathComponent("datenplattform"))
        for binary in [binaries.agent, binaries.datenplattform]
        where !FileManager.default.isExecutableFile(atPath: binary.path) {
            throw CLIError(
                "\(binary.path) is missing; build everything first with `swift build` (scripts/run does that)")
        }
        return binaries
    }
}

/// Ctrl-C or SIGTERM while `stellwerk up` runs end it through the same service-lifecycle path as
/// they end the server, the agents and the services: the work is cancelled, then `up` stops what it
/// started.
enum UntilStopSignal {
    /// Runs `work`; returns `true` when a signal ended it, `false` when it finished on its own.
    static func run(_ work: @escaping @Sendable () async throws -> Void) async throws -> Bool {
        let work = Work(body: work)
        var logger = Logger(label: "stellwerk.up")
        logger.logLevel = .warning
        try await ServiceGroup(
            configuration: .init(
                services: [.init(service: work, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        ).run()
        return work.interrupted.withLock { $0 }
    }

    private final class Work: Service {
        let body: @Sendable () async throws -> Void
        let interrupted = Mutex(false)

        init(body: @escaping @Sendable () async throws -> Void) { self.body = body }

        func run() async throws {
            do {
                try await cancelWhenGracefulShutdown(body)
            } catch  where Task.isShuttingDownGracefully {
                // Whatever the cancelled work threw, the signal is why it ended.
                interrupted.withLock { $0 = true }
            }
            if Task.isShuttingDownGracefully { interrupted.withLock { $0 = true } }
        }
    }
}
