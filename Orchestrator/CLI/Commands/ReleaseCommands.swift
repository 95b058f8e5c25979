import ArgumentParser
import Artifacts
import Foundation
import Model
import OrchestratorClient
import StellwerkAPI
import WorkspaceFiles

/// `stellwerk release`: create, list, show, export and import releases.
struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Create, list, show, export and import releases on the orchestrator.",
        discussion: """
            A release is immutable: its ID is derived from its content (artifacts, migrations, version). \
            The orchestrator signs its manifest with its Ed25519 key; agents refuse anything else.

            Examples:
              stellwerk release create --version 2026.11.1
              stellwerk release show r-1a2b3c4d5e6f
              stellwerk release export r-1a2b3c4d5e6f pegel-2026.11.1.stellwerk
              stellwerk release import pegel-2026.11.1.stellwerk --trust-key 0a1b2c3d4e5f6a7b
            """,
        subcommands: [
            CreateRelease.self, ListReleases.self, ShowRelease.self, ExportRelease.self, ImportRelease.self,
        ])
}

struct CreateRelease: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Upload component artifacts and register them as a signed, immutable release.",
        discussion: """
            Without --artifact, builds the `datenplattform` product of this repository in release mode \
            (`swift build -c release`), packs its executable, and records the migrations it lists \
            (`datenplattform migrations`) unless --migration names them. Each --artifact instead names a \
            component (as blueprints name it: their product) and a tar archive holding its files. The \
            orchestrator stores the archives by SHA-256, records who created the release and when, and \
            signs the manifest; the release ID is derived from the content, so the same artifacts give \
            the same ID.

            Examples:
              stellwerk release create --version 2026.11.1
              stellwerk release create --version 1.4.0 --artifact datenplattform=build/datenplattform.tar
            """)
    @OptionGroup var connection: ServerConnectionOption
    @OptionGroup var workspace: WorkspaceOption
    @Option(help: "The release's version label.") var version = "0.0.0"
    @Option(help: ArgumentHelp("COMPONENT=FILE.tar; repeat per component.", valueName: "COMPONENT=FILE"))
    var artifact: [String] = []
    @Option(
        help: ArgumentHelp(
            "COMPONENT=MIGRATION; the migrations a component brings, in order.", valueName: "COMPONENT=ID"))
    var migration: [String] = []

    func run() async throws {
        var files: [(String, URL)] = []
        var migrations: [String: [String]] = [:]
        if artifact.isEmpty {
            let executable = try ProductBuild.build("datenplattform")
            files.append(("datenplattform", try ProductBuild.pack(executable: executable, as: "datenplattform")))
            // What the built executable migrates, unless the operator says otherwise.
            if !migration.contains(where: { $0.hasPrefix("datenplattform=") }) {
                migrations["datenplattform"] = try ProductBuild.migrations(of: executable)
            }
        }
        for entry in artifact {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, FileManager.default.fileExists(atPath: parts[1]) else {
                throw CLIError("--artifact \(entry): write COMPONENT=FILE with an existing file")
            }
            files.append((parts[0], URL(fileURLWithPath: parts[1])))
        }
        for entry in migration {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw CLIError("--migration \(entry): write COMPONENT=ID") }
            migrations[parts[0], default: []].append(parts[1])
        }
        // An archive the agents would refuse (an entry over their limits, a path that leaves its
        // folder, a compressed one) is refused here, before anything is uploaded, rather than on every
        // node later.
        for (component, file) in files {
            do {
                _ = try TarArchive(file: ArchiveFile(path: file.path))
            } catch {
                throw CLIError("--artifact \(component)=\(file.path): the agents would refuse it: \(error)")
            }
        }
        let named = try releaseComponents(files.map(\.0) + Array(migrations.keys))
        files = files.map { (named[$0.0] ?? $0.0, $0.1) }
        migrations = Dictionary(
            migrations.map { (named[$0.key] ?? $0.key, $0.value) },
            uniquingKeysWith: { first, second in first + second })
        let signed = try await connection.with { server in
            try await Self.register(files: files, migrations: migrations, version: version, on: server)
        }
        print(signed.manifest.id)
        FileHandle.standardError.write(
            Data("Release \(signed.manifest.id) (version \(version)) is signed and stored.\n".utf8))
    }
}

extension CreateRelease {
    /// The components as the release names them: in a workspace, `--artifact BLUEPRINT=FILE` for a
    /// blueprint whose artifact is not pinned is its component `external:BLUEPRINT`, and a component
    /// no blueprint runs is refused (a release carries what is deployed, and an artifact under a
    /// mistyped name would be accepted and never installed). Without a workspace (archives built
    /// elsewhere) there is nothing to compare with, and the names stay as given.
    func releaseComponents(_ components: [String]) throws -> [String: String] {
        var named = Dictionary(components.map { ($0, $0) }, uniquingKeysWith: { first, _ in first })
        guard let root = try? workspace.rootURL() else { return named }
        var options = WorkspaceOptions()
        options.knownProducts.formUnion(components)
        options.checksProducts = false
        let loaded: Workspace
        do {
            loaded = try WorkspaceLoader(source: DiskSourceTree(root: root), options: options).load()
        } catch {
            throw CLIError(
                "\(root.path) does not validate (`stellwerk validate` says why), so its blueprints cannot say which "
                    + "components a release carries; fix it, or run elsewhere with components named as releases name them"
            )
        }
        var run: Set<String> = []
        var unpinned: [String: String] = [:]
        for blueprint in loaded.blueprints.values {
            switch blueprint.component.source {
            case .product(let product): run.insert(product)
            case .external(_, nil):
                let component = blueprint.component.releaseName(blueprint: blueprint.name.value)
                run.insert(component)
                unpinned[blueprint.name.value] = component
            case .external, .package: break
            }
        }
        for component in components {
            if let external = unpinned[component] { named[component] = external }
            guard let name = named[component], run.contains(name) else {
                throw CLIError(
                    "--artifact \(component)=…: no blueprint in \(root.path) runs the component '\(component)' (they run: "
                        + (run.isEmpty ? "none" : run.sorted().joined(separator: ", "))
                        + "); a release carries the components its blueprints run, and the artifacts of blueprints "
                        + "that do not pin theirs")
            }
        }
        return named
    }

    /// Uploads each component's archive and registers the release; returns it signed.
    static func register(
        files: [(component: String, file: URL)], migrations: [String: [String]], version: String,
        on server: OrchestratorConnection
    ) async throws -> SignedReleaseManifest {
        var components: [String: ComponentArtifact] = [:]
        for (component, file) in files {
            let (sha, size) = try await server.upload(file: file)
            components[component] = ComponentArtifact(sha256: sha, size: size, migrations: migrations[component] ?? [])
        }
        // The ID is derived from the content, so the same artifacts and version give the same release.
        let content =
            ([version]
            + components.sorted { $0.key < $1.key }.map {
                "\($0.key)=\($0.value.sha256):\($0.value.migrations.joined(separator: ","))"
            }).joined(separator: "\n")
        let manifest = ReleaseManifest(
            id: "r-" + Digest.sha256(content).prefix(12), version: version, revision: "", components: components)
        return try await server.send(.createRelease(manifest))
    }
}

/// Builds a product of this repository in release mode and packs its executable as an artifact.
enum ProductBuild {
    /// Builds `product` in release mode; returns its executable.
    static func build(_ product: String) throws -> URL {
        var folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
            guard folder.path != "/" else {
                throw CLIError(
                    "no Package.swift here or above: run `stellwerk release create` in the Stellwerk checkout, or give --artifact COMPONENT=FILE.tar"
                )
            }
            folder.deleteLastPathComponent()
        }
        FileHandle.standardError.write(Data("Building \(product) in release mode...\n".utf8))
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        build.arguments = ["swift", "build", "-c", "release", "--product", product]
        build.currentDirectoryURL = folder
        build.standardOutput = FileHandle.standardError
        try build.run()
        build.waitUntilExit()
        guard build.terminationStatus == 0 else {
            throw CLIError("building \(product) failed (exit status \(build.terminationStatus)); see the output above")
        }
        return folder.appendingPathComponent(".build/release/\(product)")
    }

    /// The migrations an executable brings, in order, as it lists them itself (`datenplattform
    /// migrations`): the release records what its artifact will run, not what this CLI believes.
    static func migrations(of executable: URL) throws -> [String] {
        let process = Process()
        let output = Pipe()
        process.executableURL = executable
        process.arguments = ["migrations"]
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError(
                "`\(executable.path) migrations` failed (exit status \(process.terminationStatus)); cannot tell what the release migrates"
            )
        }
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
    }

    /// Packs an executable that is built already as an artifact holding it under `product`.
    static func pack(executable binary: URL, as product: String) throws -> URL {
        guard let bytes = FileManager.default.contents(atPath: binary.path) else {
            throw CLIError("the build left no executable at \(binary.path)")
        }
        var archive = TarWriter()
        archive.add(product, contents: Array(bytes), mode: 0o755)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(product)-\(UUID().uuidString).tar")
        try Data(archive.archive).write(to: file)
        return file
    }
}

struct ListReleases: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the releases the orchestrator holds, newest first, and where they run.")
    @OptionGroup var connection: ServerConnectionOption
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let (releases, status) = try await connection.with { server in
            (
                try await server.send(.releases),
                try await server.send(.status())
            )
        }
        let details = releases.map { ReleaseDetails(release: $0, status: status) }
        if json {
            try Output.json(details)
            return
        }
        let formatter = ISO8601DateFormatter()
        Terminal.detect().table(
            header: ["ID", "VERSION", "CREATED", "BY", "RUNS IN"],
            rows: details.map { detail in
                let manifest = detail.release.manifest
                return [
                    manifest.id, manifest.version, manifest.createdAt.map { formatter.string(from: $0) } ?? "",
                    manifest.createdBy ?? "", detail.summary,
                ]
            })
    }
}

struct ShowRelease: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a release: its artifacts, migrations, signature, and where it runs.")
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: ArgumentHelp("The release's ID.", valueName: "RELEASE")) var id: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let (release, status) = try await connection.with { server in
            (
                try await server.send(.release(id)),
                try await server.send(.status())
            )
        }
        let details = ReleaseDetails(release: release, status: status)
        if json {
            try Output.json(details)
            return
        }
        let terminal = Terminal.detect()
        let manifest = release.manifest
        terminal.line("Release \(manifest.id), version \(manifest.version)")
        if let createdAt = manifest.createdAt {
            terminal.line(
                "Created \(ISO8601DateFormatter().string(from: createdAt)) by \(manifest.createdBy ?? "unknown")")
        }
        terminal.line("Signed by orchestrator key \(release.keyFingerprint) (Ed25519)")
        terminal.line("Components:")
        for (component, artifact) in manifest.components.sorted(by: { $0.key < $1.key }) {
            let migrations = artifact.migrations.isEmpty ? "none" : artifact.migrations.joined(separator: ", ")
            terminal.line(
                "  \(component)  sha256 \(artifact.sha256.prefix(16))…  \(ByteCount.text(artifact.size))  migrations: \(migrations)"
            )
        }
        terminal.line("Where it runs:")
        if details.environments.isEmpty { terminal.line("  nowhere yet") }
        for environment in details.environments {
            terminal.line(
                "  \(environment.environment): \(environment.nodes.count) of \(environment.total) node(s), "
                    + "\(environment.healthy) healthy — sites \(environment.sites.joined(separator: ", "))")
        }
    }
}

/// A release with the nodes that run it, by environment.
struct ReleaseDetails: Codable {
    struct Placement: Codable {
        var environment: String
        /// Nodes with at least one instance of the release.
        var nodes: [String]
        var sites: [String]
        /// Of those, how many run every instance of the release healthy.
        var healthy: Int
        /// Nodes in the environment.
        var total: Int
    }

    var release: SignedReleaseManifest
    var environments: [Placement]

    init(release: SignedReleaseManifest, status: StatusDocument) {
        self.release = release
        environments = status.environments.compactMap { environment -> Placement? in
            let running = environment.nodes.filter { node in
                node.instances.contains { $0.release == release.manifest.id }
            }
            guard !running.isEmpty else { return nil }
            let healthy = running.filter { node in
                node.instances.filter { $0.release == release.manifest.id }.allSatisfy { $0.state == .running }
            }
            return Placement(
                environment: environment.name, nodes: running.map(\.node),
                sites: Array(Set(running.map(\.site))).sorted(), healthy: healthy.count, total: environment.nodes.count)
        }
    }

    var summary: String {
        environments.map { "\($0.environment) \($0.healthy)/\($0.total)" }.joined(separator: ", ")
    }
}

enum ByteCount {
    static func text(_ bytes: Int) -> String {
        bytes >= 1_000_000
            ? String(format: "%.1f MB", Double(bytes) / 1_000_000) : String(format: "%.1f kB", Double(bytes) / 1000)
    }
}

/// The files of a release bundle: the signed manifest, the key that signed it, and the artifacts.
enum ReleaseBundle {
    static let manifestEntry = "stellwerk-release.json"
    static let keyEntry = "signing-key.pub"
    static func artifactEntry(_ sha256: String) -> String { "artifacts/\(sha256).tar" }
    /// Bundles are read into memory whole; larger ones are refused before reading.
    static let maxSize = 4 << 30
}

struct ExportRelease: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a release with its artifacts into one signed bundle file, for sites without a network path.",
        discussion: """
            The bundle is a tar file holding the signed manifest, the orchestrator's public signing key \
            and every artifact. `stellwerk release import FILE --trust-key FINGERPRINT` on the other \
            side checks all of it before anything is stored.

            Example:
              stellwerk release export r-1a2b3c4d5e6f pegel-2026.11.1.stellwerk
            """)
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: ArgumentHelp("The release's ID.", valueName: "RELEASE")) var id: String
    @Argument(help: ArgumentHelp("The bundle file to write.", valueName: "FILE")) var file: String

    func run() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stellwerk-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var archive = TarWriter()
        let signed = try await connection.with { server in
            let signed = try await server.send(.release(id))
            let key = try await server.send(.signingKey)
            archive.add(ReleaseBundle.manifestEntry, contents: Array(try JSONFiles.encode(signed)))
            archive.add(ReleaseBundle.keyEntry, contents: Array((key.publicKey + "\n").utf8))
            for artifact in Set(signed.manifest.components.values.map(\.sha256)).sorted() {
                let download = scratch.appendingPathComponent(artifact)
                try await server.download(sha256: artifact, to: download)
                archive.add(ReleaseBundle.artifactEntry(artifact), contents: Array(try Data(contentsOf: download)))
            }
            return signed
        }
        let partial = URL(fileURLWithPath: file + ".partial")
        do {
            try Data(archive.archive).write(to: partial)
            _ = try? FileManager.default.removeItem(atPath: file)
            try FileManager.default.moveItem(at: partial, to: URL(fileURLWithPath: file))
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw CLIError("\(file): cannot write the bundle: \(error.localizedDescription)")
        }
        print(
            "Exported release \(signed.manifest.id) (version \(signed.manifest.version), \(signed.manifest.components.count) component(s), \(ByteCount.text(archive.archive.count))) to \(file); signed by key \(signed.keyFingerprint)."
        )
    }
}

struct ImportRelease: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Check a release bundle and store its release on this orchestrator.",
        discussion: """
            Nothing is stored unless the bundle's key has the trusted fingerprint (the exporting \
            orchestrator prints it at start as "Release signing key"), the manifest's signature \
            verifies with that key, and every artifact has the SHA-256 the manifest names. This \
            orchestrator then signs the release with its own key for its agents.

            Example:
              stellwerk release import pegel-2026.11.1.stellwerk --trust-key 0a1b2c3d4e5f6a7b
            """)
    @OptionGroup var connection: ServerConnectionOption
    @Argument(help: ArgumentHelp("A bundle from `stellwerk release export`.", valueName: "FILE")) var file: String
    @Option(
        help: ArgumentHelp(
            "The fingerprint of the exporting orchestrator's signing key (default: this orchestrator's own).",
            valueName: "FINGERPRINT"))
    var trustKey: String?

    func run() async throws {
        let attributes = try? FileManager.default.attributesOfItem(atPath: file)
        guard let size = (attributes?[.size] as? NSNumber)?.intValue else { throw CLIError("\(file): cannot read it") }
        guard size <= ReleaseBundle.maxSize else {
            throw CLIError("\(file): \(ByteCount.text(size)) is larger than a bundle may be (4 GiB)")
        }
        let archive: TarArchive
        do {
            archive = try TarArchive(file: ArchiveFile(path: file))
        } catch {
            throw CLIError("\(file): not a release bundle: \(error)")
        }
        func entry(_ path: String) throws -> [UInt8] {
            let found = archive.entries.first { entry in
                guard case .file = entry.kind else { return false }
                return entry.path == path
            }
            guard let found else {
                throw CLIError("\(file): not a release bundle: it has no \(path)")
            }
            return Array(try archive.contents(of: found))
        }
        let signed: SignedReleaseManifest
        do {
            signed = try WireJSON.decoder().decode(
                SignedReleaseManifest.self, from: Data(try entry(ReleaseBundle.manifestEntry)))
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("\(file): \(ReleaseBundle.manifestEntry) is not a signed release manifest: \(error)")
        }
        let keyText = String(decoding: try entry(ReleaseBundle.keyEntry), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard let key = Data(base64Encoded: keyText) else {
            throw CLIError("\(file): \(ReleaseBundle.keyEntry) is not a base64 public key")
        }
        let fingerprint = ReleaseSigner.fingerprint(of: key)
        let imported = try await connection.with { server in
            var trusted = trustKey?.lowercased() ?? ""
            if trustKey == nil {
                trusted = try await server.send(.signingKey).fingerprint
            }
            guard fingerprint == trusted else {
                throw CLIError(
                    "\(file) is signed by key \(fingerprint), not the trusted \(trusted); pass --trust-key with the exporting orchestrator's fingerprint if you trust it"
                )
            }
            let manifest: ReleaseManifest
            do {
                manifest = try ReleaseSigner.verify(signed, publicKey: key)
                for artifact in manifest.components.values {
                    try ReleaseSigner.verifyDigest(
                        of: try entry(ReleaseBundle.artifactEntry(artifact.sha256)), expected: artifact.sha256,
                        artifact: ReleaseBundle.artifactEntry(artifact.sha256))
                }
            } catch let error as ArtifactError {
                throw CLIError("\(file): \(error.message); nothing was imported")
            }
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
                "stellwerk-import-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: scratch) }
            for artifact in Set(manifest.components.values.map(\.sha256)).sorted() {
                let path = scratch.appendingPathComponent(artifact)
                try Data(try entry(ReleaseBundle.artifactEntry(artifact))).write(to: path)
                _ = try await server.upload(file: path)
            }
            return try await server.send(.createRelease(manifest.content))
        }
        print(imported.manifest.id)
        FileHandle.standardError.write(
            Data(
                "Imported release \(imported.manifest.id) (version \(imported.manifest.version)), checked against key \(fingerprint).\n"
                    .utf8))
    }
}
