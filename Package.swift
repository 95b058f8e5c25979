// swift-tools-version:6.1
import PackageDescription

/// Settings every target of ours shares: a small surface by default, existentials spelled out.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

// The top-level folders are the roles: `Orchestrator/` (the control plane), `Agents/` (the node
// agent), `Services/` (the platform services), and `Shared/` for what two or more of them use. A role
// imports `Shared/` and its own modules, never another role's; `scripts/check-layout` (run by
// `scripts/test`) holds the code and this file to that, and docs/development.md draws the graph.
let package = Package(
    name: "stellwerk",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "stellwerk", targets: ["StellwerkCLI"]),
        .executable(name: "stellwerk-agent", targets: ["Agent"]),
        .executable(name: "datenplattform", targets: ["Datenplattform"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", exact: "0.9.20"),
        // Its runtime only: the GTFS-Realtime types are generated once and committed
        // (scripts/generate-gtfs-realtime), since the protoc plugin costs minutes per cold build.
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // swift-configuration support is not used; leaving that trait out keeps it out of the build.
        .package(
            url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
    ],
    targets: [
        // MARK: Shared: what two or more roles use

        // C system libraries, linked from the Debian -dev packages.
        .systemLibrary(
            name: "CSQLite", path: "Shared/SystemLibraries/CSQLite",
            pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CLibPQ", path: "Shared/SystemLibraries/CLibPQ",
            pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CMosquitto", path: "Shared/SystemLibraries/CMosquitto",
            pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .systemLibrary(
            name: "CLibSSH2", path: "Shared/SystemLibraries/CLibSSH2",
            pkgConfig: "libssh2", providers: [.apt(["libssh2-1-dev"])]),

        // The wire between orchestrator, CLI and agent: messages, endpoints, states, the OpenAPI
        // document. No dependencies, so every role can link it cheaply.
        .target(
            name: "StellwerkAPI", path: "Shared/API",
            swiftSettings: strictSettings),
        // Signed release manifests, digests, archives that cannot escape their folder.
        .target(
            name: "Artifacts",
            dependencies: ["StellwerkAPI", .product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/Artifacts",
            swiftSettings: strictSettings),
        // A node's key, certificate request and certificate, and the orchestrator it trusts.
        .target(
            name: "Identity",
            dependencies: [
                "StellwerkAPI",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Shared/Identity",
            swiftSettings: strictSettings),
        // HTTP/1.1 requests on plain SwiftNIO: the orchestrator client, the agent's health probes and
        // the portal's catalog client share it.
        .target(
            name: "HTTPTransport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Shared/HTTPTransport",
            swiftSettings: strictSettings),
        // How the CLI and the agent call the orchestrator: typed endpoints over HTTPS with a pinned CA
        // and client certificates.
        .target(
            name: "OrchestratorClient",
            dependencies: [
                "StellwerkAPI", "Identity", "Artifacts", "HTTPTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Shared/Client",
            swiftSettings: strictSettings),
        // SQLite and PostgreSQL connections behind one small SQL interface.
        .target(
            name: "Database",
            dependencies: ["CSQLite"],
            path: "Shared/Database",
            swiftSettings: strictSettings),
        // Apart from the rest, so the agent (SQLite only) does not load libpq and the libraries it
        // pulls in (TLS, Kerberos, LDAP): about 5 MB of its resident memory.
        .target(
            name: "PostgresDatabase",
            dependencies: ["Database", "CLibPQ"],
            path: "Shared/PostgresDatabase",
            swiftSettings: strictSettings),
        // Prometheus's text format, one renderer for the orchestrator, the agent and the services.
        .target(
            name: "Telemetry",
            path: "Shared/Telemetry",
            swiftSettings: strictSettings),
        .target(
            name: "Markup",
            path: "Shared/Markup",
            swiftSettings: strictSettings),

        // MARK: Orchestrator: the control plane

        // The pure core: model, validation, planning (no I/O).
        .target(
            name: "Model",
            dependencies: [
                "StellwerkAPI", "Markup",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Orchestrator/Model",
            swiftSettings: strictSettings),
        .target(
            name: "Planner",
            dependencies: ["Model", "StellwerkAPI"],
            path: "Orchestrator/Planner",
            swiftSettings: strictSettings),
        // Files on disk: the workspace folder, snapshots and saved plans.
        .target(
            name: "WorkspaceFiles",
            dependencies: ["Model", "StellwerkAPI"],
            path: "Orchestrator/WorkspaceFiles",
            swiftSettings: strictSettings),
        // The state store: SQLite (embedded default) and PostgreSQL, one contract.
        .target(
            name: "Store",
            dependencies: [
                "StellwerkAPI", "Database", "PostgresDatabase", .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Orchestrator/Store",
            swiftSettings: strictSettings),
        // The orchestrator's certificate authority: the server's certificate and one per node.
        .target(
            name: "Authority",
            dependencies: [
                "StellwerkAPI", "Identity",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Orchestrator/Authority",
            swiftSettings: strictSettings),
        // SSH to municipal servers through libssh2: host keys checked, key authentication, commands,
        // SFTP uploads; blocking calls on a queue of each connection's own.
        .target(
            name: "SSHTransport", dependencies: ["CLibSSH2", "StellwerkAPI"], path: "Orchestrator/SSH",
            swiftSettings: strictSettings),
        // The server: agent API (mTLS), operator API, rollout and promotion engines.
        .target(
            name: "Server",
            dependencies: [
                "StellwerkAPI", "Store", "Authority", "Identity", "Artifacts", "Telemetry", "SSHTransport", "Markup",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            path: "Orchestrator/Server",
            swiftSettings: strictSettings),
        .executableTarget(
            name: "StellwerkCLI",
            dependencies: [
                "Model", "Planner", "StellwerkAPI", "Store", "WorkspaceFiles", "Server", "OrchestratorClient",
                "Identity", "Artifacts", "Authority", "SSHTransport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Orchestrator/CLI",
            swiftSettings: strictSettings),

        // MARK: Agents: the node agent

        // The agent's operations: install, render, migrate, start, stop, supervise, health-check.
        .target(
            name: "AgentCore",
            dependencies: [
                "StellwerkAPI", "Artifacts", "Database", "HTTPTransport", "Identity",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Agents/Core",
            swiftSettings: strictSettings),
        .executableTarget(
            name: "Agent",
            dependencies: [
                "StellwerkAPI", "AgentCore", "OrchestratorClient", "Identity", "Telemetry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Agents/Agent",
            swiftSettings: strictSettings,
            // One file to copy onto a municipal server that has no Swift runtime, and less resident
            // memory (issue #4): the Swift libraries are linked in, only libc, libstdc++ and libsqlite3
            // stay shared. These flags reach whatever links this target, so tests and benchmarks do not
            // depend on it; `swift build` builds the binary they run.
            linkerSettings: [
                .unsafeFlags(
                    ["-static-stdlib", "-l_FoundationCShims", "-l_FoundationCollections"], .when(platforms: [.linux]))
            ]),

        // MARK: Services: the platform services

        // What every service needs: its configuration file, /health, /metrics, request logs, and a
        // graceful stop.
        .target(
            name: "ServiceSupport",
            dependencies: [
                "Telemetry", "Database", "PostgresDatabase", "Markup",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Services/Support",
            swiftSettings: strictSettings),
        .target(
            name: "Catalog",
            dependencies: [
                "ServiceSupport", "Database", "Telemetry",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Services/Catalog",
            swiftSettings: strictSettings),
        .target(
            name: "Portal",
            dependencies: [
                // SensorThings for its JSON parser (bounded depth, keys in order, integers whole).
                "ServiceSupport", "HTTPTransport", "Telemetry", "SensorThings", "Markup",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Services/Portal",
            swiftSettings: strictSettings),
        // The SensorThings data model and its query language ($filter, $orderby, $expand …) compiled
        // to SQL: no I/O, so the parser and the SQL it writes are tested on their own.
        .target(
            name: "SensorThings",
            dependencies: ["Database"],
            path: "Services/SensorThings",
            swiftSettings: strictSettings),
        // An MQTT client on libmosquitto, the broker's own client library: publish with an outbox
        // that survives reconnects, subscribe, back off.
        .target(
            name: "MQTT",
            dependencies: ["CMosquitto", .product(name: "Logging", package: "swift-log")],
            path: "Services/MQTT",
            swiftSettings: strictSettings),
        .target(
            name: "Sensors",
            dependencies: [
                "SensorThings", "ServiceSupport", "MQTT", "HTTPTransport",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"), "Database", "Telemetry",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Sensors",
            swiftSettings: strictSettings),
        // Charts and dashboards rendered as SVG on the server, from the sensor service's SensorThings API.
        .target(
            name: "Visualization",
            dependencies: [
                "SensorThings", "ServiceSupport", "HTTPTransport", "Telemetry",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Services/Visualization",
            swiftSettings: strictSettings),
        // Timetables (GTFS and GTFS-Realtime in and out, departures), for the multimodal traffic use case.
        .target(
            name: "Mobility",
            dependencies: [
                "ServiceSupport", "Database", "Telemetry", "HTTPTransport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Services/Mobility",
            swiftSettings: strictSettings),
        .executableTarget(
            name: "Datenplattform",
            dependencies: [
                "Catalog", "Portal", "Sensors", "Visualization", "Mobility", "ServiceSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/Datenplattform",
            swiftSettings: strictSettings),

        // MARK: Benchmarks (never timed tests)
        .executableTarget(
            name: "stellwerk-bench",
            dependencies: [
                "Model", "Planner", "StellwerkAPI", "Store", "WorkspaceFiles", "TestSupport", "AgentCore", "Artifacts",
                "Database", "stellwerk-test-service", "OrchestratorClient", "Identity", "StellwerkCLI", "Catalog",
                "Datenplattform", "HTTPTransport", "SensorThings", "Visualization", "Mobility",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "bench/Bench",
            swiftSettings: strictSettings),

        // MARK: Tests
        .executableTarget(
            name: "stellwerk-test-service",
            path: "Tests/TestService",
            swiftSettings: strictSettings),
        // The agent's apply with a hook that stops it at a step, for the fault tests: built only for
        // tests, so the agent that ships has no way to pause.
        .executableTarget(
            name: "stellwerk-test-agent",
            dependencies: ["AgentCore", "StellwerkAPI"],
            path: "Tests/TestAgent",
            swiftSettings: strictSettings),
        .target(
            name: "TestSupport",
            dependencies: [
                "Artifacts", "Model", "Planner", "StellwerkAPI", "WorkspaceFiles", "HTTPTransport", "Authority",
            ],
            path: "Tests/TestSupport",
            swiftSettings: strictSettings),
        .testTarget(
            name: "APITests",
            dependencies: ["StellwerkAPI", "TestSupport"],
            path: "Tests/APITests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "ModelTests",
            dependencies: ["Model", "WorkspaceFiles", "TestSupport", "StellwerkAPI"],
            path: "Tests/ModelTests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "PlannerTests",
            dependencies: ["Planner", "Model", "StellwerkAPI", "TestSupport"],
            path: "Tests/PlannerTests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "CLITests",
            dependencies: [
                "StellwerkCLI", "Datenplattform", "Store", "Database", "Planner", "Model", "TestSupport",
                "StellwerkAPI",
            ],
            path: "Tests/CLITests",
            exclude: ["Golden"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "Store", "Database", "PostgresDatabase", "Planner", "Model", "StellwerkAPI", "TestSupport", "CSQLite",
            ],
            path: "Tests/StoreTests",
            exclude: ["Fixtures"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SSHTests", dependencies: ["SSHTransport", "TestSupport"], path: "Tests/SSHTests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "ArtifactTests",
            dependencies: [
                "Artifacts", "StellwerkAPI", "TestSupport", .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/ArtifactTests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "AgentTests",
            dependencies: [
                "AgentCore", "Artifacts", "Database", "StellwerkAPI", "TestSupport", "HTTPTransport",
                "stellwerk-test-service",
                "stellwerk-test-agent", .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/AgentTests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "StellwerkCLI", "stellwerk-test-service", "Server", "OrchestratorClient", "Identity", "Authority",
                "StellwerkAPI", "Store", "Artifacts", "TestSupport", "HTTPTransport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/ServerTests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "Catalog", "Portal", "Datenplattform", "TestSupport", "HTTPTransport", "Model", "Authority",
            ],
            path: "Tests/ServiceTests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "SensorsTests",
            dependencies: [
                "SensorThings", "Sensors", "ServiceSupport", "Database", "TestSupport", "HTTPTransport", "MQTT",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/SensorsTests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "VisualizationTests",
            dependencies: [
                "Visualization", "SensorThings", "ServiceSupport", "TestSupport", "HTTPTransport", "Mobility",
            ],
            path: "Tests/VisualizationTests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "MobilityTests",
            dependencies: [
                "Mobility", "ServiceSupport", "Database", "TestSupport", "HTTPTransport",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/MobilityTests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "SystemLibraryTests",
            dependencies: ["CSQLite", "CLibPQ"],
            path: "Tests/SystemLibraryTests",
            swiftSettings: strictSettings),
    ]
)
