import Foundation
import TestSupport
import Testing

@testable import Visualization

/// The bar chart and the stat tile: German calendar days for daily bars, each aggregate computed
/// over exactly its bucket, the same bytes for the same data (golden files), well-formed whatever
/// the data.
struct PanelChartTests {
    typealias Reading = TimeSeriesChart.Reading
    static let now = TimeSeriesChartTests.now
    static let hour: Int64 = 3_600_000

    /// Traffic counts at a Kaiserslautern counting site: a week of hourly counts with a morning and
    /// an evening peak.
    static func counts() -> BarChart {
        var readings: [Reading] = []
        for index in 0..<(7 * 24) {
            let time = now - 7 * 86_400_000 + Int64(index) * hour
            let local = (index + 13) % 24
            let value = Double(40 + (local == 7 || local == 17 ? 260 : local > 6 && local < 20 ? 120 : 0) + index % 7)
            readings.append(Reading(time: time, value: value))
        }
        return BarChart(
            title: "Kfz Zählstelle Lauterstraße", unit: "Kfz",
            bars: BarChart.bars(readings, bucket: 86_400_000, aggregate: .sum, start: now - 7 * 86_400_000, end: now),
            thresholds: [TimeSeriesChart.Level(name: "Planwert", threshold: 3000)], start: now - 7 * 86_400_000,
            end: now, rangeName: "letzte 7 Tage", aggregateName: "Summe je Tag", language: .de,
            theme: .named("hell"), id: "zaehlung")
    }

    static func tile() -> StatTile {
        let datastream = SensorSource.Datastream(
            id: 1, name: "Wasserstand Kusel Glanbrücke", thing: "Kusel Glanbrücke", unit: "cm",
            levels: [TimeSeriesChart.Level(name: "Meldestufe 1", threshold: 150)], low: nil,
            expectedInterval: 900_000)
        let readings = (0..<12).map {
            Reading(time: now - Int64(11 - $0) * 900_000 - 60_000, value: 140 + Double($0) * 1.5)
        }
        return StatTile(
            title: "Glan – Kusel Glanbrücke",
            status: GaugeStatus(datastream: datastream, position: nil, recent: readings, now: now), language: .de,
            theme: .named("hell"), id: "tile")
    }

    @Test(arguments: [("zaehlung-7d.svg", counts().svg()), ("kusel-jetzt.svg", tile().svg())])
    func chart_matchesItsGoldenFile(name: String, svg: String) throws {
        try TimeSeriesChartTests.expectGolden(svg, name)
        try TimeSeriesChartTests.expectWellFormed(svg, name)
    }

    /// A count (free spaces, vehicles) is a whole number: no "174,0 Plätze".
    @Test func aCountTile_showsWholeNumbers() throws {
        let datastream = SensorSource.Datastream(
            id: 2, name: "Freie Stellplätze PH Altstadt", thing: "PH Altstadt", unit: "Plätze", levels: [], low: nil,
            expectedInterval: nil, isCount: true)
        let tile = StatTile(
            title: "PH Altstadt",
            status: GaugeStatus(
                datastream: datastream, position: nil, recent: [Reading(time: Self.now - 60_000, value: 174)],
                now: Self.now), language: .de, theme: .named("hell"), id: "frei")
        let svg = tile.svg()
        #expect(svg.contains("174 Plätze") && !svg.contains("174,0"), "\(svg)")
        #expect(Self.tile().svg().contains("156,5 cm"))
    }

    @Test func narrowBars_keepTheirWordsInside() throws {
        var chart = Self.counts()
        chart.frame = .narrow
        let svg = chart.svg()
        try TimeSeriesChartTests.expectWellFormed(svg, "narrow bars")
        try TimeSeriesChartTests.expectWordsInside(svg, width: 360)
        #expect(svg.contains("<text x=\"16\" y=\"43\" fill=\"#4a535c\">Summe je Tag, letzte 7 Tage</text>"))
        #expect(svg.components(separatedBy: "<rect x=").count - 1 == chart.bars.count)
    }

    @Test func dailyBars_startAtGermanMidnight_inWinterAndInSummer() {
        let hour = Self.hour
        // 22:30 and 23:30 UTC on 1 December are 23:30 on the 1st and 00:30 on the 2nd in Germany (CET).
        let december = Int64(1_796_164_200_000)  // 2026-12-01T22:30:00Z
        let winter = BarChart.bars(
            [Reading(time: december, value: 1), Reading(time: december + hour, value: 2)], bucket: 86_400_000,
            aggregate: .sum, start: december - hour, end: december + 2 * hour)
        #expect(winter.map(\.start) == [december - 23 * hour - 1_800_000, december + 1_800_000])
        #expect(winter.map(\.value) == [1, 2])
        // In summer (CEST) a German day starts at 22:00 UTC.
        let july = Int64(1_783_027_800_000)  // 2026-07-02T21:30:00Z, 23:30 in Germany
        let summer = BarChart.bars(
            [Reading(time: july, value: 5), Reading(time: july + hour, value: 7)], bucket: 86_400_000, aggregate: .max,
            start: july - hour, end: july + 2 * hour)
        #expect(summer.count == 2 && summer[1].start == july + 1_800_000)
    }

    @Test func aggregates_areComputedPerBucket() {
        let hour = Self.hour
        let start = Int64(1_796_162_400_000)  // 2026-12-01T22:00:00Z, a full hour in Germany too
        let readings = [3.0, 9, 6].enumerated().map {
            Reading(time: start + Int64($0.offset) * 900_000, value: $0.element)
        }
        func value(_ aggregate: Panel.Aggregate) -> Double? {
            BarChart.bars(readings, bucket: hour, aggregate: aggregate, start: start, end: start + hour).first?.value
        }
        #expect(value(.max) == 9 && value(.min) == 3 && value(.sum) == 18 && value(.mean) == 6)
        #expect(
            BarChart.bars(readings, bucket: hour, aggregate: .sum, start: start, end: start + hour).first?.readings == 3
        )
    }

    @Test(arguments: TimeSeriesChartTests.oddCases())
    func oddData_givesWellFormedBarsAndTiles(name: String, readings: [TimeSeriesChart.Reading]) throws {
        let chart = BarChart(
            title: "Zählung <Test> & \"Quote\"", unit: "Kfz",
            bars: BarChart.bars(
                readings, bucket: Self.hour, aggregate: .sum, start: Self.now - 86_400_000, end: Self.now),
            thresholds: [], start: Self.now - 86_400_000, end: Self.now, rangeName: "letzte 24 Stunden",
            aggregateName: "Summe je Stunde", language: .en, theme: .named("dunkel"), id: "odd")
        let svg = chart.svg()
        try TimeSeriesChartTests.expectWellFormed(svg, name)
        #expect(!svg.contains("nan") && !svg.contains("inf"), "\(name)")
        if name == "empty" { #expect(svg.contains("No readings in this period.")) }
        let datastream = SensorSource.Datastream(
            id: 1, name: "Pegel <Test>", thing: "", unit: "cm", levels: [], low: nil, expectedInterval: nil)
        let tile = StatTile(
            title: "Pegel <Test> & \"Quote\"",
            status: GaugeStatus(datastream: datastream, position: nil, recent: readings, now: Self.now),
            language: .de, theme: .named("kontrast"), id: "tile")
        try TimeSeriesChartTests.expectWellFormed(tile.svg(), "tile, \(name)")
        if name == "empty" { #expect(tile.svg().contains("keine Messwerte, veraltet")) }
    }
}
