import Artifacts
import Foundation
import StellwerkAPI
import Store

/// Turns a plan into a stored rollout: refuses a stale plan, a second active rollout in the same
/// environment, a plan the environment's recorded policy does not allow and releases the server does
/// not hold, then orders the changing nodes into waves.
struct RolloutPlanner {
    let store: StateStore
    let signingKey: Data

    func start(_ plan: Plan, actor: String, now: Date = Date()) async throws -> RolloutRecord {
        guard plan.format == Plan.currentFormat else {
            throw APIError.badRequest(
                "the plan has format \(plan.format); this server reads format \(Plan.currentFormat)")
        }
        try await refuseConcurrent(plan.environment)
        let serial = try await store.serial(environment: plan.environment)
        guard serial == plan.serial else {
            throw APIError(
                .stalePlan,
                "the plan is stale: it was computed at serial \(plan.serial), but \(plan.environment) is at serial \(serial) now; plan again and review the new plan"
            )
        }
        let enforcement = PolicyEnforcement(store: store)
        let policy = try await enforcement.enforced(for: plan)
        try await enforcement.checkApply(plan, policy: policy, now: now)
        return try await create(
            environment: plan.environment, release: plan.release, serial: serial, settings: policy.rollout,
            steps: try await steps(of: plan.sites), actor: actor, now: now)
    }

    /// The nodes of `sites` whose desired state changes, each with the signed manifests of the
    /// releases it runs. Refuses instances without a built artifact and releases the server does not hold.
    func steps(of sites: [SitePlan]) async throws -> [(node: String, site: String, target: NodeDesiredState)] {
        var signed: [String: SignedReleaseManifest] = [:]
        var steps: [(node: String, site: String, target: NodeDesiredState)] = []
        var held: [String: [String: SecretRecord]] = [:]
        var joined: [String: [String: String]] = [:]
        for site in sites {
            for node in site.nodes where node.changes.contains(where: { $0.action != .unchanged }) {
                var target = node.desired
                target.releases = []
                if held[target.environment] == nil {
                    held[target.environment] = try await heldSecrets(target.environment)
                    joined[target.environment] = Dictionary(
                        try await store.nodes(environment: target.environment).map { ($0.name, $0.site) },
                        uniquingKeysWith: { first, _ in first })
                }
                // A node's site is the one it joined for (its join token's), not what a plan says.
                if let registered = joined[target.environment]?[node.node], registered != target.site {
                    throw APIError.conflict(
                        "\(node.node) joined for the site \(registered), but the plan places it in \(target.site)")
                }
                for instance in target.instances {
                    try Self.checkSecrets(of: instance, on: target, held: held[target.environment] ?? [:])
                    guard instance.artifact.isRunnable else {
                        throw APIError.conflict(
                            "\(instance.service) on \(node.node) has no built artifact (release \(instance.release)); create a release and plan with it"
                        )
                    }
                    if signed[instance.release] == nil {
                        guard let manifest = try await store.release(id: instance.release) else {
                            throw APIError.conflict("the server holds no release \(instance.release); create it first")
                        }
                        signed[instance.release] = try ReleaseSigner.sign(manifest, privateKey: signingKey)
                    }
                    if let manifest = signed[instance.release] {
                        if !target.releases.contains(manifest) { target.releases.append(manifest) }
                    }
                }
                steps.append((node.node, site.site, target))
            }
        }
        return steps
    }

    /// Refuses an instance that names a secret the orchestrator does not hold, one held for another
    /// site, or one whose value changed since the plan was computed (the plan would not show it).
    static func checkSecrets(
        of instance: InstanceSpec, on node: NodeDesiredState, held: [String: SecretRecord]
    ) throws(APIError) {
        let environment = node.environment
        for name in instance.secretNames.sorted() {
            guard let secret = held[name] else {
                throw .conflict(
                    "\(instance.service) on \(node.node) uses the secret '\(name)', which the orchestrator does not hold "
                        + "for \(environment); set it first: `stellwerk secret set \(name) --env \(environment) --stdin` "
                        + "(or `secret generate`)")
            }
            if let site = secret.site, site != node.site {
                throw .conflict(
                    "\(instance.service) on \(node.node) (site \(node.site)) uses the secret '\(name)', "
                        + "which is held for the site \(site) only")
            }
        }
        for case .secret(let name, let fingerprint) in instance.parameters.values
        where held[name].map({ $0.fingerprint != fingerprint }) == true {
            throw APIError(
                .stalePlan,
                "the secret '\(name)' of \(environment) changed after the plan was computed; plan again and review the new plan"
            )
        }
    }

    private func heldSecrets(_ environment: String) async throws -> [String: SecretRecord] {
        Dictionary(
            try await store.secrets(environment: environment).map { ($0.name, $0) },
            uniquingKeysWith: { first, _ in first })
    }

    /// A rollback's target names the secrets as they were then; it gets their values now (a rotated
    /// password does not come back with an old release), so it names their current fingerprints.
    static func withCurrentSecrets(_ state: NodeDesiredState, held: [String: SecretRecord]) -> NodeDesiredState {
        var state = state
        for index in state.instances.indices {
            for (parameter, setting) in state.instances[index].parameters {
                guard case .secret(let name, _) = setting, let secret = held[name] else { continue }
                state.instances[index].parameters[parameter] = .secret(name: name, fingerprint: secret.fingerprint)
            }
        }
        return state
    }

    /// A rollout back to the last release that finished healthy everywhere in `environment`, without
    /// a canary wave: the aim is to leave a bad release quickly.
    func rollback(environment: String, actor: String, now: Date = Date()) async throws -> RolloutRecord {
        try await refuseConcurrent(environment)
        let (good, settings, steps, _) = try await rollbackSteps(environment)
        try await PolicyEnforcement(store: store).checkRollback(
            environment: environment, release: good.release, sites: steps.map(\.site), now: now)
        return try await create(
            environment: environment, release: good.release, serial: try await store.serial(environment: environment),
            settings: settings, steps: steps, actor: actor, now: now)
    }

    /// What a rollback would do, for the operator to confirm: in particular which instances go back
    /// past migrations that cannot be undone, so their data returns to the backup from before them.
    func rollbackPreview(environment: String) async throws -> RollbackPreview {
        let (good, _, steps, current) = try await rollbackSteps(environment)
        var restores: [String] = []
        for step in steps {
            let now = Dictionary(
                (current[step.node]?.state.instances ?? []).map { ($0.service, $0) }, uniquingKeysWith: { a, _ in a })
            for instance in step.target.instances {
                guard let running = now[instance.service]?.migrations, !running.reversible,
                    let from = running.target, let to = instance.migrations?.target, to < from
                else { continue }
                restores.append(
                    "\(instance.service) on \(step.node): migration \(from) cannot be undone; its data returns to the backup taken at \(to), and what was written since is lost"
                )
            }
        }
        let from = Set(current.values.flatMap { $0.state.instances.map(\.release) }).sorted().joined(separator: ", ")
        return RollbackPreview(
            environment: environment, from: from, to: good.release, nodes: steps.map(\.node), restores: restores)
    }

    private func rollbackSteps(
        _ environment: String
    ) async throws -> (
        good: RolloutRecord, settings: RolloutSettings, steps: [(node: String, site: String, target: NodeDesiredState)],
        current: [String: (serial: Int, state: NodeDesiredState)]
    ) {
        let rollouts = try await store.rollouts(environment: environment)
        guard let latest = rollouts.first else {
            throw APIError.conflict("nothing was ever rolled out in \(environment)")
        }
        guard let good = rollouts.first(where: { $0.state == .succeeded && $0.release != latest.release })
        else {
            throw APIError.conflict(
                "\(environment) has no earlier release that was healthy everywhere (current: \(latest.release))")
        }
        let document = try RolloutDocument.decode(good.document)
        var settings = document.settings
        settings.canary = 0
        let targets = try await store.rolloutTargets(id: good.id)
        let stored = try await store.desiredStatesByNode(environment: environment)
        let held = try await heldSecrets(environment)
        var steps: [(node: String, site: String, target: NodeDesiredState)] = []
        for (position, step) in document.steps.enumerated() {
            guard let old = targets[position]?.target else { continue }
            let target = Self.withCurrentSecrets(old, held: held)
            for instance in target.instances { try Self.checkSecrets(of: instance, on: target, held: held) }
            if stored[step.node]?.state != target { steps.append((step.node, step.site, target)) }
        }
        return (good, settings, steps, stored)
    }

    private func refuseConcurrent(_ environment: String) async throws {
        if let promotion = try await store.promotions(target: environment, active: true).first {
            throw APIError.conflict(
                "promotion \(promotion.id) of \(promotion.release) into \(environment) is \(promotion.state); wait for it, or cancel it with `stellwerk promotion cancel \(promotion.id)`"
            )
        }
        if let active = try await store.rollouts(environment: environment).first(where: \.state.isActive) {
            throw APIError.conflict(
                "rollout \(active.id) is still \(active.state) in \(environment); wait for it, or cancel it with `stellwerk rollout cancel \(active.id)`"
            )
        }
    }

    /// Stores a rollout of `steps`; `promotion` names the promotion it carries a site of.
    func create(
        environment: String, release: String, serial: Int, settings: RolloutSettings,
        steps: [(node: String, site: String, target: NodeDesiredState)], actor: String, now: Date,
        promotion: String? = nil
    ) async throws -> RolloutRecord {
        let waves = RolloutDocument.waves(of: steps.map { ($0.node, $0.site) }, settings: settings)
        var nodeSteps: [RolloutDocument.NodeStep] = []
        var targets: [RolloutTarget] = []
        let current = try await store.desiredStatesByNode(
            environment: environment, only: Set(steps.map(\.node)))
        for (index, step) in steps.enumerated() {
            let previous = current[step.node]?.state
            targets.append(RolloutTarget(node: step.node, target: step.target, previous: previous))
            nodeSteps.append(
                RolloutDocument.NodeStep(
                    node: step.node, site: step.site, wave: waves[index], address: step.target.address,
                    expected: ExpectedInstance.of(step.target),
                    previousExpected: previous.map { ExpectedInstance.of($0) },
                    state: .waiting, detail: "waiting", startedAt: nil, healthySince: nil, writtenSerial: nil,
                    updatedAt: now))
        }
        let document = RolloutDocument(
            settings: settings, createdBy: actor,
            message: steps.isEmpty ? "nothing to change" : "starting", steps: nodeSteps, lastProgressAt: now,
            failedWave: nil, promotion: promotion)
        let record = RolloutRecord(
            id: "ro-" + UUID().uuidString.lowercased().prefix(8), environment: environment, release: release,
            serial: serial, state: steps.isEmpty ? .succeeded : .running, document: try document.encoded(),
            createdAt: now, updatedAt: now)
        try await store.createRollout(record, targets: targets, actor: actor)
        return record
    }
}
