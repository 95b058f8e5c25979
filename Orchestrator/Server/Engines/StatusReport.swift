import Foundation
import StellwerkAPI
import Store

/// Every node's connection and instances per environment, from the store: nodes that joined, and
/// nodes that have a desired state but never joined (pending).
struct StatusReport: Sendable {
    let store: StateStore
    /// Silence after which a node counts as disconnected.
    let lostAfter: TimeInterval

    /// The status of `only` (or every environment) that `mayRead` allows.
    func document(only: String?, mayRead: (String) -> Bool, now: Date = Date()) async throws -> StatusDocument {
        let nodes = try await store.nodes(environment: only)
        let rollouts = try await store.rollouts(environment: only)
        var names = Set(nodes.map(\.environment))
        for rollout in rollouts { names.insert(rollout.environment) }
        if let only { names = names.filter { $0 == only } }
        var environments: [EnvironmentStatus] = []
        for environment in names.sorted() where mayRead(environment) {
            let reports = try await store.reports(environment: environment)
            let desired = try await store.desiredStatesByNode(environment: environment)
            var statuses: [NodeStatus] = []
            var places = Set<String>()
            for node in nodes where node.environment == environment {
                places.insert(node.name)
                statuses.append(
                    Self.node(
                        node.name, site: node.site, address: node.address,
                        connection: reports[node.name] == nil && connection(node, now: now) == .connected
                            ? .joined : connection(node, now: now),
                        lastSeen: node.lastSeen, desired: desired[node.name]?.state, report: reports[node.name]?.report)
                )
            }
            for (_, state) in desired.values.sorted(by: { $0.state.node < $1.state.node })
            where !places.contains(state.node) {
                statuses.append(
                    Self.node(
                        state.node, site: state.site, address: state.address, connection: .pending, lastSeen: nil,
                        desired: state, report: reports[state.node]?.report))
            }
            for index in statuses.indices { statuses[index].desiredSerial = desired[statuses[index].node]?.serial }
            environments.append(
                EnvironmentStatus(
                    name: environment, serial: try await store.serial(environment: environment),
                    activeRollout: rollouts.first { $0.environment == environment && $0.state.isActive }?.id,
                    nodes: statuses.sorted { ($0.site, $0.node) < ($1.site, $1.node) },
                    emergency: try await store.standingEmergency(environment: environment).map {
                        "\($0.promotion): \($0.reason)"
                    }))
        }
        return StatusDocument(generatedAt: now, environments: environments)
    }

    private func connection(_ node: NodeRecord, now: Date) -> NodeConnection {
        guard let seen = node.lastSeen else { return .pending }
        return now.timeIntervalSince(seen) > lostAfter ? .disconnected : .connected
    }

    /// A node's instances: what it reports, and what it should run but has not reported yet.
    private static func node(
        _ node: String, site: String, address: String, connection: NodeConnection, lastSeen: Date?,
        desired: NodeDesiredState?, report: NodeReport?
    ) -> NodeStatus {
        var instances: [InstanceStatus] = []
        let wanted = Dictionary((desired?.instances ?? []).map { ($0.service, $0) }, uniquingKeysWith: { a, _ in a })
        for instance in report?.instances ?? [] {
            instances.append(
                InstanceStatus(
                    service: instance.spec.service, release: instance.spec.release,
                    desiredRelease: wanted[instance.spec.service]?.release, state: InstanceStatus.State(instance.state),
                    health: instance.health, lastError: instance.lastError, drift: instance.drift))
        }
        let reported = Set(instances.map(\.service))
        for (service, spec) in wanted where !reported.contains(service) {
            instances.append(
                InstanceStatus(
                    service: service, release: "(none)", desiredRelease: spec.release, state: .pending, health: nil,
                    lastError: nil, drift: []))
        }
        return NodeStatus(
            node: node, site: site, address: address.isEmpty ? (desired?.address ?? "") : address,
            connection: connection, lastSeen: lastSeen, desiredSerial: nil, reportedSerial: report?.desiredSerial,
            instances: instances.sorted { $0.service < $1.service })
    }
}
