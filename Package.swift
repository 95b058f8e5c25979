// swift-tools-version:6.1
import PackageDescription

/// Settings every target of ours shares: a small surface by default, existentials spelled out.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

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
        // swift-configuration support is not used; leaving that trait out keeps it out of the build.
        .package(
            url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // MARK: System libraries (C), linked from the Debian -dev packages
        .systemLibrary(
            name: "CSQLite", path: "Orchestrator/SystemLibraries/CSQLite",
            pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CLibPQ", path: "Orchestrator/SystemLibraries/CLibPQ",
            pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CLibSSH2", path: "Orchestrator/SystemLibraries/CLibSSH2",
            pkgConfig: "libssh2", providers: [.apt(["libssh2-1-dev"])]),

        // MARK: Shared wire types (orchestrator, CLI, agent)
        .target(
            name: "StellwerkAPI", path: "Orchestrator/API",
            swiftSettings: strictSettings),

        // MARK: Pure core: model, validation, planning (no I/O)
        .target(
            name: "Model",
            dependencies: [
                "StellwerkAPI",
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

        // MARK: Databases: SQLite and PostgreSQL connections behind one small SQL interface
        .target(
            name: "Database",
            dependencies: ["CSQLite"],
            path: "Orchestrator/Database",
            exclude: ["Postgres"],
            swiftSettings: strictSettings),
        // Apart from the rest, so the agent (SQLite only) does not load libpq and the libraries it
        // pulls in (TLS, Kerberos, LDAP): about 5 MB of its resident memory.
        .target(
            name: "PostgresDatabase",
            dependencies: ["Database", "CLibPQ"],
            path: "Orchestrator/Database/Postgres",
            swiftSettings: strictSettings),

        // MARK: State store: SQLite (embedded default) and PostgreSQL, one contract
        .target(
            name: "Store",
            dependencies: ["StellwerkAPI", "Model", "Database", "PostgresDatabase"],
            path: "Orchestrator/Store",
            swiftSettings: strictSettings),

        // MARK: Identity: the orchestrator's certificate authority and the agents' keys and certificates
        .target(
            name: "Identity",
            dependencies: [
                "StellwerkAPI",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Orchestrator/Identity",
            swiftSettings: strictSettings),

        // MARK: Server: agent API (mTLS), operator API, rollout engine
        .target(
            name: "Server",
            dependencies: [
                "StellwerkAPI", "Model", "Planner", "Store", "Identity", "Artifacts", "WorkspaceFiles",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Orchestrator/Server",
            swiftSettings: strictSettings),

        // MARK: Client: how the CLI and the agent talk to the server (HTTPS, pinned CA, client certificates)
        .target(
            name: "OrchestratorClient",
            dependencies: [
                "StellwerkAPI", "Identity", "Artifacts",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Orchestrator/Client",
            swiftSettings: strictSettings),

        // MARK: Files on disk: the workspace folder, snapshots and saved plans
        .target(
            name: "WorkspaceFiles",
            dependencies: ["Model", "StellwerkAPI"],
            path: "Orchestrator/WorkspaceFiles",
            swiftSettings: strictSettings),

        // MARK: Artifacts: signed release manifests, digests, archives that cannot escape their folder
        .target(
            name: "Artifacts",
            dependencies: ["StellwerkAPI", .product(name: "Crypto", package: "swift-crypto")],
            path: "Agents/Artifacts",
            swiftSettings: strictSettings),

        // MARK: The agent's operations: start, stop, supervise and health-check service processes
        .target(
            name: "AgentCore",
            dependencies: [
                "StellwerkAPI", "Artifacts", "Database", .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Agents/Core",
            swiftSettings: strictSettings),

        // MARK: Executables
        .executableTarget(
            name: "StellwerkCLI",
            dependencies: [
                "Model", "Planner", "StellwerkAPI", "Store", "WorkspaceFiles", "Server", "OrchestratorClient",
                "Identity", "Artifacts", "Catalog", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Orchestrator/CLI",
            swiftSettings: strictSettings),
        .executableTarget(
            name: "Agent",
            dependencies: [
                "StellwerkAPI", "AgentCore", "OrchestratorClient", "Identity",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
        .target(
            name: "Catalog",
            dependencies: [
                "Database", "PostgresDatabase", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Services/Catalog",
            swiftSettings: strictSettings),
        .target(
            name: "Portal",
            dependencies: [
                "Catalog", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Services/Portal",
            swiftSettings: strictSettings),
        .executableTarget(
            name: "Datenplattform",
            dependencies: [
                "Catalog", "Portal", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/Datenplattform",
            swiftSettings: strictSettings),

        // MARK: Benchmarks (never timed tests)
        .executableTarget(
            name: "stellwerk-bench",
            dependencies: [
                "Model", "Planner", "StellwerkAPI", "Store", "WorkspaceFiles", "TestSupport", "AgentCore", "Artifacts",
                "stellwerk-test-service", "OrchestratorClient", "Identity", "StellwerkCLI", "Catalog",
                "Datenplattform", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "bench/Bench",
            swiftSettings: strictSettings),

        // MARK: Tests
        .executableTarget(
            name: "stellwerk-test-service",
            path: "Tests/TestService",
            swiftSettings: strictSettings),
        .target(
            name: "TestSupport",
            dependencies: ["Model", "Planner", "StellwerkAPI", "WorkspaceFiles"],
            path: "Tests/TestSupport",
            swiftSettings: strictSettings),
        .testTarget(
            name: "ModelTests",
            dependencies: ["Model", "WorkspaceFiles", "TestSupport"],
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
            ],
            path: "Tests/CLITests",
            exclude: ["Golden"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store", "Database", "Planner", "Model", "StellwerkAPI", "TestSupport"],
            path: "Tests/StoreTests",
            exclude: ["Fixtures"],
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
                "AgentCore", "Artifacts", "StellwerkAPI", "TestSupport", "stellwerk-test-service",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/AgentTests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "StellwerkCLI", "stellwerk-test-service", "Server", "OrchestratorClient", "Identity",
                "StellwerkAPI", "Store", "Artifacts", "TestSupport",
            ],
            path: "Tests/ServerTests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "Catalog", "Portal", "Datenplattform", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/ServiceTests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "SystemLibraryTests",
            dependencies: ["CSQLite", "CLibPQ", "CLibSSH2"],
            path: "Tests/SystemLibraryTests",
            swiftSettings: strictSettings),
    ]
)
