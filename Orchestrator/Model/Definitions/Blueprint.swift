/// A declarative description of one platform service: what runs, with which parameters, configured how,
/// checked how, migrated how, and what it needs from other services.
package struct Blueprint: Sendable {
    package var name: Located<String>
    package var file: String
    package var description: String
    package var component: Component
    /// Parameters in the order they are declared.
    package var parameters: [ParameterDefinition]
    package var configFiles: [ConfigTemplate]
    package var health: HealthDefinition
    package var migrations: MigrationDefinition?
    package var dependencies: [DependencyDefinition]
    /// Values other blueprints may read through a dependency, by export name, in declaration order.
    package var exports: [(name: Located<String>, value: Template)]
    /// Ports by port name: each names a parameter of type `port`.
    package var ports: [(name: Located<String>, parameter: Located<String>)]
    /// Labels a node must carry to run the service, unless a site says otherwise.
    package var placement: [(key: Located<String>, value: Located<String>)]
    package var stopGrace: TimeSpan
    /// The system user the service runs as when the agent runs as root; `nil` keeps the agent's user.
    package var user: String?
    /// Parameters that are declared but could not be read; their errors are already reported, so uses
    /// of them are not reported again.
    package var brokenParameters: Set<String> = []
    /// How citizens reach the service through its site's proxy; `nil` for a service nobody outside uses.
    package var publicRoute: PublicRouteDefinition? = nil
    /// Set when the blueprint is a site's reverse proxy: the planner renders the site's public routes
    /// for it (`{{ proxy.servers }}`).
    package var proxy: ProxyDefinition? = nil

    package func parameter(named name: String) -> ParameterDefinition? {
        parameters.first { $0.name.value == name }
    }

    package func port(named name: String) -> Located<String>? {
        ports.first { $0.name.value == name }?.parameter
    }
}

/// What a blueprint runs.
package struct Component: Sendable {
    package enum Source: Sendable, Hashable {
        /// An executable product of this repository, built into each release.
        case product(String)
        /// An artifact from elsewhere: pinned by its SHA-256 (and downloaded from `url`), or — without
        /// a SHA-256 — carried by every release as the component `external:BLUEPRINT`.
        case external(url: String?, sha256: String?)
        /// A program the node's Debian package of this name provides (Mosquitto, say): nothing to
        /// download, the agent checks that the package is installed.
        case package(String)
    }

    package var source: Source
    /// The executable inside the artifact, relative to its root; for a package, its absolute path.
    package var executable: String
    package var arguments: [Template]
    package var location: SourceLocation

    /// The name releases use for the component.
    package func releaseName(blueprint: String) -> String {
        switch source {
        case .product(let product): product
        case .external: "external:\(blueprint)"
        case .package(let name): "package:\(name)"
        }
    }
}

/// A config file a blueprint renders into each instance.
package struct ConfigTemplate: Sendable {
    package var path: Located<String>
    package var mode: Int
    package var template: Template
}

/// How an instance's health is checked.
package struct HealthDefinition: Sendable {
    package enum Probe: Sendable {
        case http(port: Located<String>, path: String, status: Int)
        case tcp(port: Located<String>)
        case command([String])
    }

    package var probe: Probe
    package var interval: TimeSpan
    package var timeout: TimeSpan
    package var retries: Int
    package var startPeriod: TimeSpan
    package var location: SourceLocation
}

/// How an instance's data is migrated to a new release.
package struct MigrationDefinition: Sendable {
    package var arguments: [String]
    /// Whether the agent backs up the data first (default true).
    package var backup: Bool
    /// Whether a migration can be undone without restoring the backup (default false).
    package var reversible: Bool
    /// How many backups of an instance its agent keeps (nil: the default, 5).
    package var keepBackups: Int?
    /// The blueprint's `database_url` parameters: the databases a backup dumps when they are PostgreSQL.
    package var databases: [String] = []
}

/// How a site's reverse proxy reaches a service: the parameter holding the address citizens use
/// (`https://HOST[:PORT][/PATH]`), the port the proxy forwards to, and the limits of that route.
package struct PublicRouteDefinition: Sendable {
    /// A parameter of type url.
    package var url: Located<String>
    /// A port name of the blueprint.
    package var port: Located<String>
    /// The largest request body the proxy passes on; larger ones get 413.
    package var maxBodyBytes: Int
    /// Requests per second one client address may make (with a burst of twice that); more get 429.
    package var requestsPerSecond: Int
    package var location: SourceLocation
}

/// A blueprint that terminates TLS for its site: which of its ports serve HTTPS and plain HTTP (the
/// latter only redirects readers to HTTPS), and which of its secret parameters hold the site's
/// certificate and key (a site provides them; nothing makes them up, unlike a password).
package struct ProxyDefinition: Sendable {
    package var https: Located<String>
    package var http: Located<String>
    package var certificate: Located<String>
    package var key: Located<String>
    package var location: SourceLocation
}

/// A service this blueprint needs, and the name its exports go by in templates (`dep.NAME.EXPORT`).
package struct DependencyDefinition: Sendable {
    package var name: Located<String>
    package var blueprint: Located<String>
}
