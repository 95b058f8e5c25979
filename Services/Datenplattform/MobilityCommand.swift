import ArgumentParser
import Foundation
import Logging
import Mobility
import ServiceSupport

/// `datenplattform mobility`: serve, migrate, and import GTFS feeds.
struct MobilityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mobility",
        abstract: "The mobility service: GTFS timetables imported, republished and asked for departures.",
        discussion: """
            Built so far: GTFS import with validation (every problem with its file and line; a feed \
            with problems is refused whole), feed versions, the served feed republished as a zip, \
            departure boards per stop, and GTFS-Realtime in and out. Parking and traffic counts are \
            not built yet.
            """,
        subcommands: [Serve.self, Migrate.self, Import.self, SyntheticFeedCommand.self], defaultSubcommand: Serve.self)

    struct Options: ParsableArguments {
        @Option(help: ArgumentHelp("The service's configuration (mobility.yaml).", valueName: "FILE"))
        var config: String

        func load() throws -> MobilityConfiguration {
            try MobilityConfiguration.load(config)
        }

        /// The store, at this release's schema.
        func open(_ configuration: MobilityConfiguration, connections: Int = 4) async throws -> MobilityStore {
            let store = try MobilityStore(location: configuration.database, create: false, connections: connections)
            let version = try await store.schemaVersion()
            guard version == MobilityStore.latestSchemaVersion else {
                store.close()
                throw ServiceStartError(
                    "the mobility database is at schema version \(version), this release needs \(MobilityStore.latestSchemaVersion); run `datenplattform mobility migrate --config \(config)`"
                )
            }
            return store
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve", abstract: "Serve the mobility API (the default).")
        @OptionGroup var options: Options

        func run() async throws {
            let configuration = try options.load()
            var logger = Logger(label: "datenplattform.mobility")
            logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
            let store = try await options.open(configuration)
            defer { store.close() }
            let server = MobilityServer(store: store, configuration: configuration, logger: logger)
            try await server.run { port in
                FileHandle.standardOutput.write(
                    Data("mobility listening on http://\(configuration.host):\(port)\n".utf8))
            }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate", abstract: "Bring the mobility database to this release's schema.")
        @OptionGroup var options: Options

        func run() async throws {
            let configuration = try options.load()
            let store = try MobilityStore(location: configuration.database, create: true, connections: 1)
            defer { store.close() }
            let applied = try await store.migrate()
            print(
                applied.isEmpty
                    ? "mobility schema is current (version \(MobilityStore.latestSchemaVersion))"
                    : "mobility schema migrated: applied \(applied.map(String.init).joined(separator: ", "))")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import a GTFS zip as a new feed version and serve it; a feed with problems is refused whole.",
            discussion: "Each problem is printed as FILE:LINE: MESSAGE; the feed served before stays served.")
        @OptionGroup var options: Options
        @Argument(help: ArgumentHelp("The GTFS zip.", valueName: "FILE")) var file: String
        @Flag(help: "Import nothing when a feed is served already (to seed a new service once).")
        var onlyIfEmpty = false

        func run() async throws {
            let configuration = try options.load()
            let store = try await options.open(configuration, connections: 1)
            defer { store.close() }
            if onlyIfEmpty, try await store.servedFeed() != nil {
                print("a feed is served already; imported nothing")
                return
            }
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ServiceStartError("\(file): cannot read the GTFS zip")
            }
            let started = ContinuousClock.now
            do {
                let feed = try await store.importFeed(
                    URL(fileURLWithPath: file), named: URL(fileURLWithPath: file).lastPathComponent,
                    into: URL(fileURLWithPath: configuration.feedsFolder))
                let seconds = (ContinuousClock.now - started).components.seconds
                print(
                    "imported \(file) as feed version \(feed.version) in \(seconds) s: \(feed.agencies) agencies, "
                        + "\(feed.stops) stops, \(feed.routes) routes, \(feed.trips) trips, \(feed.stopTimes) stop times; now served"
                )
            } catch let refusal as GTFSRefusal {
                FileHandle.standardError.write(
                    Data("\(file) was refused; the feed served before is still served:\n\(refusal)\n".utf8))
                throw ExitCode.failure
            } catch let problem as GTFSError {
                FileHandle.standardError.write(Data("\(file) was refused: \(problem)\n".utf8))
                throw ExitCode.failure
            }
        }
    }

    struct SyntheticFeedCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "synthetic-feed",
            abstract: "Write a made-up regional GTFS feed, marked as synthetic, for sandboxes and benchmarks.")
        @Argument(help: ArgumentHelp("The zip to write.", valueName: "FILE")) var file: String
        @Option(help: "Stops (2 to 100000).") var stops = 40
        @Option(help: "Bus lines (1 to 10000).") var routes = 4
        @Option(help: "Stops each trip serves (2 to 200).") var stopsPerTrip = 10
        @Option(help: "Weekday trips per line and direction (1 to 1000).") var trips = 60
        @Option(
            help: ArgumentHelp(
                "The first day of service (YYYYMMDD; default: 1 January of this year).", valueName: "DATE"))
        var start: String?
        @Option(help: "Years of service, from the first day's year (1 to 10).") var years = 2

        func validate() throws {
            guard (2...100_000).contains(stops), (1...10_000).contains(routes), (2...200).contains(stopsPerTrip),
                (1...1000).contains(trips), (1...10).contains(years)
            else {
                throw ValidationError("--stops, --routes, --stops-per-trip, --trips or --years is out of its range")
            }
            if let start,
                start.utf8.count != 8 || !start.allSatisfy(\.isASCII) || !start.allSatisfy(\.isNumber)
                    || !(1900...9000).contains(Int(start.prefix(4)) ?? 0)
            {
                throw ValidationError("--start \(start.prefix(20)) is not a date YYYYMMDD")
            }
        }

        func run() throws {
            var feed = SyntheticFeed(stops: stops, routes: routes, stopsPerTrip: stopsPerTrip, tripsPerDirection: trips)
            feed.start = start ?? "\(Calendar(identifier: .gregorian).component(.year, from: Date()))0101"
            feed.years = years
            try feed.write(to: URL(fileURLWithPath: file))
            print(
                "wrote \(file): a synthetic feed of \(stops) stops and \(routes) lines from \(feed.start), \(years) year(s)"
            )
        }
    }
}
