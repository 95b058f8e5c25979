package import StellwerkAPI

/// A stage such as `sandbox` or `live`: its rollout policy, the gates a release passes to enter it,
/// and its sites.
package struct EnvironmentDefinition: Sendable {
    package var name: Located<String>
    package var file: String
    package var description: String
    /// The environment releases verified here are promoted to.
    package var promotesTo: Located<String>?
    package var rollout: RolloutPolicy
    /// The gates a release passes to be promoted into this environment.
    package var promotion: PromotionGates
    /// Sites sorted by name.
    package var sites: [SiteDefinition]
    /// Names of site files that could not be read; their errors are reported already.
    package var brokenSites: Set<String> = []
}

/// How a plan is rolled out to the nodes of an environment.
package struct RolloutPolicy: Sendable, Hashable {
    /// How many nodes at most are updated at once.
    package enum InFlight: Sendable, Hashable, CustomStringConvertible {
        case count(Int)
        case percent(Int)

        package var description: String {
            switch self {
            case .count(let count): "\(count)"
            case .percent(let percent): "\(percent)%"
            }
        }
    }

    /// What a rollout does about a node that is not connected.
    /// What a wave does about a disconnected node: the wire's own enum, so plans carry it as it is.
    package typealias DisconnectedNodes = RolloutSettings.DisconnectedNodes

    package var canary: Int
    package var maxInFlight: InFlight
    package var minHealthyTime: TimeSpan
    package var healthyDeadline: TimeSpan
    package var progressDeadline: TimeSpan
    package var autoRollback: Bool
    package var lostAfter: TimeSpan
    package var onDisconnected: DisconnectedNodes

    /// The defaults documented in docs/environments.md.
    package static let defaults = RolloutPolicy(
        canary: 1, maxInFlight: .count(1), minHealthyTime: TimeSpan(seconds: 10),
        healthyDeadline: TimeSpan(seconds: 300),
        progressDeadline: TimeSpan(seconds: 600), autoRollback: true, lostAfter: TimeSpan(seconds: 120),
        onDisconnected: .wait)
}

/// The gates a release passes before it is promoted into an environment.
package struct PromotionGates: Sendable, Hashable {
    /// How long the release must have run healthy in the source environment.
    package var soak: TimeSpan
    /// How many approvals from holders of the approver role, not counting the requester.
    package var approvals: Int
    /// Whether sites are only touched inside their maintenance windows.
    package var respectWindows: Bool
    /// The site that gets a promotion first; `nil` for the first site by name.
    package var canarySite: Located<String>?
    /// How many sites are rolled out at once after the canary site.
    package var maxSitesInFlight: Int

    package static let defaults = PromotionGates(
        soak: TimeSpan(seconds: 0), approvals: 0, respectWindows: false, canarySite: nil, maxSitesInFlight: 1)
}

/// One member municipality inside an environment.
package struct SiteDefinition: Sendable {
    package var name: Located<String>
    package var file: String
    package var displayName: String
    package var nodes: [NodeDefinition]
    package var services: [ServiceAssignment]
    package var maintenanceWindows: [MaintenanceWindow]
    /// How its servers are reached by SSH, unless a node says otherwise.
    package var ssh = SSHSettings()

    /// How the orchestrator pushes to `node` when it is a push node: its SSH settings with their
    /// defaults (root, port 22, /var/lib/stellwerk); `nil` for a node whose agent calls in.
    package func pushTarget(for node: NodeDefinition) -> PushTarget? {
        guard node.pushed?.value == true else { return nil }
        let settings = ssh(for: node)
        return PushTarget(
            user: settings.user?.value ?? "root", host: node.address.value, port: settings.port?.value ?? 22,
            hostKey: settings.hostKey?.value ?? "", jump: settings.jump?.value,
            jumpHostKey: settings.jumpHostKey?.value,
            prefix: settings.prefix?.value ?? SSHSettings.defaultPrefix)
    }

    /// The SSH settings of `node`: its own, over the site's.
    package func ssh(for node: NodeDefinition) -> SSHSettings {
        SSHSettings(
            user: node.ssh.user ?? ssh.user, port: node.ssh.port ?? ssh.port, hostKey: node.ssh.hostKey,
            jump: node.ssh.jump ?? ssh.jump, jumpHostKey: node.ssh.jump == nil ? ssh.jumpHostKey : node.ssh.jumpHostKey,
            prefix: node.ssh.prefix ?? ssh.prefix)
    }
}

/// How `stellwerk node bootstrap` reaches a server (`ssh:` of a site or a node); what is not given
/// comes from the command line or its defaults (root, port 22, /var/lib/stellwerk).
package struct SSHSettings: Sendable {
    package var user: Located<String>?
    package var port: Located<Int>?
    /// `SHA256:…`: the server's host key, pinned (nodes only: a key belongs to one server).
    package var hostKey: Located<String>?
    /// `ssh://USER@HOST[:PORT]` of the bastion the server is reached through.
    package var jump: Located<String>?
    package var jumpHostKey: Located<String>?
    /// Where the agent lives on the server.
    package var prefix: Located<String>?

    package init(
        user: Located<String>? = nil, port: Located<Int>? = nil, hostKey: Located<String>? = nil,
        jump: Located<String>? = nil, jumpHostKey: Located<String>? = nil, prefix: Located<String>? = nil
    ) {
        self.user = user
        self.port = port
        self.hostKey = hostKey
        self.jump = jump
        self.jumpHostKey = jumpHostKey
        self.prefix = prefix
    }

    /// Where the agent lives on a server unless a site file or the command line says otherwise.
    package static let defaultPrefix = "/var/lib/stellwerk"
}

/// One server at a site.
package struct NodeDefinition: Sendable {
    package var name: Located<String>
    package var address: Located<String>
    package var labels: [String: String]
    package var location: SourceLocation
    package var ssh = SSHSettings()
    /// `transport: ssh`: the node cannot call out, so the orchestrator pushes its state over SSH.
    package var pushed: Located<Bool>?
}

/// A blueprint a site runs, where, and with which values.
package struct ServiceAssignment: Sendable {
    /// The instance name on its nodes; by default the blueprint's name.
    package var name: Located<String>
    package var blueprint: Located<String>
    /// Labels that choose the nodes; `nil` keeps the blueprint's placement.
    package var placement: [(key: Located<String>, value: Located<String>)]?
    package var parameters: [(name: Located<String>, value: ParameterInput)]
    /// Where each dependency is found, by dependency name, when not at this site.
    package var dependencySites: [(name: Located<String>, site: Located<String>)]
    /// Parameters the site sets in a way that could not be read; reported already.
    package var brokenParameters: Set<String> = []
}

/// A parameter value as a site writes it.
package enum ParameterInput: Sendable {
    case plain(YAMLScalar)
    case secret(Located<String>)
    /// `{file: PATH}`: the text of a file in the environment's folder, for `text` parameters. `path` is
    /// as written; `source` is the file's path from the workspace's root.
    case file(Located<String>, source: String)
}

/// When a site may be changed, in Europe/Berlin local time.
package struct MaintenanceWindow: Sendable, Hashable {
    /// ISO weekdays, 1 = Monday.
    package var days: [Int]
    /// Minutes after midnight the window opens.
    package var from: Int
    /// Minutes after midnight the window closes; smaller than `from` for a window across midnight.
    package var to: Int
}
