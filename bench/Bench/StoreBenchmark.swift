import ArgumentParser
import Foundation
import StellwerkAPI
import Store
import TestSupport

/// Agents' status reports written at rising rates into each store (issue: 1,000 reports/s — 10,000
/// agents every 10 s — using at most a quarter of one core).
struct StoreBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Write node reports at rising rates into SQLite and PostgreSQL; print reports/s and CPU per report.",
        discussion: """
            Each report is what an agent sends: its node and four service instances with their specs, state
            and health, JSON-encoded and upserted as the orchestrator does. Reports are paced to the target
            rate by concurrent writers. CPU is this process's (user + system) and, for PostgreSQL, the
            server's processes too, as a share of one core. The same paced loop without the store is
            measured first; "store CPU/report" is the difference, the cost the store adds per report.

            Example:
              swift run -c release stellwerk-bench store --rates 500,1000,2000 --seconds 5
            """)

    @Option(help: "Which stores: sqlite, postgres or both.") var kind = "both"
    @Option(help: "Target rates in reports per second, comma-separated.") var rates = "250,500,1000,2000,4000"
    @Option(help: "Seconds per rate.") var seconds = 5.0
    @Option(help: "Simulated agents (nodes) the reports come from.") var agents = 10_000
    @Option(help: "Concurrent writers (reports in flight, as from many agents at once).") var writers = 128

    func run() async throws {
        let targets = rates.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !targets.isEmpty, targets.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--rates takes positive numbers")
        }
        let kinds = kind == "both" ? ["sqlite", "postgres"] : [kind]
        for kind in kinds {
            let (location, serverUser): (StoreLocation, uid_t?)
            switch kind {
            case "sqlite":
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "stellwerk-bench-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                (location, serverUser) = (.sqlite(path: folder.appendingPathComponent("state.sqlite").path), nil)
            case "postgres":
                let server = try await PostgresServer.shared()
                (location, serverUser) = (
                    .postgres(url: try await server.createDatabase()), getpwnam("postgres")?.pointee.pw_uid
                )
            default:
                throw ValidationError("--kind is sqlite, postgres or both")
            }
            let store = try await StateStore.open(location, connections: 4)
            defer { store.close() }
            try await registerNodes(store)
            print("\(kind): \(agents) agents, 4 instances per report, \(writers) writers, \(Int(seconds)) s per rate")
            print("  target/s  achieved/s  store CPU/report  store cores  bench loop cores  server cores  p99 write")
            for target in targets {
                let baseline = try await measure(nil, rate: target, serverUser: nil)
                let result = try await measure(store, rate: target, serverUser: serverUser)
                let storeMicroseconds = max(
                    0, result.clientMicrosecondsPerReport - baseline.clientMicrosecondsPerReport)
                print(
                    String(
                        format: "  %8d  %10.0f  %13.0f µs  %11.3f  %16.3f  %12@  %6.1f ms", target, result.achieved,
                        storeMicroseconds, storeMicroseconds * result.achieved / 1e6, baseline.clientCores,
                        result.serverCores.map { String(format: "%.3f", $0) } ?? "-", result.p99Milliseconds))
            }
        }
        print("target: 1,000 reports/s at <= 0.25 client cores per store")
    }

    private func registerNodes(_ store: StateStore) async throws {
        for index in 0..<agents {
            try await store.upsertNode(
                NodeRecord(
                    environment: "live", name: "node-\(index)", site: "site-\(index % 50)",
                    address: "127.1.\(index / 250).\(index % 250)",
                    labels: ["role": "app"], connection: .connected),
                actor: "bench")
        }
    }

    private static func report(node: Int) -> NodeReport {
        let instances = ["catalog", "portal", "sensors", "visualization"].enumerated().map { offset, service in
            let port = 8101 + offset
            let spec = InstanceSpec(
                service: service, blueprint: service, release: "r-2026.11.3",
                artifact: ArtifactReference(
                    component: "datenplattform", sha256: String(repeating: "ab", count: 32), url: nil,
                    executable: "datenplattform"),
                arguments: [service, "--config", "\(service).yaml"],
                configFiles: [
                    ConfigFile(
                        path: "\(service).yaml", mode: 0o600, content: String(repeating: "key: value\n", count: 20),
                        sha256: String(repeating: "ef", count: 32))
                ],
                configDigest: String(repeating: "cd", count: 32),
                parameters: ["port": .value(String(port)), "log_level": .value("info")], ports: ["http": port],
                health: HealthCheckSpec(
                    probe: .http(port: port, path: "/health", status: 200), intervalSeconds: 10, timeoutSeconds: 2,
                    retries: 3, startPeriodSeconds: 20),
                migrations: nil, stopGraceSeconds: 10)
            // As agents report: config files by digest, never their contents.
            return InstanceReport(spec: spec.reported, state: .running, health: "ok", lastError: nil, drift: [])
        }
        return NodeReport(node: "node-\(node)", environment: "live", desiredSerial: 7, instances: instances)
    }

    private struct Result {
        var achieved: Double
        var clientMicrosecondsPerReport: Double
        var clientCores: Double
        var serverCores: Double?
        var p99Milliseconds: Double
    }

    /// Runs the paced loop for `seconds`; with `store` nil it builds each report but writes nothing.
    private func measure(_ store: StateStore?, rate: Int, serverUser: uid_t?) async throws -> Result {
        let total = Int(Double(rate) * seconds)
        let clock = ContinuousClock()
        let start = clock.now
        let cpuBefore = CPU.process()
        let serverBefore = serverUser.map(CPU.user)
        let agents = self.agents
        let writers = self.writers
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var latencies: [Double] = []
                    var index = writer
                    while index < total {
                        let due = start + .seconds(Double(index) / Double(rate))
                        if clock.now < due { try await Task.sleep(until: due, clock: clock) }
                        let began = clock.now
                        let report = Self.report(node: index % agents)
                        if let store { try await store.recordReport(report) }
                        let took = clock.now - began
                        latencies.append(
                            Double(took.components.attoseconds) / 1e15 + Double(took.components.seconds) * 1000)
                        index += writers
                    }
                    return latencies
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all.sorted()
        }
        let elapsed = clock.now - start
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let cpu = CPU.process() - cpuBefore
        let server = serverUser.map { CPU.user($0) - (serverBefore ?? 0) }
        return Result(
            achieved: Double(total) / wall, clientMicrosecondsPerReport: cpu / Double(total) * 1e6,
            clientCores: cpu / wall,
            serverCores: server.map { $0 / wall },
            p99Milliseconds: latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, latencies.count * 99 / 100)])
    }
}

/// CPU time in seconds, from the kernel's own accounting.
enum CPU {
    /// This process's user + system time.
    static func process() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// User + system time of every live process of `user` (the PostgreSQL server's), from /proc.
    static func user(_ user: uid_t) -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var total = 0.0
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
            var info = stat()
            guard stat("/proc/\(entry)", &info) == 0, info.st_uid == user,
                let text = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = text.lastIndex(of: ")")
            else { continue }
            let fields = text[text.index(after: close)...].split(separator: " ")
            // After the command: state is field 3; utime and stime are fields 14 and 15.
            guard fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) else { continue }
            total += (utime + stime) / ticks
        }
        return total
    }
}
