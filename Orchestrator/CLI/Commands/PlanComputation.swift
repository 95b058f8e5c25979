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
    /// Files laid over the workspace on disk, planned as if written (`stellwerk onboard`).
    var added: [String: String] = [:]
    /// Whether a blueprint must run a product this repository builds or the release carries; off
    /// where the plan shows what a site gets, whatever release comes (`stellwerk onboard`).
    var checksProducts = true

    /// The plan for `environment` against the orchestrator: its release `release` (or the working
    /// tree, unreleased) and its recorded state. A promotion request also carries the gates of the
    /// environment that promotes into `environment`.
    func plan(
        _ environment: String, release: String?, server: OrchestratorConnection, forPromotion: Bool = false
    ) async throws -> Plan {
        var manifest: ReleaseManifest?
        if let release { manifest = try await server.send(.release(release)).manifest }
        var plan = try plan(
            environment, manifest: manifest, recorded: try await server.send(.snapshot(environment)),
            forPromotion: forPromotion, requiringSecrets: true)
        try await warnAboutPolicy(&plan, server: server)
        return plan
    }

    /// The plan for `environment` against a recorded state from anywhere (a snapshot file, the local
    /// store, nothing yet); on invalid blueprints or environments, prints every problem and exits 1.
    /// `requiringSecrets` (a state from the orchestrator, which holds the secrets): a site's reference to
    /// a secret the state does not list is an error at the reference, not only a warning in the plan.
    func plan(
        _ environment: String, manifest: ReleaseManifest?, recorded: StateSnapshot, forPromotion: Bool = false,
        requiringSecrets: Bool = false
    ) throws -> Plan {
        let (loaded, resolved) = try resolve(
            environment, releaseProducts: manifest?.components.keys ?? [:].keys, checkingProducts: checksProducts)
        if requiringSecrets, let definition = loaded.environments[environment] {
            let missing = Self.secretReferences(in: definition).filter { recorded.secrets[$0.value] == nil }
            if !missing.isEmpty {
                let diagnostics = missing.map { reference in
                    Diagnostic(
                        at: reference.location,
                        "the orchestrator holds no secret '\(reference.value)' for \(environment)",
                        hint:
                            "set it with `stellwerk secret set \(reference.value) --env \(environment) --stdin`, or let the "
                            + "server make one with `stellwerk secret generate \(reference.value) --env \(environment)`"
                    )
                }
                DiagnosticPrinter(terminal: terminal, root: try workspace.rootURL()).printAll(
                    diagnostics, to: .standardError)
                throw ExitCode(1)
            }
        }
        var plan = Planner(release: manifest).plan(resolved, revision: loaded.revision, recorded: recorded)
        // Every plan carries its environment's whole policy: the server compares it with its own copy.
        plan.promotion = try policy(of: resolved, in: loaded).promotion
        if forPromotion, plan.promotion == nil {
            throw CLIError(
                "no environment promotes to \(environment); name it in another environment's promotes_to to promote into it"
            )
        }
        return plan
    }

    /// Warns in the plan when the server holds no policy for its environment, or another one: it
    /// will refuse the plan, and the operator should read why before applying, not after.
    func warnAboutPolicy(_ plan: inout Plan, server: OrchestratorConnection) async throws {
        guard let policy = plan.policy else { return }
        let environment = plan.environment
        guard let held = try await server.send(.policy(environment)).recorded?.policy else {
            plan.warnings.append(
                "the server holds no policy for \(environment) yet and will refuse this plan; an approver records it with `stellwerk policy apply --env \(environment)`"
            )
            return
        }
        let differences = policy.differences(from: held)
        if !differences.isEmpty {
            plan.warnings.append(
                "the environment's policy differs from the one the server holds, so the server will refuse this plan ("
                    + differences.joined(separator: "; ")
                    + "); an approver records it with `stellwerk policy apply --env \(environment)`")
        }
    }

    /// Every `{secret: NAME}` a site of `environment` gives, where it is written.
    static func secretReferences(in environment: EnvironmentDefinition) -> [Located<String>] {
        secretReferences(in: environment.sites)
    }

    /// Every `{secret: NAME}` the `sites` give, where it is written.
    static func secretReferences(in sites: [SiteDefinition]) -> [Located<String>] {
        sites.flatMap(\.services).flatMap(\.parameters).compactMap { parameter in
            if case .secret(let name) = parameter.value { name } else { nil }
        }
    }

    /// The policy of `environment` as its files say, for `stellwerk policy`: whatever the blueprints run.
    func policy(_ environment: String) throws -> EnvironmentPolicy {
        let (loaded, resolved) = try resolve(environment, checkingProducts: false)
        return try policy(of: resolved, in: loaded)
    }

    private func policy(of resolved: ResolvedEnvironment, in loaded: Workspace) throws -> EnvironmentPolicy {
        let source = loaded.environments.values.filter { $0.promotesTo?.value == resolved.name }.map(\.name.value)
            .min()
        return EnvironmentPolicy(
            rollout: Planner.settings(resolved.definition.rollout),
            promotion: source.map { Planner.promotionPolicy(resolved, source: $0) })
    }

    private func resolve(
        _ environment: String, releaseProducts: some Sequence<String> = [String](), checkingProducts: Bool = true
    ) throws -> (Workspace, ResolvedEnvironment) {
        let (loaded, root) = try workspace.load(
            terminal: terminal, releaseProducts: releaseProducts, checkingProducts: checkingProducts, added: added)
        do {
            return (loaded, try EnvironmentResolver(workspace: loaded).resolve(environment))
        } catch {
            DiagnosticPrinter(terminal: terminal, root: root).printAll(error.diagnostics, to: .standardError)
            throw ExitCode(1)
        }
    }
}
