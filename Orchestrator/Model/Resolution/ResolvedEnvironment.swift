package import StellwerkAPI

/// An environment with every service placed on its nodes and every template rendered: the input the
/// planner turns into desired state.
package struct ResolvedEnvironment: Sendable {
    package var definition: EnvironmentDefinition
    /// Sites sorted by name.
    package var sites: [ResolvedSite]

    package var name: String { definition.name.value }

    /// The secrets the sites give their services, by name.
    package var secretNames: Set<String> {
        var names: Set<String> = []
        for instance in sites.flatMap(\.nodes).flatMap(\.instances) {
            for case .secret(let name) in instance.parameters.values { names.insert(name) }
        }
        return names
    }
}

package struct ResolvedSite: Sendable {
    package var name: String
    package var displayName: String
    /// Nodes sorted by name.
    package var nodes: [ResolvedNode]
    package var maintenanceWindows: [MaintenanceWindow]
    /// The addresses the site's proxy serves, by host and path; empty without a proxy.
    package var routes: [ResolvedRoute] = []
}

package struct ResolvedNode: Sendable {
    package var name: String
    package var address: String
    package var labels: [String: String]
    /// Instances sorted by service name.
    package var instances: [ResolvedInstance]
    /// How the orchestrator pushes to it; `nil` when its agent calls in.
    package var push: PushTarget? = nil
}

/// A parameter's final value on one instance.
package enum ResolvedParameter: Sendable, Hashable {
    case value(String)
    case secret(String)
    /// An optional parameter without default that the site did not set.
    case unset
}

/// One service instance on one node, rendered, but not yet bound to a release.
package struct ResolvedInstance: Sendable {
    package var service: String
    package var blueprint: String
    /// The component's name in releases (`datenplattform`, `external:NAME`).
    package var component: String
    package var source: Component.Source
    package var executable: String
    package var arguments: [String]
    /// Config files sorted by path; secret values appear as `{{secret:NAME}}` markers.
    package var configFiles: [ConfigFile]
    package var parameters: [String: ResolvedParameter]
    package var ports: [String: Int]
    package var health: HealthCheckSpec
    package var migrations: MigrationDefinition?
    package var stopGraceSeconds: Int
    package var user: String?
    /// Services on the same node this one depends on: the agent starts them first.
    package var startsAfter: [String] = []
}
