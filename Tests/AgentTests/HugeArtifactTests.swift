import AgentCore
import Artifacts
import Foundation
import HTTPTransport
import StellwerkAPI
import TestSupport
import Testing

/// A release whose archive holds one 1.2 GiB file (issue #17, scenario 6). The agent used to read
/// the whole archive into memory twice over (2.4 GiB) before its per-entry limit refused it, and the
/// running service did not answer afterwards. Now the agent hashes and reads the archive in pieces:
/// it refuses the release with the reason, holds a few megabytes doing so, and the running release
/// goes on answering, untouched.
@Suite struct HugeArtifactTests {
    @Test func aHugeArtifact_isRefusedInLittleMemory_andTheRunningReleaseKeepsAnswering() async throws {
        let offline = try OfflineNode()
        var node = offline.node
        let first = try await offline.apply(node.instance())
        #expect(first.status == 0, "\(first.standardOutput)\(first.standardError)")
        let running = try #require(try node.runningPID())

        // The next release's artifact: one file of 1.2 GiB (sparse, so the disk holds none of it).
        let huge = offline.folder.appendingPathComponent("huge.tar").path
        try SparseArchive.write(to: huge, entry: "bin/service", size: 1_288_490_189)
        node.sha256 = try FileDigest.sha256(ofFile: huge)
        try FileManager.default.moveItem(
            atPath: huge, toPath: node.artifacts.appendingPathComponent("\(node.sha256).tar").path)
        let desired = offline.folder.appendingPathComponent("desired-huge.json")
        try JSONEncoder().encode(try node.desired([node.instance(release: "r2", config: "greeting: riesig\n")]))
            .write(to: desired)

        let output = offline.folder.appendingPathComponent("huge.out").path
        let (status, peak) = try await offloaded {
            try Spawn.runSamplingMemory(
                ProcessRunner.productsFolder.appendingPathComponent("stellwerk-agent").path,
                ["apply", "--desired", desired.path] + offline.common, standardOutput: output,
                standardError: output + ".err")
        }
        let printed = try String(contentsOfFile: output, encoding: .utf8)
        #expect(status == 1, "\(printed)")
        let report = try JSONDecoder().decode(NodeReport.self, from: Data(printed.utf8))
        let error = report.instances.first?.lastError ?? ""
        #expect(error.contains("bin/service") && error.contains("more than the limit"), "\(error)")
        // Hashing and reading headers in pieces: its heap stays far from the archive's size.
        #expect(
            peak > 0 && peak < 100_000_000, "the agent's heap reached \(peak / 1_000_000) MB for a 1.2 GiB artifact")

        // The old release still runs, the same process, and answers; nothing of the new one was left.
        #expect(try node.runningPID() == running)
        #expect(kill(running, 0) == 0)
        // Asked again when a connection breaks: on CI's loaded machine one did, while the service ran.
        try await waitUntil("the old release answers its health check") {
            (try? await HTTPExchange().fetch("http://127.0.0.1:\(node.port)/health", timeout: .seconds(30)))?.status
                == 200
        }
        let releases = try FileManager.default.contentsOfDirectory(
            atPath: node.data.appendingPathComponent("instances/catalog/releases").path)
        #expect(releases.allSatisfy { $0.hasPrefix("r1-") }, "\(releases)")
        try await offline.stopAll()
    }
}
