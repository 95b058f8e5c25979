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
            publication of new entities over MQTT, LoRaWAN ingest (MQTT and webhooks), the \
            Pegelonline-shaped read view, pulling from Pegelonline sources, retention and personal \
            fields. Alerts are not built yet.
            """,
        subcommands: [Serve.self, Migrate.self, Seed.self], defaultSubcommand: Serve.self)

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

    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seed",
            abstract: "Load a member's synthetic gauges and readings (Services/Seed/gauges.json) into the store.")
        @OptionGroup var options: Options
        @Argument(help: ArgumentHelp("The gauges file.", valueName: "FILE")) var file: String
        @Option(help: "The member whose gauges to load, as the file names it (kusel, kaiserslautern, …).")
        var site: String
        @Option(help: "Days of readings every 15 minutes up to now (0 to 31).") var days = 7
        @Flag(help: "Load only the gauges whose Thing (by name) the store does not have yet.")
        var onlyMissing = false

        func run() async throws {
            let configuration = try options.load()
            let store = try SensorStore(location: configuration.database, create: false, connections: 1)
            defer { store.close() }
            let version = try await store.schemaVersion()
            guard version == SensorStore.latestSchemaVersion else {
                throw ServiceStartError(
                    "the sensor database is at schema version \(version); run `datenplattform sensors migrate --config \(options.config)` first"
                )
            }
            let summary: SensorSeed.Summary
            do {
                summary = try await SensorSeed.load(
                    file: file, site: site, days: days, onlyMissing: onlyMissing, store: store,
                    configuration: configuration, now: Int64(Date().timeIntervalSince1970 * 1000))
            } catch {
                throw ServiceStartError(error.description)
            }
            var line = "loaded \(summary.gauges) synthetic gauge(s) with \(summary.observations) readings"
            if summary.present > 0 { line += ", \(summary.present) there already" }
            if let first = summary.firstDatastream { line += "; the first gauge is Datastream \(first)" }
            print(line)
        }
    }
}
