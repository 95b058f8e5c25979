import Foundation
import TestSupport
import Testing

@testable import SensorThings
@testable import Visualization

/// The water-level chart as SVG: the same bytes for the same data (a golden file), well-formed
/// XML whatever the data, spikes kept through downsampling, gaps drawn as gaps, stale shown.
struct TimeSeriesChartTests {
    /// 2026-12-06T12:00:00Z.
    static let now: Int64 = 1_796_558_400_000
    static let quarter: Int64 = 900_000

    /// A day of quarter-hour readings at Kusel rising through Meldestufe 1, with two hours missing.
    static func kusel(now: Int64 = now) -> TimeSeriesChart {
        var readings: [TimeSeriesChart.Reading] = []
        for index in 0..<96 where !(40..<48).contains(index) {
            let value = 120 + Double(index) * 0.6 + (index % 4 == 0 ? 1.5 : 0)
            readings.append(TimeSeriesChart.Reading(time: now - 86_400_000 + Int64(index + 1) * quarter, value: value))
        }
        return TimeSeriesChart(
            series: TimeSeriesChart.Series(
                title: "Wasserstand Kusel", unit: "cm", readings: readings,
                levels: [
                    TimeSeriesChart.Level(name: "Meldestufe 1", threshold: 150),
                    TimeSeriesChart.Level(name: "Meldestufe 2", threshold: 200),
                ],
                low: TimeSeriesChart.Level(name: "MNW", threshold: 110), expectedInterval: quarter),
            start: now - 86_400_000, end: now, rangeName: "letzte 24 Stunden", now: now, id: "kusel")
    }

    /// Compares `svg` with `Golden/NAME`; `UPDATE_GOLDEN=1` writes it anew instead.
    static func expectGolden(_ svg: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = Fixtures.repositoryRoot.appendingPathComponent("Tests/VisualizationTests/Golden/\(name)")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" { try Data(svg.utf8).write(to: file) }
        let golden = try String(contentsOf: file, encoding: .utf8)
        #expect(
            svg == golden,
            "the chart differs from Tests/VisualizationTests/Golden/\(name); if intended, regenerate it with UPDATE_GOLDEN=1 swift test --filter VisualizationTests",
            sourceLocation: sourceLocation)
    }

    @Test func kuselChart_matchesItsGoldenFile() throws {
        let svg = Self.kusel().svg()
        try Self.expectGolden(svg, "kusel-24h.svg")
        // Rendering again gives the same bytes.
        #expect(Self.kusel().svg() == svg)
    }

    /// The phone-sized chart: its own golden file, every word at its size, and no header line (nor
    /// the stale badge) running past the right edge, judged at a generous 0.6 em per character.
    @Test func narrowChart_matchesItsGoldenFile_andKeepsItsWordsInside() throws {
        var chart = Self.kusel()
        chart.frame = .narrow
        let svg = chart.svg()
        try Self.expectGolden(svg, "kusel-24h-narrow.svg")
        try Self.expectWellFormed(svg, "narrow")
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 360 374\" width=\"360\""))
        // The same title and description as the wide chart: only the drawing differs.
        let wide = Self.kusel().svg()
        func titleAndDescription(_ svg: String) -> [Substring] {
            svg.split(separator: "\n").filter { $0.hasPrefix("<title") || $0.hasPrefix("<desc") }
        }
        #expect(titleAndDescription(svg) == titleAndDescription(wide))
        var stale = Self.kusel(now: Self.now - 3 * 3_600_000)
        (stale.now, stale.end, stale.frame) = (Self.now, Self.now, .narrow)
        for drawn in [svg, stale.svg()] {
            try Self.expectWordsInside(drawn, width: 360)
        }
        #expect(stale.svg().contains("Veraltet – letzter Wert"))
        // Four time ticks at most, where the wide chart has eight.
        #expect(TimeAxis.ticks(start: Self.now - 86_400_000, end: Self.now, most: 4).count <= 5)
    }

    /// Every left-aligned line of text in `svg` ends before the right edge, and centred ones fit
    /// on both sides; widths are estimated at 0.6 em per character (wider than most fonts draw), at
    /// the line's own font size or the drawing's `fontSize`.
    static func expectWordsInside(
        _ svg: String, width: Double, fontSize: Double = 13, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        var lines = 0
        for match in svg.matches(of: /<text([^>]*)>([^<]*)<\/text>/) {
            let attributes = match.1
            let x = try #require(
                attributes.firstMatch(of: /\sx="([0-9.]+)"/).flatMap { Double($0.1) }, sourceLocation: sourceLocation)
            let anchor = attributes.firstMatch(of: /\stext-anchor="([a-z]+)"/).map { String($0.1) }
            let size = attributes.firstMatch(of: /\sfont-size="([0-9]+)"/).flatMap { Double($0.1) } ?? fontSize
            let text = String(match.2).replacingOccurrences(of: "&amp;", with: "&")
            let extent = Double(text.count) * 0.6 * size
            let (left, right) =
                anchor == "middle"
                ? (x - extent / 2, x + extent / 2) : anchor == "end" ? (x - extent, x) : (x, x + extent)
            #expect(
                left >= 0 && right <= width, "“\(text)” runs from \(left) to \(right)", sourceLocation: sourceLocation)
            lines += 1
        }
        // A drawing whose text this does not recognise would pass without a look.
        #expect(lines > 0, "no <text> found", sourceLocation: sourceLocation)
    }

    @Test func chart_saysWhatItShows_inTitleAndDescription() throws {
        let svg = Self.kusel().svg()
        #expect(svg.contains("<title id=\"kusel-title\">Wasserstand Kusel (cm), letzte 24 Stunden</title>"))
        #expect(svg.contains("88 Messwerte zwischen"), "\(svg.prefix(900))")
        #expect(svg.contains("Zuletzt 177 cm am 06.12.2026, 13:00 (steigend ↗)"))
        #expect(svg.contains("Stufe: Meldestufe 1."))
        #expect(svg.contains("Stufen: MNW ≤ 110 cm; Meldestufe 1 ≥ 150 cm; Meldestufe 2 ≥ 200 cm."))
        // Levels are hatched and labelled, not told apart by colour alone.
        #expect(svg.contains("fill=\"url(#kusel-level1)\"") && svg.contains(">Meldestufe 1</text>"))
        // Two hours are missing: the line is two sub-paths.
        let path = try #require(svg.split(separator: "\n").first { $0.hasPrefix("<path class=\"series\"") })
        #expect(path.components(separatedBy: "M").count - 1 == 2, "\(path)")
        #expect(!svg.contains("Veraltet"))
    }

    @Test func staleReadings_areShown() {
        var chart = Self.kusel(now: Self.now - 3 * 3_600_000)
        chart.now = Self.now
        chart.end = Self.now
        let svg = chart.svg()
        #expect(svg.contains("Veraltet – letzter Wert 06.12.2026, 10:00"), "\(svg.prefix(1200))")
        #expect(svg.contains("Die Messwerte sind veraltet"))
    }

    @Test func aSpike_survivesDownsamplingOf9000Readings() {
        let start = Self.now - 31 * 86_400_000
        var readings = (0..<9_000).map { index in
            TimeSeriesChart.Reading(time: start + Int64(index) * 297_000, value: 100 + Double(index % 7))
        }
        readings[4_321].value = 480
        let chart = TimeSeriesChart(
            series: TimeSeriesChart.Series(title: "Pegel", unit: "cm", readings: readings), start: start, end: Self.now,
            rangeName: "letzte 31 Tage", now: Self.now)
        let svg = chart.svg()
        let path = svg.split(separator: "\n").first { $0.hasPrefix("<path class=\"series\"") } ?? ""
        let points = path.components(separatedBy: "L").count
        #expect(points <= 4 * 640 && points > 640, "\(points) points")
        // The spike is the top of the value axis; its point is drawn there.
        let scale = ValueScale(readings: readings, levels: [])
        #expect(path.contains(" " + SVGText.coordinate(scale.y(480))), "\(path.prefix(300))")
    }

    @Test func downsampling_keepsFirstLowestHighestAndLastOfEachColumn() {
        let points = (0..<100).map { Downsampling.Point(time: Int64($0), value: $0 == 37 ? -5 : $0 == 62 ? 99 : 1) }
        let reduced = Downsampling.minMax(points, start: 0, end: 100, columns: 2)
        #expect(reduced.map(\.time) == [0, 37, 49, 50, 62, 99])
    }

    static func oddCases() -> [(String, [TimeSeriesChart.Reading])] {
        typealias Reading = TimeSeriesChart.Reading
        let steps: [Int64] = Array(1...20).reversed().map { Int64($0) }
        let equal: [Reading] = steps.map { Reading(time: now - $0 * 900_000, value: 5) }
        let tiny: [Reading] = steps.map { Reading(time: now - $0 * 900_000, value: Double($0) * 1e-7) }
        let odd: [Reading] = [
            Reading(time: now - 7_200_000, value: .nan), Reading(time: now - 3_600_000, value: 1e300),
            Reading(time: now - 1_800_000, value: -.infinity), Reading(time: now - 900_000, value: 141),
        ]
        return [
            ("empty", []), ("one reading", [Reading(time: now - 3_600_000, value: 140)]), ("NaN and huge values", odd),
            ("all equal", equal), ("tiny values", tiny),
        ]
    }

    @Test(arguments: oddCases())
    func oddData_givesWellFormedSVG(name: String, readings: [TimeSeriesChart.Reading]) throws {
        let chart = TimeSeriesChart(
            series: TimeSeriesChart.Series(
                title: "Pegel <Test> & \"Quote\"", unit: "cm", readings: readings,
                levels: [TimeSeriesChart.Level(name: "Stufe 1", threshold: 150)]),
            start: Self.now - 86_400_000, end: Self.now, rangeName: "letzte 24 Stunden", now: Self.now)
        let svg = chart.svg()
        try Self.expectWellFormed(svg, name)
        #expect(!svg.contains("nan") && !svg.contains("inf"), "\(name)")
        if name == "NaN and huge values" { #expect(svg.contains("3 Werte sind nicht darstellbar")) }
        if name == "empty" { #expect(svg.contains("Keine Messwerte in diesem Zeitraum.")) }
        if name == "one reading" { #expect(svg.contains("<circle cx=")) }
    }

    @Test func englishAndAYearLongRange_areWellFormed() throws {
        var chart = Self.kusel()
        chart.language = .en
        chart.start = Self.now - 366 * 86_400_000
        chart.rangeName = "a year"
        let svg = chart.svg()
        try Self.expectWellFormed(svg, "english year")
        #expect(svg.contains("Latest 177 cm on 6 Dec 2026, 13:00 (rising ↗)"))
        try Self.expectWellFormed(
            Placeholder.svg(title: "Daten <nicht> erreichbar", message: "a & b", theme: .named("dunkel")), "placeholder"
        )
    }

    @Test func germanTime_switchesToSummerTimeAndBack() {
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        let march29 = Int64(SensorTime.days(year: 2026, month: 3, day: 29)) * 86_400_000
        #expect(GermanTime.offset(at: march29 + 3_600_000 - 1) == 3_600_000)
        #expect(GermanTime.offset(at: march29 + 3_600_000) == 7_200_000)
        let october25 = Int64(SensorTime.days(year: 2026, month: 10, day: 25)) * 86_400_000
        #expect(GermanTime.offset(at: october25 + 3_600_000 - 1) == 7_200_000)
        #expect(GermanTime.offset(at: october25 + 3_600_000) == 3_600_000)
        #expect(GermanTime.text(Self.now, language: .de) == "06.12.2026, 13:00")
        #expect(GermanTime.text(1_783_339_200_000, language: .en) == "6 Jul 2026, 14:00")
    }

    @Test func timeAxis_ticksAtRoundGermanClockTimes() {
        let ticks = TimeAxis.ticks(start: Self.now - 86_400_000, end: Self.now)
        #expect(
            ticks.map { $0.label(.de) } == ["15:00", "18:00", "21:00", "06.12.", "03:00", "06:00", "09:00", "12:00"])
        let days = TimeAxis.ticks(start: Self.now - 31 * 86_400_000, end: Self.now)
        #expect(days.count <= 8 && days.allSatisfy { GermanTime.parts($0.time).hour == 0 })
    }

    static func expectWellFormed(_ svg: String, _ name: String) throws {
        let folder = try Fixtures.temporaryFolder("chart-xml")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("chart.svg")
        try Data(svg.utf8).write(to: file)
        let parsed = try Spawn.run(
            "/usr/bin/python3", ["-c", "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])", file.path])
        #expect(parsed.status == 0, "\(name): not well-formed XML:\n\(svg.prefix(2000))")
    }
}
