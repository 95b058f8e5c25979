package import Model
package import StellwerkAPI

/// Computes desired state and plans: a pure function of blueprints, environment, release and recorded
/// state. The same inputs always give a byte-identical plan.
///
/// ```swift
/// let environment = try EnvironmentResolver(workspace: workspace).resolve("sandbox")
/// let plan = Planner(release: nil).plan(environment, revision: workspace.revision, recorded: .empty(environment: "sandbox"))
/// ```
package struct Planner: Sendable {
    /// The release to deploy; `nil` deploys the working tree as ``ReleaseManifest/unreleased``.
    package var release: ReleaseManifest?

    package init(release: ReleaseManifest?) {
        self.release = release
    }

    // MARK: Desired state

    /// The desired state of every node of the environment, by node name in natural order (`n2` before
    /// `n10`), the order rollouts take them in.
    package func desiredState(_ environment: ResolvedEnvironment, secrets: [String: String]) -> [NodeDesiredState] {
        environment.sites.flatMap { site in
            site.nodes.map { desiredState(of: $0, site: site, environment: environment, secrets: secrets) }
        }.sorted { NaturalOrder.less($0.node, $1.node) }
    }

    private func desiredState(
        of node: ResolvedNode, site: ResolvedSite, environment: ResolvedEnvironment, secrets: [String: String]
    ) -> NodeDesiredState {
        let order = Dictionary(
            node.instances.filter { !$0.startsAfter.isEmpty }.map { ($0.service, $0.startsAfter) },
            uniquingKeysWith: { first, _ in first })
        return NodeDesiredState(
            node: node.name, site: site.name, environment: environment.name, address: node.address,
            instances: node.instances.map { instanceSpec($0, secrets: secrets) },
            startsAfter: order.isEmpty ? nil : order, push: node.push)
    }

    private func instanceSpec(_ instance: ResolvedInstance, secrets: [String: String]) -> InstanceSpec {
        let artifact: ArtifactReference
        switch instance.source {
        case .product:
            artifact = ArtifactReference(
                component: instance.component, sha256: release?.components[instance.component]?.sha256, url: nil,
                executable: instance.executable)
        case .external(let url, let sha256?):
            artifact = ArtifactReference(
                component: instance.component, sha256: sha256, url: url, executable: instance.executable)
        case .external:
            // Unpinned: the release carries it, as it does the products.
            artifact = ArtifactReference(
                component: instance.component, sha256: release?.components[instance.component]?.sha256, url: nil,
                executable: instance.executable)
        case .package(let name):
            artifact = ArtifactReference(
                component: instance.component, sha256: nil, url: nil, executable: instance.executable, package: name)
        }
        var parameters: [String: ParameterSetting] = [:]
        for (name, value) in instance.parameters {
            switch value {
            case .value(let text): parameters[name] = .value(Self.shown(text))
            case .secret(let secret): parameters[name] = .secret(name: secret, fingerprint: secrets[secret])
            case .unset: break
            }
        }
        let migrations = instance.migrations.map {
            MigrationSpec(
                arguments: $0.arguments, backup: $0.backup, reversible: $0.reversible,
                target: release?.components[instance.component]?.migrations.last,
                databases: $0.databases.isEmpty ? nil : $0.databases, keepBackups: $0.keepBackups)
        }
        return InstanceSpec(
            service: instance.service, blueprint: instance.blueprint,
            release: release?.id ?? ReleaseManifest.unreleased,
            artifact: artifact, arguments: instance.arguments, configFiles: instance.configFiles,
            configDigest: Self.configDigest(instance.configFiles), parameters: parameters, ports: instance.ports,
            health: instance.health, migrations: migrations, stopGraceSeconds: instance.stopGraceSeconds,
            user: instance.user)
    }

    /// SHA-256 over paths, modes and content digests of the rendered files, in path order.
    /// A parameter as plans show it: text of several lines (a file a site gives) by its size and
    /// digest, since the config file it fills is listed in the plan already.
    package static func shown(_ value: String) -> String {
        guard value.contains("\n") else { return value }
        let lines =
            value.split(separator: "\n", omittingEmptySubsequences: false).count - (value.hasSuffix("\n") ? 1 : 0)
        return "\(lines) lines, sha256:\(Digest.sha256(value).prefix(12))"
    }

    package static func configDigest(_ files: [ConfigFile]) -> String {
        var text = ""
        for file in files.sorted(by: { $0.path < $1.path }) {
            text += "\(file.path)\u{0}\(String(file.mode, radix: 8))\u{0}\(file.sha256)\u{0}"
        }
        return Digest.sha256(text)
    }

    // MARK: Plan

    /// The plan that takes the environment from `recorded` to its desired state.
    package func plan(_ environment: ResolvedEnvironment, revision: String, recorded: StateSnapshot) -> Plan {
        let desired = desiredState(environment, secrets: recorded.secrets)
        var desiredByNode: [String: NodeDesiredState] = [:]
        for state in desired { desiredByNode[state.node] = state }

        var sites: [SitePlan] = []
        var declaredNodes = Set<String>()
        for site in environment.sites {
            var nodes: [NodePlan] = []
            for node in site.nodes {
                declaredNodes.insert(node.name)
                guard let state = desiredByNode[node.name] else { continue }
                let changes = Self.changes(from: recorded.nodes[node.name]?.instances ?? [], to: state.instances)
                nodes.append(NodePlan(node: node.name, address: node.address, changes: changes, desired: state))
            }
            // Nodes this site no longer declares: everything they run is removed.
            for (name, record) in recorded.nodes.sorted(by: { $0.key < $1.key })
            where record.site == site.name && !declaredNodes.contains(name) {
                declaredNodes.insert(name)
                nodes.append(removal(of: name, record: record, environment: environment.name))
            }
            sites.append(
                SitePlan(
                    site: site.name, displayName: site.displayName,
                    nodes: nodes.sorted { NaturalOrder.less($0.node, $1.node) },
                    serves: site.routes.isEmpty
                        ? nil : site.routes.map { ServedAddress(url: $0.url, service: $0.service) }))
        }
        // Nodes of sites that no longer exist.
        var orphans: [String: [NodePlan]] = [:]
        for (name, record) in recorded.nodes where !declaredNodes.contains(name) {
            orphans[record.site, default: []].append(removal(of: name, record: record, environment: environment.name))
        }
        for (site, nodes) in orphans {
            sites.append(
                SitePlan(
                    site: site, displayName: "\(site) (no longer declared)",
                    nodes: nodes.sorted { NaturalOrder.less($0.node, $1.node) }))
        }
        sites.sort { $0.site < $1.site }
        var plan = Plan(
            environment: environment.name, serial: recorded.serial, release: release?.id ?? ReleaseManifest.unreleased,
            revision: revision, sites: sites, warnings: warnings(desired, secrets: recorded.secrets))
        plan.rollout = Self.settings(environment.definition.rollout)
        return plan
    }

    /// The environment's rollout policy in the form the server reads from a plan.
    package static func settings(_ policy: RolloutPolicy) -> RolloutSettings {
        let (inFlight, percent): (Int, Bool) =
            switch policy.maxInFlight {
            case .count(let count): (count, false)
            case .percent(let value): (value, true)
            }
        return RolloutSettings(
            canary: policy.canary, maxInFlight: inFlight, maxInFlightPercent: percent,
            minHealthySeconds: policy.minHealthyTime.seconds, healthyDeadlineSeconds: policy.healthyDeadline.seconds,
            progressDeadlineSeconds: policy.progressDeadline.seconds, autoRollback: policy.autoRollback,
            lostAfterSeconds: policy.lostAfter.seconds, onDisconnected: policy.onDisconnected)
    }

    /// The gates of a promotion from `source` into `environment`, with every site's maintenance
    /// windows, in the form the server evaluates.
    package static func promotionPolicy(_ environment: ResolvedEnvironment, source: String) -> PromotionPolicy {
        let gates = environment.definition.promotion
        return PromotionPolicy(
            source: source, soakSeconds: gates.soak.seconds, approvals: gates.approvals,
            respectWindows: gates.respectWindows, canarySite: gates.canarySite?.value,
            maxSitesInFlight: gates.maxSitesInFlight,
            windows: Dictionary(
                uniqueKeysWithValues: environment.sites.map { site in
                    (
                        site.name,
                        site.maintenanceWindows.map { MaintenanceWindowSpec(days: $0.days, from: $0.from, to: $0.to) }
                    )
                }))
    }

    private func removal(of node: String, record: RecordedNode, environment: String) -> NodePlan {
        NodePlan(
            node: node, address: record.address,
            changes: record.instances.map { ServiceChange(service: $0.service, action: .remove, details: []) }
                .sorted { $0.service < $1.service },
            desired: NodeDesiredState(
                node: node, site: record.site, environment: environment, address: record.address, instances: []))
    }

    private func warnings(_ desired: [NodeDesiredState], secrets: [String: String]) -> [String] {
        var unset: [String: Set<String>] = [:]
        var unbuilt = Set<String>()
        for node in desired {
            for instance in node.instances {
                for case .secret(let name, nil) in instance.parameters.values {
                    unset[name, default: []].insert("\(instance.service) at \(node.site)")
                }
                if !instance.artifact.isRunnable { unbuilt.insert(instance.artifact.component) }
            }
        }
        var warnings = unset.keys.sorted().map { name in
            let users = unset[name, default: []].sorted()
            let shown =
                users.prefix(3).joined(separator: ", ") + (users.count > 3 ? " and \(users.count - 3) more" : "")
            return "secret '\(name)' has no value yet (used by \(shown))"
        }
        if !unbuilt.isEmpty {
            let missing = unbuilt.sorted().joined(separator: ", ")
            if let release {
                let hint = unbuilt.sorted().compactMap { component -> String? in
                    guard component.hasPrefix("external:") else { return nil }
                    return "--artifact \(component.dropFirst("external:".count))=FILE.tar"
                }
                warnings.append(
                    "release \(release.id) carries no \(missing), so this plan cannot be applied"
                        + (hint.isEmpty
                            ? "" : "; make a release with `stellwerk release create \(hint.joined(separator: " "))`"))
            } else {
                warnings.append(
                    "no release given: \(missing) is not built into an artifact yet, so this plan cannot be applied")
            }
        }
        return warnings
    }

    /// The entries for one node, one per service that is recorded or desired, sorted by service.
    package static func changes(from recorded: [InstanceSpec], to desired: [InstanceSpec]) -> [ServiceChange] {
        var recordedByService: [String: InstanceSpec] = [:]
        for instance in recorded { recordedByService[instance.service] = instance }
        var changes: [ServiceChange] = []
        for instance in desired {
            guard let old = recordedByService.removeValue(forKey: instance.service) else {
                changes.append(ServiceChange(service: instance.service, action: .create, details: []))
                continue
            }
            changes.append(change(from: old, to: instance))
        }
        for instance in recordedByService.values {
            changes.append(ServiceChange(service: instance.service, action: .remove, details: []))
        }
        return changes.sorted { $0.service < $1.service }
    }

    private static func change(from old: InstanceSpec, to new: InstanceSpec) -> ServiceChange {
        var details: [ChangeDetail] = []
        if old.blueprint != new.blueprint {
            details.append(ChangeDetail(kind: .artifact, name: "blueprint", from: old.blueprint, to: new.blueprint))
        }
        if old.release != new.release {
            details.append(ChangeDetail(kind: .release, from: old.release, to: new.release))
        }
        if old.artifact.package != new.artifact.package {
            details.append(
                ChangeDetail(kind: .artifact, name: "package", from: old.artifact.package, to: new.artifact.package))
        } else if old.artifact != new.artifact {
            details.append(
                ChangeDetail(
                    kind: .artifact, name: new.artifact.component, from: short(old.artifact.sha256),
                    to: short(new.artifact.sha256)))
        }
        if old.configDigest != new.configDigest {
            // Compared by digest: recorded specs come from agents' reports, which carry no contents.
            let oldFiles = Dictionary(
                old.configFiles.map { ($0.path, $0.withoutContent) }, uniquingKeysWith: { first, _ in first })
            let newFiles = Dictionary(
                new.configFiles.map { ($0.path, $0.withoutContent) }, uniquingKeysWith: { first, _ in first })
            for path in Set(oldFiles.keys).union(newFiles.keys).sorted() where oldFiles[path] != newFiles[path] {
                let what = oldFiles[path] == nil ? "added" : newFiles[path] == nil ? "removed" : "changed"
                details.append(ChangeDetail(kind: .config, name: path, to: what))
            }
        }
        for name in Set(old.parameters.keys).union(new.parameters.keys).sorted() {
            let before = old.parameters[name]
            let after = new.parameters[name]
            guard before != after else { continue }
            switch (before, after) {
            case (.secret?, _), (_, .secret?):
                details.append(ChangeDetail(kind: .secret, name: name, to: "changed"))
            case (.value(let from)?, .value(let to)?):
                details.append(ChangeDetail(kind: .parameter, name: name, from: from, to: to))
            case (.value(let from)?, nil):
                details.append(ChangeDetail(kind: .parameter, name: name, from: from))
            case (nil, .value(let to)?):
                details.append(ChangeDetail(kind: .parameter, name: name, to: to))
            case (nil, nil):
                break
            }
        }
        if old.arguments != new.arguments {
            details.append(
                ChangeDetail(
                    kind: .arguments, from: old.arguments.joined(separator: " "),
                    to: new.arguments.joined(separator: " ")))
        }
        for name in Set(old.ports.keys).union(new.ports.keys).sorted() where old.ports[name] != new.ports[name] {
            details.append(
                ChangeDetail(
                    kind: .ports, name: name, from: old.ports[name].map(String.init),
                    to: new.ports[name].map(String.init)))
        }
        if old.health != new.health || old.stopGraceSeconds != new.stopGraceSeconds {
            details.append(ChangeDetail(kind: .health))
        }
        if old.user != new.user {
            details.append(ChangeDetail(kind: .user, from: old.user, to: new.user))
        }
        let migrationChanged = old.migrations?.target != new.migrations?.target
        if migrationChanged || old.migrations?.arguments != new.migrations?.arguments
            || old.migrations?.backup != new.migrations?.backup
            || old.migrations?.reversible != new.migrations?.reversible
        {
            details.append(
                migrationChanged
                    ? ChangeDetail(kind: .migrations, from: old.migrations?.target, to: new.migrations?.target)
                    : ChangeDetail(kind: .migrations, name: "settings"))
        }
        let action: PlanAction
        if details.isEmpty {
            action = .unchanged
        } else if migrationChanged, new.migrations?.target != nil {
            action = .migrate
        } else if details.allSatisfy({ $0.kind == .secret }) {
            action = .restart
        } else {
            action = .update
        }
        return ServiceChange(service: new.service, action: action, details: details)
    }

    private static func short(_ digest: String?) -> String {
        guard let digest else { return "unbuilt" }
        return String(digest.prefix(12))
    }
}

extension StateSnapshot {
    /// The state a perfect apply of `plan` produces: every node reports exactly its desired state.
    package func afterApplying(_ plan: Plan) -> StateSnapshot {
        var next = self
        next.serial += 1
        for site in plan.sites {
            for node in site.nodes {
                if node.desired.instances.isEmpty {
                    next.nodes.removeValue(forKey: node.node)
                } else {
                    next.nodes[node.node] = RecordedNode(
                        site: node.desired.site, address: node.desired.address, instances: node.desired.instances)
                }
            }
        }
        return next
    }
}
