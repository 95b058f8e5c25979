import Foundation
import Model
import OrchestratorClient
import StellwerkAPI
import WorkspaceFiles

/// The local platform's state folder: the orchestrator's data, each node's agent data, the
/// operators' tokens and which processes run (secrets are the orchestrator's). `stellwerk up` fills it, `stellwerk
/// down` empties its process list; running `up` again with the same folder resumes.
struct LocalPlatform {
    let folder: URL
    static let environments = ["local-sandbox", "local-live"]

    var serverData: URL { folder.appendingPathComponent("server") }
    var adminTokenFile: URL { folder.appendingPathComponent("admin.token") }
    var approverTokenFile: URL { folder.appendingPathComponent("approver.token") }
    var requesterTokenFile: URL { folder.appendingPathComponent("operator.token") }
    /// Where an older `stellwerk up` kept the local secrets (now the orchestrator's).
    var legacySecretsFile: URL { folder.appendingPathComponent("secrets.json") }
    var processesFile: URL { folder.appendingPathComponent("processes.json") }
    var portFile: URL { folder.appendingPathComponent("server.port") }
    var fingerprintFile: URL { folder.appendingPathComponent("ca.fingerprint") }
    var authorityFile: URL { serverData.appendingPathComponent("ca/ca.pem") }
    /// The CA that signs the local sites' HTTPS certificates (`https-ca/ca.pem` is for browsers and
    /// `curl --cacert` to trust): another than the orchestrator's, which vouches for agents.
    var httpsAuthorityFolder: URL { folder.appendingPathComponent("https-ca") }
    var httpsAuthorityFile: URL { httpsAuthorityFolder.appendingPathComponent("ca.pem") }
    var logs: URL { folder.appendingPathComponent("logs") }
    func nodeData(_ node: String) -> URL { folder.appendingPathComponent("nodes/\(node)") }

    /// What runs, by role (`server`, `agent:NODE`), with the orchestrator's port.
    struct Processes: Codable {
        var port: Int
        var pids: [String: Int32]
    }

    /// The process list, or `nil` when nothing was started (or the file is unreadable: then there is
    /// nothing `up` could resume or `down` could stop by it).
    func readProcesses() -> Processes? {
        try? JSONFiles.read(Processes.self, from: processesFile.path, what: "process list", limit: 1 << 20)
    }

    func write(_ processes: Processes) throws {
        try JSONFiles.write(processes, to: processesFile.path)
    }

    /// What `down` stopped.
    struct Stopped {
        var orchestrator = false
        var agents = 0
        var services = 0

        var isEmpty: Bool { !orchestrator && agents == 0 && services == 0 }

        /// Such as "the orchestrator, 3 agents and 6 services".
        var summary: String {
            func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
            let parts =
                (orchestrator ? ["the orchestrator"] : [])
                + (agents > 0 ? [count(agents, "agent")] : []) + (services > 0 ? [count(services, "service")] : [])
            guard let last = parts.last else { return "nothing" }
            return parts.count == 1 ? last : parts.dropLast().joined(separator: ", ") + " and " + last
        }
    }

    /// Stops every process of the platform: agents first (each stops its services), then the
    /// orchestrator, then any service left working in the folder.
    @discardableResult
    func down() -> Stopped {
        var stopped = Stopped()
        let marker = folder.path
        let nodes = folder.appendingPathComponent("nodes")
        // A service may run several processes (nginx's workers): each is counted once, by the session
        // its agent started it in.
        stopped.services = Set(LocalProcesses.working(in: nodes).map(LocalProcesses.session)).count
        if let processes = readProcesses() {
            for (role, pid) in processes.pids.sorted(by: { $0.key > $1.key }) where role.hasPrefix("agent:") {
                if LocalProcesses.isRunning(pid, marker: marker) { stopped.agents += 1 }
                LocalProcesses.stop(pid, marker: marker)
            }
            if let server = processes.pids["server"] {
                stopped.orchestrator = LocalProcesses.isRunning(server, marker: marker)
                LocalProcesses.stop(server, marker: marker)
            }
        }
        // Services whose agent did not stop them (it was killed): they work inside our folder.
        for pid in LocalProcesses.working(in: nodes) { kill(pid, SIGTERM) }
        try? FileManager.default.removeItem(at: processesFile)
        return stopped
    }

    /// Secret values an older `stellwerk up` kept here, by name; the orchestrator holds them now.
    func legacySecrets() -> [String: String] {
        guard let data = FileManager.default.contents(atPath: legacySecretsFile.path),
            let values = try? JSONSerialization.jsonObject(with: data) as? [String: String]
        else { return [:] }
        return values
    }

    /// Lines to paste into a shell so `stellwerk` talks to this orchestrator.
    func environmentScript(url: String) -> String {
        let token =
            (try? String(contentsOf: adminTokenFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            ?? ""
        return """
            export STELLWERK_SERVER=\(url)
            export STELLWERK_TOKEN=\(token)
            export STELLWERK_CA=\(authorityFile.path)

            """
    }
}
