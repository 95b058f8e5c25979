import Foundation
import HTTPTransport
import Logging
import NIOSSL
import ServiceLifecycle

/// Lists what the service publishes in the platform's data catalog, through its CKAN Action API:
/// the timetable (the GTFS feed, and the realtime feeds where there are sources) and the parking
/// sites (ParkAPI v3), each a dataset of the configured organisation whose resources are this
/// service's own addresses. The datasets are made when missing and updated otherwise — when the
/// service starts, when another feed version is served (an import over HTTP rings at once, one on
/// the command line is seen within a minute), and every hour — so the catalog follows what is served.
/// A catalog that cannot be reached is asked again a minute later.
struct CatalogRegistration: Service {
    let catalog: MobilityConfiguration.Catalog
    let configuration: MobilityConfiguration
    let store: MobilityStore
    let logger: Logger
    /// Imports ring this, so the catalog hears of a new feed version at once.
    let imports: Bell

    func run() async throws {
        let http = HTTPExchange(tls: try? NIOSSLContext(configuration: .makeClientConfiguration()))
        var failures = 0
        var listed: (version: Int?, at: ContinuousClock.Instant)?
        var first = true
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // A minute, or until an import rings, whichever comes first.
            if !first { await wait(.seconds(60), orUntil: imports) }
            first = false
            guard !Task.isShuttingDownGracefully, !Task.isCancelled else { return }
            do {
                let version = try await store.servedFeed()?.version
                if let listed, listed.version == version, ContinuousClock.now - listed.at < .seconds(3600) {
                    continue
                }
                for dataset in try await datasets() { try await upsert(dataset, with: http) }
                if failures > 0 { logger.info("catalog: \(catalog.url) takes the datasets again") }
                failures = 0
                listed = (version, ContinuousClock.now)
            } catch {
                failures += 1
                if failures == 1 || failures.isMultiple(of: 10) {
                    logger.warning(
                        "catalog: the datasets could not be listed at \(catalog.url): \(error); trying again in a minute"
                    )
                }
            }
        }
    }

    /// The datasets as CKAN package dictionaries.
    func datasets() async throws -> [[String: Any]] {
        let base = configuration.publicURL
        let synthetic = configuration.syntheticRealtime || configuration.parking.synthetic
        let feed = try await store.servedFeed()
        let note =
            synthetic ? "\n\n*Synthetische Beispieldaten für die Erprobung der Plattform, keine amtlichen Werte.*" : ""
        func package(
            _ suffix: String, title: String, notes: String, tags: [String], resources: [[String: String]]
        ) -> [String: Any] {
            var package: [String: Any] = [
                "name": "\(catalog.datasetPrefix)-\(suffix)", "title": title, "owner_org": catalog.organization,
                "notes": notes + note, "license_id": catalog.license, "tags": tags.map { ["name": $0] },
                "groups": [["name": "tran"]], "resources": resources,
            ]
            if synthetic { package["extras"] = [["key": "stellwerk_synthetic", "value": "true"]] }
            return package
        }
        var datasets: [[String: Any]] = []
        if let feed {
            var resources = [
                [
                    "name": "Fahrplan (GTFS)", "url": "\(base)/gtfs/feed.zip", "format": "GTFS",
                    "description": "Soll-Fahrplan als GTFS-Archiv, Version \(feed.version), gültig "
                        + "\(Self.date(feed.firstDate)) bis \(Self.date(feed.lastDate)).",
                ]
            ]
            if !configuration.realtimeSources.isEmpty {
                resources.append([
                    "name": "Echtzeit: Fahrtverläufe (GTFS-Realtime)", "url": "\(base)/gtfs-rt/trip-updates.pb",
                    "format": "GTFS-RT", "description": "Verspätungen und Ausfälle als GTFS-Realtime TripUpdates.",
                ])
                resources.append([
                    "name": "Echtzeit: Störungsmeldungen (GTFS-Realtime)",
                    "url": "\(base)/gtfs-rt/service-alerts.pb", "format": "GTFS-RT",
                    "description": "Störungen und Umleitungen als GTFS-Realtime ServiceAlerts.",
                ])
            }
            datasets.append(
                package(
                    "fahrplan", title: "Fahrplandaten des ÖPNV (GTFS)",
                    notes: "Haltestellen, Linien und Fahrten des öffentlichen Nahverkehrs der Region als GTFS, "
                        + "herausgegeben von \(feed.publisher ?? "den Verkehrsunternehmen"); die Abfahrten je "
                        + "Haltestelle unter \(base)/api/stops/{stop_id}/departures.",
                    tags: ["ÖPNV", "Fahrplan", "GTFS", "Mobilität"], resources: resources))
        }
        if !configuration.parking.sources.isEmpty {
            datasets.append(
                package(
                    "parken", title: "Parkplätze und ihre Belegung (ParkAPI)",
                    notes: "Parkhäuser und Parkplätze mit Lage, Art und Stellplätzen und, wo die Quelle sie "
                        + "meldet, ihrer aktuellen Belegung im Format ParkAPI v3.",
                    tags: ["Parken", "Parkhaus", "Mobilität"],
                    resources: [
                        [
                            "name": "Parkplätze mit Belegung (ParkAPI v3, JSON)",
                            "url": "\(base)/api/parking/v3/parking-sites", "format": "JSON",
                            "description": "Alle Parkplätze mit ihren statischen Angaben und der aktuellen Belegung.",
                        ]
                    ]))
        }
        return datasets
    }

    private static func date(_ number: Int?) -> String {
        guard let number else { return "?" }
        return String(format: "%02d.%02d.%04d", number % 100, number / 100 % 100, number / 10000)
    }

    /// Makes the dataset, or updates it when the catalog has it.
    private func upsert(_ dataset: [String: Any], with http: HTTPExchange) async throws {
        let name = dataset["name"] as? String ?? ""
        let shown = try await http.fetch(
            "\(catalog.url)/api/3/action/package_show?id=\(name)", headers: [("Authorization", catalog.token)],
            timeout: .seconds(15))
        let action = shown.status == 200 ? "package_update" : "package_create"
        guard shown.status == 200 || shown.status == 404 else {
            throw CatalogRefusal("package_show answered HTTP \(shown.status)")
        }
        let body = try JSONSerialization.data(withJSONObject: dataset)
        let answer = try await http.fetch(
            "\(catalog.url)/api/3/action/\(action)", method: .POST,
            headers: [("Authorization", catalog.token), ("Content-Type", "application/json")], body: body,
            timeout: .seconds(15))
        guard answer.status == 200 else {
            throw CatalogRefusal("\(action) of \(name) answered HTTP \(answer.status): \(answer.text.prefix(300))")
        }
    }

    struct CatalogRefusal: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
