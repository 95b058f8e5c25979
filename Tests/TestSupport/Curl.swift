import Foundation

/// curl from the Debian package, as a client outside Stellwerk asks: what it saved as the body
/// (`-o`), what `-w` made it print, and its exit status (60: a certificate it does not trust).
package enum Curl {
    package struct Result: Sendable {
        package var exitStatus: Int32
        package var body: String
        package var writtenOut: String
        /// The HTTP status `-w %{http_code}` printed; 0 when there was no answer.
        package var status: Int { Int(writtenOut) ?? 0 }
    }

    package static func run(_ arguments: [String], writeOut: String = "%{http_code}") async throws -> Result {
        let folder = try Fixtures.temporaryFolder("curl")
        let body = folder.appendingPathComponent("body").path
        let written = folder.appendingPathComponent("written").path
        let status = try await offloaded {
            try Spawn.run(
                "/usr/bin/curl", ["-sS", "--max-time", "20", "-o", body, "-w", writeOut] + arguments,
                standardOutput: written, standardError: "/dev/null"
            ).status
        }
        func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        return Result(exitStatus: status, body: read(body), writtenOut: read(written))
    }
}
