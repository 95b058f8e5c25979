import ArgumentParser
import Foundation
import Model
import WorkspaceFiles

/// `--root DIR`: where the blueprints and environments are.
struct WorkspaceOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The folder that holds Blueprints/ and Environments/ (default: the current folder or the nearest parent with both).",
            valueName: "DIR"))
    var root: String?

    /// The workspace folder, or an error line that says how to name it.
    func rootURL() throws -> URL {
        if let root {
            let url = URL(fileURLWithPath: root)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue else {
                throw CLIError("--root \(root): no such folder")
            }
            return url
        }
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        guard let found = DiskSourceTree.findRoot(from: here) else {
            throw CLIError(
                "no Blueprints/ and Environments/ here or in any parent folder; run in a Stellwerk checkout or pass --root DIR"
            )
        }
        return found
    }

    /// Loads and validates the workspace; on failure prints every diagnostic and exits 1.
    ///
    /// - Parameter releaseProducts: components a release carries, which blueprints may run besides the
    ///   products this repository builds.
    ///   - checkingProducts: false when only the environments matter, not what blueprints run.
    ///   - added: files (by path in the workspace) laid over those on disk, checked as if written.
    func load(
        terminal: Terminal, releaseProducts: some Sequence<String> = [], checkingProducts: Bool = true,
        added: [String: String] = [:]
    ) throws -> (Workspace, URL) {
        let url = try rootURL()
        do {
            var options = WorkspaceOptions()
            options.knownProducts.formUnion(releaseProducts)
            options.checksProducts = checkingProducts
            let disk = DiskSourceTree(root: url)
            let source: any SourceTree = added.isEmpty ? disk : OverlaySourceTree(base: disk, added: added)
            let workspace = try WorkspaceLoader(source: source, options: options).load()
            return (workspace, url)
        } catch {
            DiagnosticPrinter(terminal: terminal, root: url).printAll(error.diagnostics, to: .standardError)
            throw ExitCode(1)
        }
    }
}

/// A failure the user can act on, shown as one line without a stack dump.
struct CLIError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
