import ArgumentParser
import Foundation
import Model
import WorkspaceFiles

/// `stellwerk validate`: check every blueprint, environment and site.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check blueprints, environments and sites; report every problem with file, line and column.",
        discussion: """
            Exits 0 when everything is valid and 1 with the list of errors otherwise. Checks syntax, \
            unknown keys, types and constraints of every value, references between files, dependency \
            cycles, required parameters, secrets given as references, port clashes and placements.

            Examples:
              stellwerk validate
              stellwerk validate --root ~/git/plattform --json
            """)

    @OptionGroup var workspace: WorkspaceOption

    @Flag(name: .long, help: "Print the result as JSON for scripts.")
    var json = false

    func run() throws {
        let terminal = Terminal.detect()
        let root = try workspace.rootURL()
        let result: Result<Workspace, ValidationFailure>
        do {
            result = .success(try WorkspaceLoader(source: DiskSourceTree(root: root)).load())
        } catch {
            result = .failure(error)
        }
        if json {
            try printJSON(result)
        } else {
            printText(result, terminal: terminal, root: root)
        }
        if case .failure = result { throw ExitCode(1) }
    }

    private func printText(_ result: Result<Workspace, ValidationFailure>, terminal: Terminal, root: URL) {
        let printer = DiagnosticPrinter(terminal: terminal, root: root)
        switch result {
        case .success(let workspace):
            printer.printAll(workspace.warnings, to: .standardError)
            let environments = workspace.environmentNames.compactMap { workspace.environments[$0] }
            let sites = environments.reduce(0) { $0 + $1.sites.count }
            let nodes = environments.reduce(0) { $0 + $1.sites.reduce(0) { $0 + $1.nodes.count } }
            terminal.line(
                terminal.green("valid:")
                    + " \(workspace.blueprints.count) blueprints, \(environments.count) environments ("
                    + environments.map(\.name.value).joined(separator: ", ") + "), \(sites) sites, \(nodes) nodes"
                    + (workspace.siteTemplates.isEmpty
                        ? ""
                        : ", \(workspace.siteTemplates.count) site template\(workspace.siteTemplates.count == 1 ? "" : "s")")
            )
        case .failure(let failure):
            printer.printAll(failure.diagnostics, to: .standardError)
        }
    }

    private struct Report: Encodable {
        struct Entry: Encodable {
            var severity: String
            var file: String
            var line: Int
            var column: Int
            var message: String
            var hint: String?
        }

        var valid: Bool
        var revision: String?
        var diagnostics: [Entry]
    }

    private func printJSON(_ result: Result<Workspace, ValidationFailure>) throws {
        let diagnostics: [Diagnostic]
        var revision: String?
        switch result {
        case .success(let workspace):
            diagnostics = workspace.warnings
            revision = workspace.revision
        case .failure(let failure):
            diagnostics = failure.diagnostics
        }
        let report = Report(
            valid: (try? result.get()) != nil, revision: revision,
            diagnostics: diagnostics.map {
                Report.Entry(
                    severity: $0.severity.rawValue, file: $0.location.file, line: $0.location.line,
                    column: $0.location.column, message: $0.message, hint: $0.hint)
            })
        FileHandle.standardOutput.write(try JSONFiles.encode(report))
    }
}
