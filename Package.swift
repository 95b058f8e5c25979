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
            dependencies: ["CSQLite", "CLibPQ"],
            path: "Orchestrator/Database",
            swiftSettings: strictSettings),

        // MARK: State store: SQLite (embedded default) and PostgreSQL, one contract
        .target(
            name: "Store",
            dependencies: ["StellwerkAPI", "Model", "Database"],
            path: "Orchestrator/Store",
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
                "Model", "Planner", "StellwerkAPI", "Store", "WorkspaceFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Orchestrator/CLI",
            swiftSettings: strictSettings),
        .executableTarget(
            name: "Agent",
            dependencies: [
                "StellwerkAPI", "AgentCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Agents/Agent",
            swiftSettings: strictSettings),
        .executableTarget(
            name: "Datenplattform",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ],
            path: "Services/Datenplattform",
            swiftSettings: strictSettings),

        // MARK: Benchmarks (never timed tests)
        .executableTarget(
            name: "stellwerk-bench",
            dependencies: [
                "Model", "Planner", "StellwerkAPI", "Store", "WorkspaceFiles", "TestSupport", "AgentCore", "Artifacts",
                "Agent", "stellwerk-test-service", .product(name: "Crypto", package: "swift-crypto"),
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
                "StellwerkCLI", "Agent", "Datenplattform", "Store", "Database", "Planner", "Model", "TestSupport",
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
                "Agent", "AgentCore", "Artifacts", "StellwerkAPI", "TestSupport", "stellwerk-test-service",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/AgentTests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "SystemLibraryTests",
            dependencies: ["CSQLite", "CLibPQ", "CLibSSH2"],
            path: "Tests/SystemLibraryTests",
            swiftSettings: strictSettings),
    ]
)
