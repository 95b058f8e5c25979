/// What one node must run: every service instance placed on it, fully rendered.
///
/// The planner computes it, the store keeps it under a serial, and the agent converges to it. It is
/// never written by hand.
public struct NodeDesiredState: Codable, Sendable, Hashable {
    /// The node's name, unique within its environment.
    public var node: String
    /// The site (member municipality) the node belongs to.
    public var site: String
    /// The environment (stage) the node belongs to.
    public var environment: String
    /// The node's address as the site declares it.
    public var address: String
    /// The instances, sorted by service name.
    public var instances: [InstanceSpec]
    /// The signed manifests of the releases the instances belong to; the agent installs nothing whose
    /// artifact a manifest signed by the orchestrator does not name.
    public var releases: [SignedReleaseManifest]
    /// For an instance that depends on others on this node, those services: the agent converges them
    /// first and the rest side by side. `nil` when no instance depends on another here.
    public var startsAfter: [String: [String]]?
    /// For a node that cannot call out (`transport: ssh`): how the orchestrator reaches it to push
    /// this state. `nil` for a node whose agent fetches its state.
    public var push: PushTarget?

    public init(
        node: String, site: String, environment: String, address: String, instances: [InstanceSpec],
        releases: [SignedReleaseManifest] = [], startsAfter: [String: [String]]? = nil, push: PushTarget? = nil
    ) {
        self.node = node
        self.site = site
        self.environment = environment
        self.address = address
        self.instances = instances
        self.releases = releases
        self.startsAfter = startsAfter
        self.push = push
    }

    private enum CodingKeys: String, CodingKey {
        case node, site, environment, address, instances, releases, startsAfter, push
    }

    /// Reads desired states written before releases were carried along with no releases.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        node = try container.decode(String.self, forKey: .node)
        site = try container.decode(String.self, forKey: .site)
        environment = try container.decode(String.self, forKey: .environment)
        address = try container.decode(String.self, forKey: .address)
        instances = try container.decode([InstanceSpec].self, forKey: .instances)
        releases = try container.decodeIfPresent([SignedReleaseManifest].self, forKey: .releases) ?? []
        startsAfter = try container.decodeIfPresent([String: [String]].self, forKey: .startsAfter)
        push = try container.decodeIfPresent(PushTarget.self, forKey: .push)
    }
}

/// How the orchestrator reaches a push node over SSH (the node's `ssh:` in its site file). No secret:
/// the orchestrator signs in with a key of its own, and the host key is pinned.
public struct PushTarget: Codable, Sendable, Hashable {
    public var user: String
    public var host: String
    public var port: Int
    /// `SHA256:…`: the only key the orchestrator accepts from the node.
    public var hostKey: String
    /// `ssh://USER@HOST[:PORT]` of a bastion in between, and its pinned key.
    public var jump: String?
    public var jumpHostKey: String?
    /// The agent's folder on the node.
    public var prefix: String

    public init(
        user: String, host: String, port: Int, hostKey: String, jump: String? = nil, jumpHostKey: String? = nil,
        prefix: String
    ) {
        self.user = user
        self.host = host
        self.port = port
        self.hostKey = hostKey
        self.jump = jump
        self.jumpHostKey = jumpHostKey
        self.prefix = prefix
    }
}

/// What the orchestrator hands a push node's `stellwerk-agent apply --desired -` over SSH: the
/// state, the serial it was written at, and the secret values it names (in the clear: the SSH channel
/// is the node's, checked by its pinned host key).
public struct PushedState: Codable, Sendable, Hashable {
    public var serial: Int
    public var state: NodeDesiredState
    public var secrets: DeliveredSecrets?

    public init(serial: Int, state: NodeDesiredState, secrets: DeliveredSecrets? = nil) {
        self.serial = serial
        self.state = state
        self.secrets = secrets
    }
}

/// One service instance as a node must run it.
///
/// Everything the agent needs is here except secret values: config files carry `{{secret:NAME}}`
/// markers that the agent fills in when it writes them, and ``parameters`` names secrets only by
/// reference and fingerprint.
public struct InstanceSpec: Codable, Sendable, Hashable {
    /// The instance's name on its node: the service name of the site.
    public var service: String
    /// The blueprint the instance was made from.
    public var blueprint: String
    /// The release the instance belongs to.
    public var release: String
    /// The artifact that holds the instance's executable.
    public var artifact: ArtifactReference
    /// Arguments passed to the component's executable to start the service.
    public var arguments: [String]
    /// Rendered configuration files, relative to the instance's release folder, sorted by path.
    public var configFiles: [ConfigFile]
    /// SHA-256 over every rendered config file (paths, modes, contents), as lowercase hex.
    public var configDigest: String
    /// Parameter values after defaults, by parameter name.
    public var parameters: [String: ParameterSetting]
    /// The ports the instance listens on, by port name.
    public var ports: [String: Int]
    /// How the agent decides that the instance is healthy.
    public var health: HealthCheckSpec
    /// How the instance's data is migrated, if it has migrations.
    public var migrations: MigrationSpec?
    /// Seconds between SIGTERM and SIGKILL when the instance is stopped.
    public var stopGraceSeconds: Int
    /// The system user the instance runs as when the agent runs as root; `nil` keeps the agent's user.
    public var user: String?

    public init(
        service: String, blueprint: String, release: String, artifact: ArtifactReference,
        arguments: [String], configFiles: [ConfigFile], configDigest: String,
        parameters: [String: ParameterSetting], ports: [String: Int], health: HealthCheckSpec,
        migrations: MigrationSpec?, stopGraceSeconds: Int, user: String? = nil
    ) {
        self.service = service
        self.blueprint = blueprint
        self.release = release
        self.artifact = artifact
        self.arguments = arguments
        self.configFiles = configFiles
        self.configDigest = configDigest
        self.parameters = parameters
        self.ports = ports
        self.health = health
        self.migrations = migrations
        self.stopGraceSeconds = stopGraceSeconds
        self.user = user
    }
}

extension InstanceSpec {
    /// The secrets the instance needs: those its parameters name, and the `{{secret:NAME}}` markers
    /// in its config files (a dependency's export given as a secret reference arrives as a marker).
    public var secretNames: Set<String> {
        var names: Set<String> = []
        for case .secret(let name, _) in parameters.values { names.insert(name) }
        for file in configFiles {
            var rest = Substring(file.content)
            while let open = rest.firstRange(of: "{{secret:") {
                rest = rest[open.upperBound...]
                guard let close = rest.firstRange(of: "}}") else { break }
                let marker = rest[..<close.lowerBound]
                names.insert(String(marker.split(separator: "|", maxSplits: 1).first ?? marker))
                rest = rest[close.upperBound...]
            }
        }
        return names
    }
}

/// Where an instance's executable comes from.
public struct ArtifactReference: Codable, Sendable, Hashable {
    /// The component name: a product of this repository (`datenplattform`), `external:<blueprint>`, or
    /// `package:<name>`.
    public var component: String
    /// The artifact's SHA-256, lowercase hex; `nil` while the component is not built into a release,
    /// and for a package.
    public var sha256: String?
    /// Where to download the artifact from, for external artifacts.
    public var url: String?
    /// The executable inside the unpacked artifact; for a package, its absolute path on the node.
    public var executable: String
    /// The Debian package that provides the executable on the node, for a component that is not an
    /// artifact (Mosquitto): the agent checks that it is installed instead of downloading anything.
    public var package: String?

    public init(component: String, sha256: String?, url: String?, executable: String, package: String? = nil) {
        self.component = component
        self.sha256 = sha256
        self.url = url
        self.executable = executable
        self.package = package
    }

    /// Whether there is something to run: a built artifact, or a package of the node.
    public var isRunnable: Bool { sha256 != nil || package != nil }

    /// The executable's path for an instance whose release was unpacked into `folder`.
    public func executablePath(in folder: String) -> String {
        package != nil ? executable : folder + "/" + executable
    }
}

/// One rendered configuration file.
public struct ConfigFile: Codable, Sendable, Hashable {
    /// Path relative to the instance's release folder; never absolute, never leaving it.
    public var path: String
    /// Unix permission bits; files that contain secrets are always written 0600.
    public var mode: Int
    /// The rendered text with `{{secret:NAME}}` markers where secret values go; empty in reports,
    /// which carry only the digest.
    public var content: String
    /// SHA-256 of `content`, lowercase hex.
    public var sha256: String

    public init(path: String, mode: Int, content: String, sha256: String) {
        self.path = path
        self.mode = mode
        self.content = content
        self.sha256 = sha256
    }

    private enum CodingKeys: String, CodingKey {
        case path, mode, content, sha256
    }

    /// Reads files written before digests existed with an empty digest.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decode(String.self, forKey: .path)
        mode = try container.decode(Int.self, forKey: .mode)
        content = try container.decode(String.self, forKey: .content)
        sha256 = try container.decodeIfPresent(String.self, forKey: .sha256) ?? ""
    }

    /// The file as an agent reports it: path, mode and digest. Agents never send contents back; the
    /// orchestrator has them, and a rendered file may hold secrets.
    public var withoutContent: ConfigFile {
        ConfigFile(path: path, mode: mode, content: "", sha256: sha256)
    }
}

extension InstanceSpec {
    /// The spec as an agent reports it: config files by digest only.
    public var reported: InstanceSpec {
        var copy = self
        copy.configFiles = configFiles.map(\.withoutContent)
        return copy
    }
}

/// A parameter's value in a desired state: plain text, or a reference to a secret.
public enum ParameterSetting: Codable, Sendable, Hashable {
    /// A plain value in its canonical text form (`8080`, `true`, `30s`).
    case value(String)
    /// A secret, named by reference; `fingerprint` identifies its current value without revealing it,
    /// and is `nil` while the secret has not been set.
    case secret(name: String, fingerprint: String?)

    private enum CodingKeys: String, CodingKey {
        case value, secret, fingerprint
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let name = try container.decodeIfPresent(String.self, forKey: .secret) {
            self = .secret(name: name, fingerprint: try container.decodeIfPresent(String.self, forKey: .fingerprint))
        } else {
            self = .value(try container.decode(String.self, forKey: .value))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .value(let text):
            try container.encode(text, forKey: .value)
        case .secret(let name, let fingerprint):
            try container.encode(name, forKey: .secret)
            try container.encodeIfPresent(fingerprint, forKey: .fingerprint)
        }
    }
}

/// How an agent checks an instance's health.
public struct HealthCheckSpec: Codable, Sendable, Hashable {
    /// The kind of probe.
    public enum Probe: Codable, Sendable, Hashable {
        /// An HTTP GET to `path` on the node's address and `port`, expecting `status`.
        case http(port: Int, path: String, status: Int)
        /// A TCP connect to `port`.
        case tcp(port: Int)
        /// A command run in the instance's folder; exit status 0 is healthy.
        case command([String])
    }

    public var probe: Probe
    public var intervalSeconds: Int
    public var timeoutSeconds: Int
    public var retries: Int
    public var startPeriodSeconds: Int

    public init(probe: Probe, intervalSeconds: Int, timeoutSeconds: Int, retries: Int, startPeriodSeconds: Int) {
        self.probe = probe
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
        self.startPeriodSeconds = startPeriodSeconds
    }
}

/// How an instance's data is migrated when a release brings new migrations.
public struct MigrationSpec: Codable, Sendable, Hashable {
    /// Arguments passed to the component's executable to migrate.
    public var arguments: [String]
    /// Whether the agent backs up the instance's data before migrating.
    public var backup: Bool
    /// Whether the migrations can be undone without restoring the backup.
    public var reversible: Bool
    /// The newest migration the release brings for this component; `nil` when it is not known
    /// (the component is not built into a release yet).
    public var target: String?
    /// The parameters (of type `database_url`) whose PostgreSQL databases the backup dumps with
    /// `pg_dump` beside the data folder; nil when the blueprint has none.
    public var databases: [String]?
    /// How many backups the agent keeps of the instance (the newest); nil: ``defaultKeptBackups``.
    public var keepBackups: Int?

    public static let defaultKeptBackups = 5

    private enum CodingKeys: String, CodingKey {
        case arguments, backup, reversible, target, databases, keepBackups
    }

    /// Reads states written before `reversible` existed as not reversible.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        arguments = try container.decode([String].self, forKey: .arguments)
        backup = try container.decode(Bool.self, forKey: .backup)
        reversible = try container.decodeIfPresent(Bool.self, forKey: .reversible) ?? false
        target = try container.decodeIfPresent(String.self, forKey: .target)
        databases = try container.decodeIfPresent([String].self, forKey: .databases)
        keepBackups = try container.decodeIfPresent(Int.self, forKey: .keepBackups)
    }

    public init(
        arguments: [String], backup: Bool, reversible: Bool = false, target: String?, databases: [String]? = nil,
        keepBackups: Int? = nil
    ) {
        self.arguments = arguments
        self.backup = backup
        self.reversible = reversible
        self.target = target
        self.databases = databases
        self.keepBackups = keepBackups
    }
}

extension ParameterSetting: SchemaNote {
    static var schemaPlaceholder: Any { ParameterSetting.value("") }
    static var schemaNote: String {
        "either {\"value\": TEXT} or {\"secret\": NAME, \"fingerprint\": FINGERPRINT} (fingerprint absent while unset)"
    }
}

extension HealthCheckSpec.Probe: SchemaNote {
    static var schemaPlaceholder: Any { HealthCheckSpec.Probe.tcp(port: 0) }
    static var schemaNote: String {
        "one of {\"http\": {\"port\": N, \"path\": P, \"status\": N}}, {\"tcp\": {\"port\": N}}, "
            + "{\"command\": {\"_0\": [ARGUMENT, …]}}"
    }
}
