import ArgumentParser
import Catalog
import Foundation
import Logging
import Mobility
import Portal
import Sensors
import ServiceSupport
import Visualization

/// The platform services' entry point (`datenplattform catalog|portal|visualization|sensors`).
@main
struct DatenplattformCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datenplattform",
        abstract: "Run one service of the open data platform.",
        discussion: """
            Built so far: the data catalog (CKAN Action API, DCAT-AP.de), the portal, the sensor \
            service (SensorThings API, MQTT, alerts), the visualization service's charts, and the \
            mobility service's timetables (GTFS and GTFS-Realtime).

            Examples:
              datenplattform catalog migrate --config catalog.yaml
              datenplattform catalog import seed.json --config catalog.yaml
              datenplattform catalog --config catalog.yaml
              datenplattform portal --config portal.yaml
              datenplattform sensors migrate --config sensors.yaml
              datenplattform sensors --config sensors.yaml
              datenplattform visualization --config visualization.yaml
              datenplattform mobility migrate --config mobility.yaml
              datenplattform mobility import gtfs.zip --config mobility.yaml
              datenplattform mobility --config mobility.yaml
              datenplattform migrations
            """,
        version: "0.2.0-dev",
        subcommands: [
            CatalogCommand.self, PortalCommand.self, VisualizationCommand.self, SensorsCommand.self,
            MobilityCommand.self, MigrationsCommand.self,
        ])
}

/// `datenplattform catalog`: serve, migrate, import.
struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "The data catalog: CKAN Action API over a SQLite store.",
        subcommands: [Serve.self, Migrate.self, Import.self], defaultSubcommand: Serve.self)

    struct Options: ParsableArguments {
        @Option(help: ArgumentHelp("The catalog's configuration (catalog.yaml).", valueName: "FILE"))
        var config: String

        func load() throws -> CatalogConfiguration {
            do { return try CatalogConfiguration.load(config) } catch let error as ServiceStartError {
                throw ValidationError(error.description)
            }
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve", abstract: "Serve the catalog (the default).")
        @OptionGroup var options: Options

        func run() async throws {
            let configuration = try options.load()
            var logger = Logger(label: "datenplattform.catalog")
            logger.logLevel =
                Logger.Level(rawValue: configuration.logLevel == "warning" ? "warning" : configuration.logLevel)
                ?? .info
            let store = try Self.open(configuration)
            defer { store.close() }
            let version = try await store.schemaVersion()
            guard version == CatalogStore.latestSchemaVersion else {
                throw ValidationError(
                    "the catalog database is at schema version \(version), this release needs \(CatalogStore.latestSchemaVersion); run `datenplattform catalog migrate --config \(options.config)`"
                )
            }
            let server = CatalogServer(
                actions: CatalogActions(store: store, configuration: configuration), logger: logger)
            try await server.run { port in
                FileHandle.standardOutput.write(
                    Data("catalog listening on http://\(configuration.host):\(port)\n".utf8))
            }
        }

        static func open(_ configuration: CatalogConfiguration) throws -> CatalogStore {
            do { return try CatalogStore(location: configuration.database, create: false) } catch let error
                as ServiceStartError
            {
                throw ValidationError(error.description)
            }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate", abstract: "Bring the catalog's database to this release's schema.")
        @OptionGroup var options: Options

        func run() async throws {
            let configuration = try options.load()
            let store = try CatalogStore(location: configuration.database, create: true, connections: 1)
            defer { store.close() }
            do {
                let applied = try await store.migrate()
                print(
                    applied.isEmpty
                        ? "catalog schema is current (version \(CatalogStore.latestSchemaVersion))"
                        : "catalog schema migrated: applied \(applied.map(String.init).joined(separator: ", "))")
            } catch let error as ServiceStartError {
                throw ValidationError(error.description)
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Load organisations and datasets from a JSON file (CKAN's shape); running it again updates them.")
        @OptionGroup var options: Options
        @Argument(help: ArgumentHelp("The catalog file.", valueName: "FILE")) var file: String
        @Flag(help: "Load nothing when the catalog holds datasets already (to seed a new catalog once).")
        var onlyIfEmpty = false

        func run() async throws {
            let configuration = try options.load()
            let store = try Serve.open(configuration)
            defer { store.close() }
            if onlyIfEmpty, try await !store.packageNames(includePrivate: true, limit: 1, offset: 0).isEmpty {
                print("the catalog holds datasets already; imported nothing")
                return
            }
            do {
                let (organizations, datasets) = try await CatalogImport(
                    actions: CatalogActions(store: store, configuration: configuration)
                ).load(file)
                print("imported \(organizations) new organisation(s) and \(datasets) dataset(s) from \(file)")
            } catch let error as ServiceStartError {
                throw ValidationError(error.description)
            }
        }
    }
}

/// `datenplattform portal`: the open data portal, reading the catalog through its API.
struct PortalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portal", abstract: "The open data portal: HTML pages over the catalog's CKAN API.")
    @Option(help: ArgumentHelp("The portal's configuration (portal.yaml).", valueName: "FILE")) var config: String

    func run() async throws {
        let configuration: PortalConfiguration
        do { configuration = try PortalConfiguration.load(config) } catch let error as ServiceStartError {
            throw ValidationError(error.description)
        }
        let server = PortalServer(configuration: configuration, logger: Logger(label: "datenplattform.portal"))
        try await server.run { port in
            FileHandle.standardOutput.write(Data("portal listening on http://\(configuration.host):\(port)\n".utf8))
        }
    }
}

/// `datenplattform visualization`: charts and dashboards over the sensor service, rendered as SVG.
struct VisualizationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visualization",
        abstract: "The visualization service: server-rendered SVG charts and dashboards over the sensor service.",
        subcommands: [Serve.self, Check.self], defaultSubcommand: Serve.self)

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve", abstract: "Serve the charts and dashboards (the default).")
        @Option(help: ArgumentHelp("The service's configuration (visualization.yaml).", valueName: "FILE"))
        var config: String

        func run() async throws {
            // A ServiceStartError is printed as its lines, without the usage text a ValidationError brings.
            let configuration = try VisualizationConfiguration.load(config)
            var logger = Logger(label: "datenplattform.visualization")
            logger.logLevel =
                Logger.Level(rawValue: configuration.logLevel == "warning" ? "warning" : configuration.logLevel)
                ?? .info
            let server = VisualizationServer(configuration: configuration, logger: logger)
            try await server.run { port in
                FileHandle.standardOutput.write(
                    Data("visualization listening on http://\(configuration.host):\(port)\n".utf8))
            }
        }
    }

    /// Checks a dashboard file before it goes into an environment: every problem with its line.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check a dashboard file and print every problem as FILE:LINE:COLUMN: error: MESSAGE.")
        @Argument(help: ArgumentHelp("The dashboard file.", valueName: "FILE"))
        var file: String

        func run() throws {
            let dashboards: DashboardFile
            do {
                dashboards = try DashboardParser.load(file)
            } catch {
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                throw ExitCode.failure
            }
            let panels = dashboards.dashboards.reduce(0) { $0 + $1.panels.count }
            print(
                "\(file): \(dashboards.dashboards.count) dashboard\(dashboards.dashboards.count == 1 ? "" : "s"), "
                    + "\(panels) panel\(panels == 1 ? "" : "s"), \(dashboards.sources.count) further source\(dashboards.sources.count == 1 ? "" : "s")"
            )
        }
    }
}

/// `datenplattform migrations`: what a release of this build migrates, for its manifest.
struct MigrationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrations",
        abstract: "List the data migrations this build brings, in order, one per line.",
        discussion: """
            `stellwerk release create` and `stellwerk up` record them in the release manifest, so an agent \
            knows which schema each release's data is at and when going back needs a backup.
            """)

    func run() {
        for id in CatalogStore.migrationIDs + SensorStore.migrationIDs + MobilityStore.migrationIDs { print(id) }
    }
}
