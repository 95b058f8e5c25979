import ArgumentParser
import Foundation
import Logging
import Sensors
import ServiceSupport

/// `datenplattform sensors`: serve and migrate the sensor service.
struct SensorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensors",
        abstract: "The sensor service: the OGC SensorThings API 1.1 over SQLite or PostgreSQL.",
        discussion: """
            Built so far: the SensorThings API (entities, query options, deep insert, updates, deletes), \
            publication of new entities over MQTT, retention and personal fields. Ingest from LoRaWAN \
            and Pegelonline, the Pegelonline view and alerts are not built yet; the service says so in \
            its log when its configuration asks for them.
            """,
        subcommands: [Serve.self, Migrate.self], defaultSubcommand: Serve.self)

    struct Options: ParsableArguments {
        @Option(help: ArgumentHelp("The service's configuration (sensors.yaml).", valueName: "FILE"))
        var config: String

        /// The configuration; a problem with it is one line (a ServiceStartError is printed without
        /// the usage text a ValidationError brings).
        func load() throws -> SensorsConfiguration {
            try SensorsConfiguration.load(config)
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve", abstract: "Serve the SensorThings API (the default).")
        @OptionGroup var options: Options

        func run() async throws {
            let configuration = try options.load()
            var logger = Logger(label: "datenplattform.sensors")
            logger.logLevel =
                Logger.Level(rawValue: configuration.logLevel == "warning" ? "warning" : configuration.logLevel)
                ?? .info
            let store: SensorStore
            store = try SensorStore(location: configuration.database, create: false)
            defer { store.close() }
            let version = try await store.schemaVersion()
            guard version == SensorStore.latestSchemaVersion else {
                throw ServiceStartError(
                    "the sensor database is at schema version \(version), this release needs \(SensorStore.latestSchemaVersion); run `datenplattform sensors migrate --config \(options.config)`"
                )
            }
            if configuration.pegelonlineView {
                logger.warning("pegelonline_view: the Pegelonline-style read view is not built yet")
            }
            let server: SensorsServer
            do {
                server = try SensorsServer(store: store, configuration: configuration, logger: logger)
            } catch {
                throw ServiceStartError("mqtt: \(error)")
            }
            try await server.run { port in
                FileHandle.standardOutput.write(
                    Data("sensors listening on http://\(configuration.host):\(port)/v1.1\n".utf8))
            }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate", abstract: "Bring the sensor database to this release's schema.")
        @OptionGroup var options: Options

        func run() async throws {
            let configuration = try options.load()
            let store: SensorStore
            store = try SensorStore(location: configuration.database, create: true, connections: 1)
            defer { store.close() }
            let applied = try await store.migrate()
            print(
                applied.isEmpty
                    ? "sensor schema is current (version \(SensorStore.latestSchemaVersion))"
                    : "sensor schema migrated: applied \(applied.map(String.init).joined(separator: ", "))")
        }
    }
}
