import Foundation
import Mobility
import TestSupport

/// Feeds for the tests: the synthetic one, changed file by file, written as zips; and a store of
/// their own.
enum GTFSFeeds {
    /// The synthetic feed's files (40 stops, 4 lines, 2026).
    static var synthetic: [String: String] { SyntheticFeed().files() }

    static func zip(_ files: [String: String], in folder: URL, name: String = "feed.zip") throws -> URL {
        let url = folder.appendingPathComponent(name)
        try SyntheticFeed.zip(files, to: url)
        return url
    }

    /// A migrated store in `folder`.
    static func store(in folder: URL) async throws -> MobilityStore {
        let store = try MobilityStore(
            location: "sqlite:" + folder.appendingPathComponent("mobility.sqlite").path, create: true)
        _ = try await store.migrate()
        return store
    }

    /// Sets the 4-byte little-endian uncompressed size of `name` in both its local header and its
    /// central directory record, as a hand-made hostile archive would.
    static func declare(_ size: UInt32, for name: String, in url: URL) throws {
        var bytes = [UInt8](try Data(contentsOf: url))
        let nameBytes = Array(name.utf8)
        // (signature, offset of the name, offset of the uncompressed size)
        for (signature, nameOffset, sizeOffset) in [(UInt32(0x0403_4b50), 30, 22), (UInt32(0x0201_4b50), 46, 24)] {
            var index = 0
            var patched = false
            while index + nameOffset + nameBytes.count <= bytes.count {
                let found =
                    UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16
                    | UInt32(bytes[index + 3]) << 24
                if found == signature
                    && Array(bytes[(index + nameOffset)..<(index + nameOffset + nameBytes.count)]) == nameBytes
                {
                    for byte in 0..<4 { bytes[index + sizeOffset + byte] = UInt8((size >> (8 * UInt32(byte))) & 0xFF) }
                    patched = true
                }
                index += 1
            }
            guard patched else { throw TestServerError("no header for \(name) in \(url.lastPathComponent)") }
        }
        try Data(bytes).write(to: url)
    }
}
