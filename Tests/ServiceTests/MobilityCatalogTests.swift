import Foundation
import TestSupport
import Testing

/// The mobility service lists its timetable and parking datasets in a real catalog through the CKAN
/// API, with its own addresses as resources, keeps them current after an import, and the catalog's
/// DCAT-AP.de of them passes the official shapes.
@Suite(.serialized) struct MobilityCatalogTests {
    @Test(
        .enabled(
            if: CatalogDCATTests.available || CatalogInteropTests.required,
            "the DCAT-AP.de validator or the Python clients are missing"))
    func theTimetableAndParking_areListedInTheCatalog_andTheirDCATConforms() async throws {
        try #require(CatalogDCATTests.available, "need ../shared/dcat-ap-de/validate.py and scripts/python-clients")
        let catalog = try await CatalogProcess(host: "127.0.67.60")
        defer { catalog.stop() }
        try await catalog.start()
        let parkingFile = try String(
            contentsOf: Fixtures.repositoryRoot.appendingPathComponent(
                "Environments/local-sandbox/parking/kaiserslautern.yaml"),
            encoding: .utf8)
        let mobility = try await MobilityProcess(
            host: "127.0.67.61",
            extra: """
                realtime:
                  sources: {url}/synthetic/gtfs-rt.pb
                  synthetic: true
                parking:
                  kaiserslautern_xml: {url}/synthetic/parking/kaiserslautern.xml
                  sites: parking-sites.yaml
                  synthetic: true
                catalog:
                  url: \(catalog.url)
                  token: \(catalog.token)
                  organization: stadt-kaiserslautern
                """, files: ["parking-sites.yaml": parkingFile])
        defer { mobility.stop() }
        let feed = mobility.root.appendingPathComponent("synthetic.zip")
        let written = try await ProcessRunner.run(
            "datenplattform", ["mobility", "synthetic-feed", feed.path, "--start", "20260101", "--years", "1"],
            in: mobility.root)
        #expect(written.status == 0, "\(written.standardError)")
        #expect(try await mobility.datenplattform(["import", feed.path]).status == 0)
        try await mobility.start()

        func dataset(_ name: String) async throws -> [String: Any]? {
            let reply = try await catalog.action("package_show", ["id": name])
            return reply.status == 200 ? reply.result as? [String: Any] : nil
        }
        var timetable: [String: Any]?
        try await waitUntil("both datasets are in the catalog") {
            timetable = try await dataset("mobilitaet-fahrplan")
            guard timetable != nil else { return false }
            return try await dataset("mobilitaet-parken") != nil
        }
        let listed = try #require(timetable, "\(mobility.logText)")
        let resources = listed["resources"] as? [[String: Any]] ?? []
        #expect(
            resources.map { $0["url"] as? String } == [
                mobility.url + "/gtfs/feed.zip", mobility.url + "/gtfs-rt/trip-updates.pb",
                mobility.url + "/gtfs-rt/service-alerts.pb",
            ])
        #expect(
            (resources.first?["description"] as? String)?.contains("Version 1, gültig 01.01.2026 bis 31.12.2026")
                == true)
        #expect((listed["organization"] as? [String: Any])?["name"] as? String == "stadt-kaiserslautern")
        #expect((listed["notes"] as? String)?.contains("Synthetische Beispieldaten") == true)
        let parking = try #require(try await dataset("mobilitaet-parken"))
        #expect(
            (parking["resources"] as? [[String: Any]])?.first?["url"] as? String
                == mobility.url + "/api/parking/v3/parking-sites")

        // A new feed version over the API: the catalog hears of it at once.
        let upload = try await mobility.upload(feed)
        #expect(upload.status == 201, "\(upload.text)")
        try await waitUntil("the catalog lists version 2") {
            let description =
                (try await dataset("mobilitaet-fahrplan")?["resources"] as? [[String: Any]])?.first?[
                    "description"] as? String
            return description?.contains("Version 2") == true
        }

        for name in ["mobilitaet-fahrplan", "mobilitaet-parken"] {
            let turtle = try await catalog.get("/dataset/\(name).ttl")
            #expect(turtle.status == 200)
            let file = catalog.root.appendingPathComponent("\(name).ttl")
            try Data(turtle.text.utf8).write(to: file)
            let (status, output) = try await CatalogDCATTests.validate(file)
            #expect(status == 0 && output.contains("0 Verstöße / violations"), "\(name): \(output)")
        }
    }
}
