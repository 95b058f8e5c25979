import Foundation
import Mobility
import ServiceSupport
import TestSupport
import Testing

/// Traffic counts in: the counting stations file and the count feeds' CSV, each refused with where
/// and why when it is not what it says; columns beyond the five never read past the parser.
struct CountsTests {
    static let stationsFile = """
        stations:
          - id: kl-fackelrondell
            name: Fackelrondell
            lat: 49.4431
            lon: 7.7662
            modes: [cars, bicycles, pedestrians]
          - id: kl-lautertalradweg
            name: Lautertal-Radweg
            lat: 49.4521
            lon: 7.7548
            modes: [bicycles]

        """

    static func stations() throws -> [String: CountingStation] {
        try CountingStationsFile.parse(stationsFile, file: "counting-stations.yaml")
    }

    static let now = Date(timeIntervalSince1970: 1_796_630_400)  // 2026-12-07T08:00:00Z

    static func parse(_ csv: String) throws -> CountsCSV.Reading {
        try CountsCSV.parse(Data(csv.utf8), stations: try stations(), now: now)
    }

    @Test func aFeed_givesItsCounts_andNothingOfItsOtherColumns() throws {
        let reading = try Self.parse(
            "\u{FEFF}Station,Mode,Start,End,Count,device_mac\r\n"
                + "kl-fackelrondell,bicycles,2026-12-07T06:00:00Z,2026-12-07T06:15:00Z,12,aa:bb:cc:dd:ee:ff\r\n"
                + "kl-fackelrondell,pedestrians,2026-12-07T07:00:00+01:00,2026-12-07T07:15:00+01:00,3,11:22:33:44:55:66\r\n"
                + "kl-unbekannt,cars,2026-12-07T06:00:00Z,2026-12-07T06:15:00Z,40,x\r\n"
                + "kl-lautertalradweg,cars,2026-12-07T06:00:00Z,2026-12-07T06:15:00Z,40,x\r\n"
                + "kl-lautertalradweg,bicycles,2026-12-07T09:00:00Z,2026-12-07T09:15:00Z,4,x\r\n")
        #expect(
            reading.counts == [
                TrafficCount(
                    station: "kl-fackelrondell", mode: .bicycles, start: Date(timeIntervalSince1970: 1_796_623_200),
                    end: Date(timeIntervalSince1970: 1_796_624_100), count: 12),
                TrafficCount(
                    station: "kl-fackelrondell", mode: .pedestrians, start: Date(timeIntervalSince1970: 1_796_623_200),
                    end: Date(timeIntervalSince1970: 1_796_624_100), count: 3),
            ])
        #expect(
            reading.leftOut == [
                "line 4: station 'kl-unbekannt' is not in the stations file",
                "line 5: station 'kl-lautertalradweg' does not count cars",
                "line 6: the interval ends in the future",
            ])
        #expect(!"\(reading)".contains("aa:bb"))
    }

    @Test(arguments: [
        ("station,mode,start,count\n", "line 1: the header lacks the column(s) end"),
        ("", "the body is empty: a header is needed"),
        (
            "station,mode,start,end,count\nkl-fackelrondell,cars,gestern,2026-12-07T06:15:00Z,1\n",
            "line 2: start 'gestern' is not an ISO 8601 time"
        ),
        (
            "station,mode,start,end,count\nkl-fackelrondell,cars,2026-12-07T06:15:00Z,2026-12-07T06:00:00Z,1\n",
            "line 2: end must lie after start, at most a day later"
        ),
        (
            "station,mode,start,end,count\nkl-fackelrondell,cars,2026-12-07T06:00:00Z,2026-12-07T06:15:00Z,-1\n",
            "line 2: count '-1' is not a whole number from 0 to 10000000"
        ),
        (
            "station,mode,start,end,count\nkl-fackelrondell,cars,2026-12-07T06:00:00Z,2026-12-07T06:15:00Z,99999999999999999999\n",
            "line 2: count '99999999999999999999' is not a whole number"
        ),
        (
            "station,mode,start,end,count\nkl-fackelrondell,trams,2026-12-07T06:00:00Z,2026-12-07T06:15:00Z,1\n",
            "line 2: mode 'trams' is not one of cars, bicycles, pedestrians"
        ),
        ("station,mode,start,end,count\nkl-fackelrondell,cars\n", "line 2: 2 fields, fewer than the header names"),
        ("station,mode,start,end,count\n\"kl-fackelrondell,cars\n", "line 2: a quoted field that is never closed"),
    ])
    func aBrokenFeed_isRefusedWhole_withTheLine(csv: String, message: String) throws {
        let refusal = try #require(throws: SourceRefusal.self) { try Self.parse(csv) }
        #expect(refusal.description.hasPrefix(message), "\(refusal)")
    }

    @Test func invalidUTF8_isRefused() throws {
        var body = Data("station,mode,start,end,count\nkl-fackelrondell,cars,".utf8)
        body.append(contentsOf: [0xFF, 0xFE])
        let refusal = try #require(throws: SourceRefusal.self) {
            try CountsCSV.parse(body, stations: try Self.stations(), now: Self.now)
        }
        #expect(refusal.description == "line 2: a field that is not valid UTF-8")
    }

    /// A refused body leaves what the source gave before, and the source's state says why.
    @Test func aRefusedBody_keepsTheCountsTakenBefore() throws {
        let url = "http://127.0.67.40/counts.csv"
        let feeds = CountFeeds(sources: [url], stations: try Self.stations())
        try feeds.accept(
            Data(
                "station,mode,start,end,count\nkl-lautertalradweg,bicycles,2026-12-07T06:00:00Z,2026-12-07T06:15:00Z,7\n"
                    .utf8),
            from: url, at: Self.now)
        #expect(throws: SourceRefusal.self) {
            try feeds.accept(Data("station,mode\n".utf8), from: url, at: Self.now)
        }
        #expect(feeds.counts().map(\.count) == [7])
        let status = try #require(feeds.statuses().first)
        #expect(status.counts == 1)
        #expect(status.lastError == "line 1: the header lacks the column(s) start, end, count")
    }

    @Test(arguments: [
        (
            "stations:\n  - id: KL Mitte\n    name: x\n    lat: 49.4\n    lon: 7.7\n    modes: [cars]\n", "2:9",
            "the id 'KL Mitte' must be lowercase"
        ),
        (
            "stations:\n  - id: kl\n    name: x\n    lat: 49.4\n    lon: 7.7\n    modes: [trams]\n", "6:13",
            "the mode 'trams' is not one of cars, bicycles, pedestrians"
        ),
        (
            "stations:\n  - id: kl\n    name: x\n    lat: 149.4\n    lon: 7.7\n    modes: [cars]\n", "4:10",
            "lat '149.4' is not a number from 34.0 to 72.0"
        ),
        (
            "stations:\n  - id: kl\n    name: x\n    lat: 49.4\n    lon: 7.7\n    modes: []\n", "6:12",
            "a station counts at least one mode"
        ),
        (
            "stations:\n  - id: kl\n    name: x\n    lat: 49.4\n    lon: 7.7\n    modes: [cars]\n    device: 1\n",
            "7:5", "unknown key"
        ),
    ])
    func aStationsFileMistake_saysWhere(file: String, position: String, message: String) throws {
        let error = try #require(throws: YAMLFileError.self) {
            try CountingStationsFile.parse(file, file: "counting-stations.yaml")
        }
        #expect(error.description.hasPrefix("counting-stations.yaml:\(position): error: "), "\(error)")
        #expect(error.description.contains(message), "\(error)")
    }

    /// The synthetic feed is a feed like any: a day of quarter hours per station and mode, read by
    /// the same parser, with quiet night hours below a privacy minimum among them.
    @Test func theSyntheticFeed_isADayOfCounts_withSmallOnesAtNight() throws {
        let stations = try Self.stations()
        let body = SyntheticCounts.feed(stations, at: Self.now)
        let reading = try CountsCSV.parse(body, stations: stations, now: Self.now)
        #expect(reading.leftOut.isEmpty)
        #expect(reading.counts.count == 96 * 4)
        #expect(reading.counts.allSatisfy { $0.end.timeIntervalSince($0.start) == 900 && $0.end <= Self.now })
        #expect(reading.counts.contains { (1..<5).contains($0.count) })
        #expect(reading.counts.contains { $0.count >= 100 })
        #expect(SyntheticCounts.feed(stations, at: Self.now) == body)
    }
}
