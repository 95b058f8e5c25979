import Foundation
import Model
import OrchestratorClient
import StellwerkAPI

/// The local platform's state folder: the orchestrator's data, each node's agent data, the
/// operators' tokens, the secrets file and which processes run. `stellwerk up` fills it, `stellwerk
/// down` empties its process list; running `up` again with the same folder resumes.
struct LocalPlatform {
    let folder: URL
    static let environments = ["local-sandbox", "local-live"]

    var serverData: URL { folder.appendingPathComponent("server") }
    var adminTokenFile: URL { folder.appendingPathComponent("admin.token") }
    var approverTokenFile: URL { folder.appendingPathComponent("approver.token") }
    var secretsFile: URL { folder.appendingPathComponent("secrets.json") }
    var processesFile: URL { folder.appendingPathComponent("processes.json") }
    var portFile: URL { folder.appendingPathComponent("server.port") }
    var fingerprintFile: URL { folder.appendingPathComponent("ca.fingerprint") }
    var authorityFile: URL { serverData.appendingPathComponent("ca/ca.pem") }
    var logs: URL { folder.appendingPathComponent("logs") }
    func nodeData(_ node: String) -> URL { folder.appendingPathComponent("nodes/\(node)") }

    /// What runs, by role (`server`, `agent:NODE`), with the orchestrator's port.
    struct Processes: Codable {
        var port: Int
        var pids: [String: Int32]
    }

    func readProcesses() -> Processes? {
        guard let data = FileManager.default.contents(atPath: processesFile.path) else { return nil }
        return try? JSONDecoder().decode(Processes.self, from: data)
    }

    func write(_ processes: Processes) throws {
        try JSONEncoder().encode(processes).write(to: processesFile, options: .atomic)
    }

    /// Stops every process of the platform: agents first (each stops its services), then the
    /// orchestrator, then any service left working in the folder. Returns how many were stopped.
    @discardableResult
    func down() -> Int {
        var stopped = 0
        let marker = folder.path
        if let processes = readProcesses() {
            for (role, pid) in processes.pids.sorted(by: { $0.key > $1.key }) where role.hasPrefix("agent:") {
                if LocalProcesses.isRunning(pid, marker: marker) { stopped += 1 }
                LocalProcesses.stop(pid, marker: marker)
            }
            if let server = processes.pids["server"] {
                if LocalProcesses.isRunning(server, marker: marker) { stopped += 1 }
                LocalProcesses.stop(server, marker: marker)
            }
        }
        // Services whose agent did not stop them (it was killed): they work inside our folder.
        for pid in LocalProcesses.working(in: folder.appendingPathComponent("nodes")) {
            kill(pid, SIGTERM)
            stopped += 1
        }
        try? FileManager.default.removeItem(at: processesFile)
        return stopped
    }

    func secret(_ name: String) -> String? {
        guard let data = FileManager.default.contents(atPath: secretsFile.path),
            let values = try? JSONSerialization.jsonObject(with: data) as? [String: String]
        else { return nil }
        return values[name]
    }

    /// Creates the secrets the local sites use, once, readable by this user only.
    func ensureSecrets() throws {
        guard !FileManager.default.fileExists(atPath: secretsFile.path) else { return }
        var bytes = [UInt8](repeating: 0, count: 24)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        let token = bytes.lowercaseHex
        let data = try JSONSerialization.data(withJSONObject: ["catalog-admin-token": token], options: [.sortedKeys])
        _ = FileManager.default.createFile(
            atPath: secretsFile.path, contents: data, attributes: [.posixPermissions: 0o600])
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
