import Crypto
import StellwerkAPI

/// Loads and validates a whole Stellwerk folder: every error of every file, at once.
///
/// ```swift
/// let workspace = try WorkspaceLoader(source: tree).load()
/// let sandbox = try EnvironmentResolver(workspace: workspace).resolve("sandbox")
/// ```
package struct WorkspaceLoader: Sendable {
    package var source: any SourceTree
    package var options: WorkspaceOptions

    package static let blueprintsFolder = "Blueprints"
    package static let templatesFolder = "Blueprints/templates"
    package static let environmentsFolder = "Environments"

    package init(source: any SourceTree, options: WorkspaceOptions = WorkspaceOptions()) {
        self.source = source
        self.options = options
    }

    /// Loads every file, checks every rule, and returns the workspace, or throws every error found.
    package func load() throws(ValidationFailure) -> Workspace {
        let sink = DiagnosticSink()
        var digestInput: [(String, [UInt8])] = []
        let reader = YAMLDocumentReader(limits: options.limits)

        func document(_ path: String) -> YAMLNode? {
            let bytes: [UInt8]
            do {
                bytes = try source.contents(of: path, limit: options.limits.maxBytes)
            } catch {
                sink.error(error.description, at: .file(path), hint: hint(for: error))
                return nil
            }
            digestInput.append((path, bytes))
            do {
                guard let root = try reader.read(bytes, file: path) else {
                    sink.error("the file is empty", at: .file(path))
                    return nil
                }
                return root
            } catch {
                sink.collector.append(contentsOf: error.diagnostics)
                return nil
            }
        }

        // Files that sites give as parameter values ({file: PATH}), read once each.
        var parameterFiles: [String: String] = [:]
        func readFiles(of site: SiteDefinition) {
            for service in site.services {
                for case (_, .file(let written, let path)) in service.parameters where parameterFiles[path] == nil {
                    let bytes: [UInt8]
                    do {
                        bytes = try source.contents(of: path, limit: ParameterType.textLimit)
                    } catch {
                        sink.error("\(path): \(error.description)", at: written.location, hint: hint(for: error))
                        continue
                    }
                    digestInput.append((path, bytes))
                    guard var text = String(validating: bytes, as: UTF8.self) else {
                        sink.error("\(path) is not UTF-8 text", at: written.location, hint: "is this a binary file?")
                        continue
                    }
                    if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
                    // Lines end in LF in the rendered file, as if the file had been saved on Linux.
                    var lines = String.UnicodeScalarView()
                    for scalar in text.unicodeScalars {
                        if scalar == "\n", lines.last == "\r" { lines.removeLast() }
                        lines.append(scalar)
                    }
                    parameterFiles[path] = String(lines)
                }
            }
        }

        // Blueprints
        var blueprints: [String: Blueprint] = [:]
        var brokenBlueprints = Set<String>()
        let blueprintFiles = yamlFiles(in: Self.blueprintsFolder, sink: sink, required: true)
        for path in blueprintFiles {
            guard let root = document(path), let blueprint = BlueprintParser(file: path, sink: sink).parse(root) else {
                brokenBlueprints.insert(Self.stem(of: path))
                continue
            }
            if let existing = blueprints[blueprint.name.value] {
                sink.error(
                    "a blueprint named '\(blueprint.name.value)' is already defined in \(existing.file)",
                    at: blueprint.name.location)
                continue
            }
            let expected = Self.stem(of: path)
            if expected != blueprint.name.value {
                sink.error(
                    "blueprint '\(blueprint.name.value)' is in a file named \(expected).yaml",
                    at: blueprint.name.location,
                    hint: "name the file after the blueprint: \(blueprint.name.value).yaml")
            }
            blueprints[blueprint.name.value] = blueprint
        }

        // Environments and their sites
        var environments: [String: EnvironmentDefinition] = [:]
        let environmentFolders = folders(in: Self.environmentsFolder, sink: sink)
        if environmentFolders.isEmpty {
            sink.error(
                "no environments found", at: .file(Self.environmentsFolder),
                hint: "each environment is a folder with an environment.yaml, such as Environments/sandbox/")
        }
        let parser = EnvironmentParser(sink: sink)
        var brokenEnvironments = Set<String>()
        for folder in environmentFolders {
            let folderPath = "\(Self.environmentsFolder)/\(folder)"
            var sites: [SiteDefinition] = []
            var siteFiles: [String: String] = [:]
            var brokenSites = Set<String>()
            for path in yamlFiles(in: "\(folderPath)/sites", sink: sink, required: false) {
                guard let root = document(path), let site = parser.parseSite(root, file: path) else {
                    brokenSites.insert(Self.stem(of: path))
                    continue
                }
                if let existing = siteFiles[site.name.value] {
                    sink.error(
                        "a site named '\(site.name.value)' is already defined in \(existing)", at: site.name.location)
                    continue
                }
                if Self.stem(of: path) != site.name.value {
                    sink.error(
                        "site '\(site.name.value)' is in a file named \(Self.stem(of: path)).yaml",
                        at: site.name.location,
                        hint: "name the file after the site: \(site.name.value).yaml")
                }
                siteFiles[site.name.value] = path
                sites.append(site)
                readFiles(of: site)
            }
            let environmentPath = "\(folderPath)/environment.yaml"
            guard let root = document(environmentPath),
                var environment = parser.parseEnvironment(root, file: environmentPath, sites: sites)
            else {
                brokenEnvironments.insert(folder)
                continue
            }
            environment.brokenSites = brokenSites
            if environment.name.value != folder {
                sink.error(
                    "environment '\(environment.name.value)' is in the folder \(folder)", at: environment.name.location,
                    hint: "the folder must carry the environment's name")
                continue
            }
            environments[environment.name.value] = environment
        }

        // Site templates for onboarding
        var templates: [(path: String, root: YAMLNode)] = []
        for path in yamlFiles(in: Self.templatesFolder, sink: sink, required: false) {
            if let root = document(path) { templates.append((path, root)) }
        }

        var workspace = Workspace(
            blueprints: blueprints, environments: environments, siteTemplates: templates.map(\.path),
            revision: Self.revision(of: digestInput), brokenBlueprints: brokenBlueprints,
            brokenEnvironments: brokenEnvironments, parameterFiles: parameterFiles, warnings: [])
        WorkspaceValidator(workspace: workspace, options: options, sink: sink).validate()
        SiteTemplateCheck(workspace: workspace, sink: sink).check(templates)
        if sink.collector.hasErrors {
            throw ValidationFailure(diagnostics: sink.collector.sorted)
        }
        workspace.warnings = sink.collector.sorted
        return workspace
    }

    // MARK: Folders

    private func yamlFiles(in folder: String, sink: DiagnosticSink, required: Bool) -> [String] {
        let entries: [SourceEntry]
        do {
            entries = try source.entries(in: folder)
        } catch {
            sink.error(error.description, at: .file(folder))
            return []
        }
        if required, !entries.contains(where: { $0.name.hasSuffix(".yaml") || $0.name.hasSuffix(".yml") }) {
            sink.error("no YAML files found in \(folder)/", at: .file(folder), hint: "is --root the Stellwerk folder?")
        }
        var paths: [String] = []
        for entry in entries where entry.name.hasSuffix(".yaml") || entry.name.hasSuffix(".yml") {
            let path = "\(folder)/\(entry.name)"
            switch entry.kind {
            case .file: paths.append(path)
            case .folder: sink.error("is a folder, not a YAML file", at: .file(path), hint: "rename or remove it")
            case .danglingLink:
                sink.error(
                    "is a link to a file that does not exist", at: .file(path),
                    hint: "point the link at an existing file or remove it")
            case .other: sink.error("is not a regular file", at: .file(path))
            }
        }
        return paths.sorted()
    }

    private func folders(in folder: String, sink: DiagnosticSink) -> [String] {
        do {
            return try source.entries(in: folder).filter { $0.kind == .folder }.map(\.name).sorted()
        } catch {
            sink.error(error.description, at: .file(folder))
            return []
        }
    }

    private func hint(for error: SourceTreeError) -> String? {
        switch error.code {
        case .tooLarge: "Stellwerk's files are a few kilobytes; is this the right file?"
        case .danglingLink: "point the link at an existing file or remove it"
        default: nil
        }
    }

    private static func stem(of path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if name.hasSuffix(".yaml") { return String(name.dropLast(5)) }
        if name.hasSuffix(".yml") { return String(name.dropLast(4)) }
        return name
    }

    private static func revision(of files: [(String, [UInt8])]) -> String {
        var hasher = SHA256()
        for (path, bytes) in files.sorted(by: { $0.0 < $1.0 }) {
            hasher.update(data: Array(path.utf8) + [0])
            hasher.update(data: Array(String(bytes.count).utf8) + [0])
            hasher.update(data: bytes)
        }
        return hasher.finalize().lowercaseHex
    }
}

/// SHA-256 helpers that give lowercase hex, the form every digest in Stellwerk is written in.
package enum Digest {
    package static func sha256(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).lowercaseHex
    }

    package static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).lowercaseHex
    }

}
