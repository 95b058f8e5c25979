import AgentCore
import Foundation
import TestSupport
import Testing

/// The agent's own records on a full disk (issue #17, scenario 3): it keeps a reserve of space and
/// gives it back the moment its journal cannot be written, so it can always record what it did.
@Suite(.serialized) struct FullDiskTests {
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    @Test(.enabled(if: SmallDisk.available || required, "mounting a small tmpfs needs root or password-less sudo"))
    func onAFullDisk_theJournalIsStillWritten_fromTheReserve_whichIsMadeAgainLater() throws {
        try #require(SmallDisk.available, "mounting a small tmpfs needs root or password-less sudo (as CI has)")
        let root = try Fixtures.temporaryFolder("stellwerk-full-disk")
        defer { try? FileManager.default.removeItem(at: root) }
        let disk = try SmallDisk(at: root.appendingPathComponent("data"), megabytes: 24)
        defer { disk.unmount() }
        let reserve = disk.folder.appendingPathComponent(".stellwerk-reserve").path

        let state = try AgentState(folder: disk.folder)
        #expect(FileManager.default.fileExists(atPath: reserve))
        try disk.fill()
        #expect(disk.free < 4096, "\(disk.free) bytes still free")

        // Entries that need new pages: without the reserve, "database or disk is full".
        let detail = String(repeating: "x", count: 200_000)
        for index in 0..<5 { try state.journal("catalog", "fetch", "\(index) \(detail)") }
        #expect(!FileManager.default.fileExists(atPath: reserve))
        #expect(try state.steps(since: "running", of: "catalog").count == 5)

        // Once there is room again, the reserve comes back.
        disk.empty()
        SpaceReserve.keep(in: disk.folder)
        let size = (try FileManager.default.attributesOfItem(atPath: reserve)[.size] as? NSNumber)?.intValue
        #expect(size == 8 << 20)
    }
}
