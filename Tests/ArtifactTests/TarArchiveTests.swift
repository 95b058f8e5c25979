import Artifacts
import Foundation
import TestSupport
import Testing

/// The archive reader refuses every way out of its folder before writing anything, and unpacks what
/// real tools write.
@Suite struct TarArchiveTests {
    private func folder() throws -> URL {
        try Fixtures.temporaryFolder("stellwerk-tar")
    }

    @Test func archive_writtenByGNUTar_unpacksFilesFoldersLinksAndLongNames() throws {
        let source = try folder()
        let long = String(repeating: "lang", count: 40)  // 160 characters: needs a long-name header
        try Fixtures.write(
            ["bin/server": "#!/bin/sh\necho ok\n", "share/\(long)/daten.csv": "a;b\n1;2\n", "README": "Stellwerk\n"],
            under: source)
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755], ofItemAtPath: source.appendingPathComponent("bin/server").path)
        try FileManager.default.createSymbolicLink(
            atPath: source.appendingPathComponent("run").path, withDestinationPath: "bin/server")
        let archivePath = try folder().appendingPathComponent("artifact.tar").path
        for format in ["gnu", "pax"] {
            let status = try Spawn.run("/bin/tar", ["--format=\(format)", "-cf", archivePath, "-C", source.path, "."])
                .status
            #expect(status == 0)
            let archive = try TarArchive(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: archivePath))))
            let target = try folder().appendingPathComponent("release")
            try archive.extract(into: target)
            #expect(
                try String(contentsOf: target.appendingPathComponent("bin/server"), encoding: .utf8)
                    == "#!/bin/sh\necho ok\n")
            #expect(
                try String(contentsOf: target.appendingPathComponent("share/\(long)/daten.csv"), encoding: .utf8)
                    == "a;b\n1;2\n")
            #expect(
                try FileManager.default.destinationOfSymbolicLink(atPath: target.appendingPathComponent("run").path)
                    == "bin/server")
            let mode =
                try FileManager.default.attributesOfItem(atPath: target.appendingPathComponent("bin/server").path)[
                    .posixPermissions] as? Int
            #expect(mode == 0o755)
            try FileManager.default.removeItem(atPath: archivePath)
        }
    }

    struct HostileCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var build: @Sendable (inout TarWriter) -> Void
        var message: String
        var code: ArchiveError.Code
    }

    static let hostile: [HostileCase] = [
        HostileCase(
            testDescription: "absolute path", build: { $0.add("/etc/cron.d/evil", contents: Array("x".utf8)) },
            message: "'/etc/cron.d/evil' is an absolute path", code: .escapes),
        HostileCase(
            testDescription: "dot-dot", build: { $0.add("bin/../../evil", contents: Array("x".utf8)) },
            message: "'bin/../../evil' contains '..'", code: .escapes),
        HostileCase(
            testDescription: "dot-dot in pax path",
            build: {
                $0.addPax(["path": "../evil"])
                $0.add("harmless", contents: Array("x".utf8))
            }, message: "'../evil' contains '..'", code: .escapes),
        HostileCase(
            testDescription: "link out", build: { $0.add("etc", type: "2", link: "../../etc") },
            message: "the link 'etc' points to '../../etc', outside the artifact", code: .escapes),
        HostileCase(
            testDescription: "absolute link", build: { $0.add("passwd", type: "2", link: "/etc/passwd") },
            message: "the link 'passwd' points to the absolute path '/etc/passwd'", code: .escapes),
        HostileCase(
            testDescription: "write through link",
            build: {
                $0.add("data", type: "2", link: "bin")
                $0.add("data/x", contents: Array("x".utf8))
            }, message: "'data/x' lies under the link 'data'", code: .escapes),
        HostileCase(
            testDescription: "hard link", build: { $0.add("shadow", type: "1", link: "etc/shadow") },
            message: "'shadow' is a hard link", code: .unsupported),
        HostileCase(
            testDescription: "device", build: { $0.add("dev/sda", type: "3") },
            message: "'dev/sda' is a device file", code: .unsupported),
        HostileCase(
            testDescription: "fifo", build: { $0.add("pipe", type: "6") }, message: "'pipe' is a FIFO",
            code: .unsupported),
        HostileCase(
            testDescription: "too large", build: { $0.add("big", contents: [UInt8](repeating: 1, count: 2048)) },
            message: "'big' is 2048 bytes, more than the limit of 1024", code: .tooLarge),
        HostileCase(
            testDescription: "duplicate",
            build: {
                $0.add("a", contents: Array("1".utf8))
                $0.add("a", contents: Array("2".utf8))
            }, message: "'a' appears twice", code: .malformed),
    ]

    @Test(arguments: hostile)
    func hostileEntry_isRefusedBeforeAnythingIsWritten(_ entry: HostileCase) throws {
        var builder = TarWriter()
        builder.add("bin/server", contents: Array("ok".utf8))  // a good entry first: nothing of it may be written
        entry.build(&builder)
        let target = try folder().appendingPathComponent("release")
        #expect {
            let archive = try TarArchive(bytes: builder.archive, limits: TarArchive.Limits(maxEntrySize: 1024))
            try archive.extract(into: target)
        } throws: { error in
            let error = error as? ArchiveError
            return error?.code == entry.code && error?.message.contains(entry.message) == true
        }
        #expect(!FileManager.default.fileExists(atPath: target.path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: target.deletingLastPathComponent().path)
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func damagedArchives_areRefusedAsMalformed() throws {
        var builder = TarWriter()
        builder.add("bin/server", contents: Array("ok".utf8))
        var damaged = builder.archive
        damaged[10] ^= 0xFF  // inside the name: the checksum no longer matches
        #expect(throws: ArchiveError.self) { try TarArchive(bytes: damaged) }

        let truncated = Array(builder.bytes.prefix(600))
        #expect { try TarArchive(bytes: truncated) } throws: { ($0 as? ArchiveError)?.code == .malformed }

        var lying = TarWriter()
        lying.add("claims", contents: Array("x".utf8), size: 1 << 20)
        #expect { try TarArchive(bytes: lying.archive) } throws: {
            ($0 as? ArchiveError)?.message.contains("more than the archive holds") == true
        }
        #expect { try TarArchive(bytes: Array("not a tar file at all".utf8)) } throws: {
            ($0 as? ArchiveError)?.code == .malformed
        }
    }

    /// A `.tar.gz` (as blueprints' download URLs often are) is named as compressed, by real gzip.
    @Test func compressedArchives_areRefusedSayingSo() throws {
        let source = try folder()
        defer { try? FileManager.default.removeItem(at: source) }
        try Data("ok\n".utf8).write(to: source.appendingPathComponent("file"))
        let compressed = source.appendingPathComponent("a.tar.gz")
        #expect(try Spawn.run("/bin/tar", ["-czf", compressed.path, "-C", source.path, "file"]).status == 0)
        #expect {
            try TarArchive(file: ArchiveFile(path: compressed.path))
        } throws: {
            ($0 as? ArchiveError)?.message.contains("it is compressed (gzip); artifacts are plain tar archives") == true
        }
        #expect { try TarArchive(bytes: [0x28, 0xb5, 0x2f, 0xfd] + Array(repeating: 0, count: 600)) } throws: {
            ($0 as? ArchiveError)?.message.contains("compressed (zstd)") == true
        }
    }

    @Test func extraction_dropsSetIDBitsAndNeverOverwrites() throws {
        var builder = TarWriter()
        builder.add("bin/tool", contents: Array("x".utf8), mode: 0o4755)
        let archive = try TarArchive(bytes: builder.archive)
        let target = try folder().appendingPathComponent("release")
        try archive.extract(into: target)
        let mode =
            try FileManager.default.attributesOfItem(atPath: target.appendingPathComponent("bin/tool").path)[
                .posixPermissions] as? Int
        #expect(mode == 0o755)
        #expect { try archive.extract(into: target) } throws: {
            ($0 as? ArchiveError)?.message.contains("exists already") == true
        }
    }
}
