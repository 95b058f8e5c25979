import Foundation
import Mobility
import ServiceSupport
import TestSupport
import Testing

/// Parking occupancy in: Kaiserslautern's XML feed (completed by a parking file) and ParkAPI v3
/// JSON, each refused with its reason when it is not what it says; and out as ParkAPI v3.
struct ParkingTests {
    static let sitesFile = """
        sites:
          - uid: kaiserslautern-ph-altstadt
            name: PH Altstadt (synthetisch)
            type: CAR_PARK
            lat: 49.4469741
            lon: 7.7724651
            address: Rittersberg 2, 67657 Kaiserslautern
            opening_hours: 24/7
          - uid: kaiserslautern-ph-lutrinastrasse
            name: PH Lutrinastraße (synthetisch)
            type: CAR_PARK
            lat: 49.4418
            lon: 7.7602
          - uid: kaiserslautern-p-messeplatz
            name: P Messeplatz (synthetisch)
            type: OFF_STREET_PARKING_GROUND
            lat: 49.4380
            lon: 7.7790
            capacity: 400

        """

    static func feed(_ body: String, time: String = "07.12.2026 08:15:00") -> Data {
        Data("<Daten>\n<Zeitstempel>\(time)</Zeitstempel>\n\(body)</Daten>\n".utf8)
    }

    static func carPark(_ name: String, total: String, taken: String, status: String = "Offen") -> String {
        "<Parkhaus>\n<ID>1</ID>\n<Name>\(name)</Name>\n<Gesamt>\(total)</Gesamt>\n<Aktuell>\(taken)</Aktuell>\n<Trend>0</Trend>\n<Status>\(status)</Status>\n</Parkhaus>\n"
    }

    static func feeds(staleAfter: TimeInterval = 1800) throws -> ParkingFeeds {
        let sites = try ParkingSitesFile.parse(
            Self.sitesFile, file: "parking-sites.yaml", updatedAt: Date(timeIntervalSince1970: 1_796_600_000))
        return ParkingFeeds(
            sources: [
                .init(url: "http://127.0.67.40/pls.xml", kind: .kaiserslauternXML(sites: sites)),
                .init(url: "http://127.0.67.40/parkapi.json", kind: .parkAPI),
            ], staleAfter: staleAfter)
    }

    @Test func theKaiserslauternFeed_isCompletedByTheParkingFile_andServedAsParkAPI() throws {
        let parking = try Self.feeds(staleAfter: 10 * 365 * 86_400)
        let body = Self.feed(
            Self.carPark("PH Altstadt (synthetisch)", total: "285", taken: "116")
                + Self.carPark("PH Lutrinastra&#223;e (synthetisch)", total: "127", taken: "130", status: "Geschlossen")
                + Self.carPark("PH Unbekannt", total: "70", taken: "60", status: "Stoerung"))
        try parking.accept(body, from: "http://127.0.67.40/pls.xml", at: Date())
        let sites = Dictionary(uniqueKeysWithValues: parking.sites(at: Date()).map { ($0.uid, $0) })
        #expect(sites.count == 3)
        let altstadt = try #require(sites["kaiserslautern-ph-altstadt"])
        #expect(
            altstadt.capacity == 285 && altstadt.realtime?.free == 169 && altstadt.realtime?.openingStatus == "OPEN")
        // 08:15 in Kaiserslautern, winter time.
        #expect(altstadt.item["realtime_data_updated_at"] as? String == "2026-12-07T07:15:00Z")
        #expect(altstadt.item["lat"] as? String == "49.4469741" && altstadt.item["type"] as? String == "CAR_PARK")
        // More taken than there are spaces: none free, never fewer than none.
        let lutrina = try #require(sites["kaiserslautern-ph-lutrinastrasse"])
        #expect(lutrina.realtime?.free == 0 && lutrina.realtime?.openingStatus == "CLOSED")
        // In the file, not in the feed: what it is, without occupancy.
        let messe = try #require(sites["kaiserslautern-p-messeplatz"])
        #expect(messe.realtime == nil && messe.capacity == 400 && messe.item["has_realtime_data"] as? Bool == false)
        let status = try #require(parking.statuses(at: Date()).first)
        #expect(status.leftOut == ["PH Unbekannt is in the feed, not in the parking file"] && status.lastError == nil)
    }

    @Test(arguments: [
        (
            "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>\n<Daten><Zeitstempel>&lol2;</Zeitstempel></Daten>",
            "the XML declares a document type; entity definitions are refused (they can expand a body without bound)"
        ),
        (
            "<!doctype Daten SYSTEM \"file:///etc/passwd\"><Daten/>",
            "the XML declares a document type; entity definitions are refused (they can expand a body without bound)"
        ),
        (
            "<Daten>\n<Zeitstempel>07.12.2026 08:15:00</Zeitstempel>\n<Parkhaus>\n<Name>PH A</Na",
            "the feed ends before </Daten>: it was cut short"
        ),
        (
            "<Daten>\n<Zeitstempel>07.12.2026 08:15:00</Zeitstempel>\n<Parkhaus><Name>PH A</Nam></Parkhaus>\n</Daten>\n",
            "<Parkhaus> PH A (line 3): Gesamt and Aktuell must be whole numbers"
        ),
        (
            "<Daten>\n<Zeitstempel zone=Berlin>07.12.2026 08:15:00</Zeitstempel>\n</Daten>\n",
            "not well-formed XML near line"
        ),
        ("{\"items\": []}", "not well-formed XML near line 1"),
        ("<Parkhaeuser></Parkhaeuser>", "the root element is not <Daten>"),
        (
            "<Daten><Zeitstempel>gestern</Zeitstempel></Daten>",
            "<Zeitstempel> 'gestern' is not a time dd.mm.yyyy HH:MM:SS"
        ),
        (
            "<Daten><Zeitstempel>07.12.2026 08:15:00</Zeitstempel><Parkhaus><Name>PH X</Name><Gesamt>99999999999999999999</Gesamt><Aktuell>1</Aktuell></Parkhaus></Daten>",
            "<Parkhaus> PH X (line 1): Gesamt and Aktuell must be whole numbers from 0 to 100000"
        ),
    ])
    func kaiserslauternBodiesThatAreNotTheFeed_areRefusedWithTheirReason(body: String, reason: String) throws {
        let parking = try Self.feeds(staleAfter: 10 * 365 * 86_400)  // the feed's time is fixed: never stale here
        try parking.accept(
            Self.feed(Self.carPark("PH Altstadt (synthetisch)", total: "285", taken: "116")),
            from: "http://127.0.67.40/pls.xml", at: Date())
        let refusal = try #require(throws: SourceRefusal.self) {
            try parking.accept(Data(body.utf8), from: "http://127.0.67.40/pls.xml", at: Date())
        }
        #expect(refusal.description.hasPrefix(reason), "\(refusal)")
        // What came before stays, and the refusal is shown with the source.
        #expect(parking.sites(at: Date()).first { $0.uid == "kaiserslautern-ph-altstadt" }?.realtime?.free == 169)
        #expect(parking.statuses(at: Date()).first?.lastError == refusal.description)
    }

    @Test func parkAPISources_areTakenItemByItem_andBrokenItemsNamed() throws {
        let parking = try Self.feeds(staleAfter: 3600)
        let now = Date()
        let fresh = ISO8601DateFormatter().string(from: now.addingTimeInterval(-60))
        let body = """
            {"items": [
              {"uid": "mannheim-p1", "name": "P1 (synthetisch)", "type": "underground", "lat": "49.4875", "lon": 8.466,
               "capacity": 300, "has_realtime_data": true, "static_data_updated_at": "2026-11-01T10:00:00Z",
               "realtime_data_updated_at": "\(fresh)", "realtime_opening_status": "OPEN", "realtime_free_capacity": 42},
              {"uid": "mannheim-p2", "name": "P2", "type": "CAR_PARK", "lat": 0, "lon": 0, "capacity": 10,
               "has_realtime_data": false, "static_data_updated_at": "2026-11-01T10:00:00Z"},
              {"uid": "mannheim-p3", "name": "P3", "type": "CAR_PARK", "lat": 49.5, "lon": 8.5, "capacity": 10,
               "has_realtime_data": 1, "static_data_updated_at": "2026-11-01T10:00:00Z"},
              {"uid": "mannheim-p4", "name": "P4", "type": "GARAGE", "lat": 49.5, "lon": 8.5, "capacity": true,
               "has_realtime_data": false, "static_data_updated_at": "2026-11-01T10:00:00Z"}
            ]}
            """
        try parking.accept(Data(body.utf8), from: "http://127.0.67.40/parkapi.json", at: now)
        let site = try #require(parking.sites(at: now).first { $0.uid == "mannheim-p1" })
        #expect(site.type == "UNDERGROUND" && site.realtime?.free == 42 && site.realtime?.capacity == 300)
        #expect(parking.sites(at: now).count == 1)
        let left = parking.statuses(at: now).last?.leftOut ?? []
        #expect(
            left == [
                "item 1 (mannheim-p2): lat is not a number from 34.0 to 72.0",
                "item 2 (mannheim-p3): has_realtime_data is not true or false",
                "item 3 (mannheim-p4): type GARAGE is not a ParkAPI v3 type",
            ], "\(left)")
        // Not ParkAPI at all: refused whole.
        let refusal = try #require(throws: SourceRefusal.self) {
            try parking.accept(Data("[1, 2]".utf8), from: "http://127.0.67.40/parkapi.json", at: now)
        }
        #expect(refusal.description == "the body is not ParkAPI v3 JSON ({\"items\": [...]})")
        // Two hours on, the source has said nothing new: stale, served without occupancy.
        let later = now.addingTimeInterval(7200)
        #expect(parking.sites(at: later).first { $0.uid == "mannheim-p1" }?.realtime == nil)
        #expect(parking.statuses(at: later).last?.stale == true)
    }

    @Test func aParkingFileWithMistakes_isRefused_eachWithItsLineAndColumn() throws {
        let file = """
            sites:
              - uid: Kaiserslautern PH
                name: PH A
                type: GARAGE
                lat: 91
                lon: 7.7
              - uid: kl-b
                name: PH B
                type: CAR_PARK
                lat: 49.4
                lon: 7.7
                colour: blue
              - uid: kl-c
                name: PH B
                type: CAR_PARK
                lat: 49.4
                lon: 7.7

            """
        let error = try #require(throws: YAMLFileError.self) {
            try ParkingSitesFile.parse(file, file: "parking-sites.yaml", updatedAt: Date())
        }
        #expect(
            error.problems.map(\.description) == [
                "parking-sites.yaml:2:10: error: the uid 'Kaiserslautern PH' must be lowercase letters, digits, '-' and '_' (at most 256)",
                "parking-sites.yaml:4:11: error: the type 'GARAGE' is not one of BUILDING, CAR_PARK, FLOOR, LOCKBOX, LOCKERS, OFF_STREET_PARKING_GROUND, ON_STREET, OTHER, SAFE_WALL_LOOPS, SHED, STANDS, TWO_TIER, UNDERGROUND, WALL_LOOPS",
                "parking-sites.yaml:5:10: error: lat '91' is not a number from 34.0 to 72.0",
                "parking-sites.yaml:12:5: error: unknown key 'colour' in a parking site; known: uid, name, type, lat, lon, address, opening_hours, public_url, capacity",
                "parking-sites.yaml:13:5: error: the name 'PH B' appears twice: the feed's names must tell the sites apart",
            ], "\(error)")
    }

    @Test func theSyntheticFeed_isTheFeedsOwnForm_andFollowsTheDay() throws {
        let sites = try ParkingSitesFile.parse(Self.sitesFile, file: "parking-sites.yaml", updatedAt: Date())
        let noon = ISO8601DateFormatter().date(from: "2026-12-07T12:00:00+01:00")!
        let night = ISO8601DateFormatter().date(from: "2026-12-07T03:00:00+01:00")!
        let parking = try Self.feeds(staleAfter: 10 * 365 * 86_400)
        func free(at time: Date) throws -> Int {
            try parking.accept(SyntheticParking.feed(sites, at: time), from: "http://127.0.67.40/pls.xml", at: time)
            return parking.sites(at: time).compactMap(\.realtime?.free).reduce(0, +)
        }
        #expect(try free(at: night) > 2 * (try free(at: noon)))
        #expect(parking.sites(at: noon).count == 3 && parking.statuses(at: noon).first?.leftOut == [])
    }
}
