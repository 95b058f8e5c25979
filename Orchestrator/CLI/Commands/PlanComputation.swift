import ArgumentParser
import Model
import OrchestratorClient
import Planner
import StellwerkAPI

/// How every command computes a plan (`plan`, `apply`, `promote`, `up`): load and check the
/// workspace, resolve the environment, and compare it with the recorded state.
struct PlanComputation {
    let workspace: WorkspaceOption
    let terminal: Terminal

    /// The plan for `environment` against the orchestrator: its release `release` (or the working
    /// tree, unreleased) and its recorded state. A promotion request also carries the gates of the
    /// environment that promotes into `environment`.
    func plan(
        _ environment: String, release: String?, server: OrchestratorConnection, forPromotion: Bool = false
    ) async throws -> Plan {
        var manifest: ReleaseManifest?
        if let release { manifest = try await server.send(.release(release)).manifest }
        return try plan(
            environment, manifest: manifest, recorded: try await server.send(.snapshot(environment)),
            forPromotion: forPromotion)
    }

    /// The plan for `environment` against a recorded state from anywhere (a snapshot file, the local
    /// store, nothing yet); on invalid blueprints or environments, prints every problem and exits 1.
    func plan(
        _ environment: String, manifest: ReleaseManifest?, recorded: StateSnapshot, forPromotion: Bool = false
    ) throws -> Plan {
        let (loaded, root) = try workspace.load(
            terminal: terminal, releaseProducts: manifest?.components.keys ?? [:].keys)
        let resolved: ResolvedEnvironment
        do {
            resolved = try EnvironmentResolver(workspace: loaded).resolve(environment)
        } catch {
            DiagnosticPrinter(terminal: terminal, root: root).printAll(error.diagnostics, to: .standardError)
            throw ExitCode(1)
        }
        var plan = Planner(release: manifest).plan(resolved, revision: loaded.revision, recorded: recorded)
        if forPromotion {
            guard let source = loaded.environments.values.first(where: { $0.promotesTo?.value == environment }) else {
                throw CLIError(
                    "no environment promotes to \(environment); name it in another environment's promotes_to to promote into it"
                )
            }
            plan.promotion = Planner.promotionPolicy(resolved, source: source.name.value)
        }
        return plan
    }
}
