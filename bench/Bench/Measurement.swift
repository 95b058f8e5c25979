import Foundation
import HTTPTransport
import TestSupport

/// Wall-clock and memory readings for one benchmark run.
enum Measurement {
    /// Seconds `body` took, measured with the monotonic clock.
    /// `850 ms` below a second, `2.31 s` above.
    static func duration(_ seconds: Double) -> String {
        seconds < 1 ? String(format: "%.0f ms", seconds * 1000) : String(format: "%.2f s", seconds)
    }

    static func seconds<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let clock = ContinuousClock()
        var result: T?
        let elapsed = try clock.measure { result = try body() }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        // `result` is always set once measure returns without throwing.
        guard let result else { preconditionFailure("measure returned without running its body") }
        return (result, seconds)
    }

    /// The process's peak resident set size so far, in bytes.
    static var peakResidentBytes: Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    /// The process's current resident set size, in bytes, from /proc.
    static var residentBytes: Int { ProcessStatus.bytes("VmRSS") ?? 0 }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    /// Decimal megabytes, the unit the targets in the issues are written in (1 MB = 10^6 bytes).
    static func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }

    static func milliseconds(_ seconds: Double) -> String {
        String(format: "%.1f ms", seconds * 1000)
    }
}

/// A `datenplattform` service the benchmark starts as its own process and waits for.
enum BenchService {
    /// Starts `datenplattform ARGUMENTS` with its output in `log`, and waits up to ten seconds for
    /// `health` to answer 200.
    static func start(_ arguments: [String], log: URL, health: String, http: HTTPExchange) async throws -> pid_t {
        let binary = ProcessRunner.productsFolder.appendingPathComponent("datenplattform").path
        let pid = try Spawn.run(binary, arguments, standardOutput: log.path, wait: false).pid
        for _ in 0..<100 {
            if (try? await http.fetch(health, timeout: .seconds(1)))?.status == 200 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return pid
    }

    static func stop(_ pid: pid_t) {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}
