import Artifacts
import Foundation
import StellwerkAPI
import TestSupport
import Testing

/// Offline transfer: a release leaves one orchestrator as a bundle file and enters another only when
/// its signing key is trusted and nothing in it was altered.
@Suite(.serialized) struct ReleaseBundleTests {
    @Test func bundle_entersAnotherOrchestrator_onlyWithTheTrustedKey_andUnaltered() async throws {
        let origin = try LocalCluster(block: 43)
        let offline = try LocalCluster(block: 44)
        defer {
            origin.tearDown()
            offline.tearDown()
        }
        try await origin.startServer()
        try await offline.startServer()
        let release = try await origin.release(version: "2026.11.1", migrations: ["0001"])
        let bundle = origin.root.appendingPathComponent("pegel.stellwerk").path
        let exported = try await origin.stellwerk(["release", "export", release, bundle])
        #expect(exported.status == 0, "\(exported.standardError)")
        let key = try #require(
            try String(contentsOf: origin.serverLog, encoding: .utf8).split(separator: "\n")
                .first { $0.hasPrefix("Release signing key") }?.split(separator: " ").last.map(String.init))

        // Another orchestrator does not take it on its own key, nor on a wrong one.
        let untrusted = try await offline.stellwerk(["release", "import", bundle])
        #expect(untrusted.status == 1)
        #expect(
            untrusted.standardError.contains("is signed by key \(key), not the trusted"), "\(untrusted.standardError)")
        let wrong = try await offline.stellwerk(["release", "import", bundle, "--trust-key", "0000000000000000"])
        #expect(wrong.status == 1)

        // One byte of an artifact changed: refused, nothing stored.
        let archive = try TarArchive(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: bundle))))
        var tampered = TarWriter()
        for entry in archive.entries {
            var bytes = Array(try archive.contents(of: entry))
            if entry.path.hasPrefix("artifacts/") { bytes[bytes.count / 2] ^= 0x01 }
            tampered.add(entry.path, contents: bytes)
        }
        let tamperedFile = origin.root.appendingPathComponent("tampered.stellwerk")
        try Data(tampered.archive).write(to: tamperedFile)
        let altered = try await offline.stellwerk(["release", "import", tamperedFile.path, "--trust-key", key])
        #expect(altered.status == 1)
        #expect(
            altered.standardError.contains("it was altered or damaged; nothing was imported"),
            "\(altered.standardError)")
        #expect(!(try await offline.stellwerk(["release", "list"])).standardOutput.contains(release))

        // Not a bundle at all: one clear line.
        let text = origin.root.appendingPathComponent("notes.txt")
        try Data("Pegelstände\n".utf8).write(to: text)
        let garbage = try await offline.stellwerk(["release", "import", text.path, "--trust-key", key])
        #expect(garbage.status == 1)
        #expect(garbage.standardError.contains("not a release bundle"), "\(garbage.standardError)")

        // Trusted and intact: the same release ID, with the same artifacts, signed by the new home.
        let imported = try await offline.stellwerk(["release", "import", bundle, "--trust-key", key])
        #expect(imported.status == 0, "\(imported.standardError)")
        #expect(imported.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == release)
        let shown = try await offline.stellwerk(["release", "show", release, "--json"])
        let origins = try await origin.stellwerk(["release", "show", release, "--json"])
        func components(_ text: String) throws -> [String: ComponentArtifact] {
            try decode(ReleaseDetailsProbe.self, text).release.manifest.components
        }
        #expect(try components(shown.standardOutput) == (try components(origins.standardOutput)))
        #expect(try decode(ReleaseDetailsProbe.self, shown.standardOutput).release.keyFingerprint != key)

        // An artifact the agents would refuse (one file of 1.2 GiB, over their 1 GiB limit per
        // file) is refused by `release create` before anything is uploaded (issue #17, scenario 6).
        let huge = origin.root.appendingPathComponent("huge.tar").path
        try SparseArchive.write(to: huge, entry: "bin/datenplattform", size: 1_288_490_189)
        let before = try await origin.stellwerk(["release", "list"])
        let refused = try await origin.stellwerk(
            ["release", "create", "--version", "2026.12.0", "--artifact", "datenplattform=\(huge)"])
        #expect(refused.status == 1)
        #expect(
            refused.standardError.contains("--artifact datenplattform=\(huge): the agents would refuse it:")
                && refused.standardError.contains("more than the limit"), "\(refused.standardError)")
        #expect(try await origin.stellwerk(["release", "list"]).standardOutput == before.standardOutput)
    }
}

/// The part of `release show --json` this test reads.
private struct ReleaseDetailsProbe: Decodable {
    var release: SignedReleaseManifest
}
