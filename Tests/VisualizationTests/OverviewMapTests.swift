import Foundation
import TestSupport
import Testing

@testable import Visualization

/// The overview of a site's gauges: every state told by shape and label, positions projected into
/// the drawing, the most urgent first in the list.
struct OverviewMapTests {
    static let now = TimeSeriesChartTests.now

    static func gauge(
        _ id: Int64, _ place: String, at position: (Double, Double)?, values: [Double], minutesAgo: Int64 = 0
    ) -> GaugeStatus {
        let readings = values.enumerated().map { index, value in
            TimeSeriesChart.Reading(
                time: now - minutesAgo * 60_000 - Int64(values.count - 1 - index) * 900_000, value: value)
        }
        return GaugeStatus(
            datastream: SensorSource.Datastream(
                id: id, name: "Wasserstand", thing: place, unit: "cm",
                levels: [TimeSeriesChart.Level(name: "Meldestufe 1", threshold: 150)],
                low: TimeSeriesChart.Level(name: "MNW", threshold: 20), expectedInterval: 900_000),
            position: position, recent: readings, now: now)
    }

    static let gauges = [
        gauge(1, "Kusel", at: (7.398, 49.538), values: [140, 145, 150, 152, 158]),
        gauge(2, "Lauterecken", at: (7.594, 49.650), values: [60, 60, 61, 60, 60], minutesAgo: 180),
        gauge(3, "Altenglan", at: (7.467, 49.550), values: [30, 28, 25, 21, 18]),
        gauge(4, "Glan-Münchweiler", at: (7.445, 49.472), values: [44, 45, 45, 44, 45]),
        gauge(5, "Ohne Ort", at: nil, values: []),
    ]

    @Test func statuses_sayLevelLowWaterStaleAndTrend() {
        let kusel = Self.gauges[0]
        #expect(kusel.severity == 1 && kusel.level == "Meldestufe 1" && kusel.trend == .rising && !kusel.isStale)
        #expect(Self.gauges[1].isStale && Self.gauges[1].severity == 0)
        #expect(Self.gauges[2].severity == -1 && Self.gauges[2].level == "MNW" && Self.gauges[2].trend == .falling)
        #expect(Self.gauges[4].latest == nil && Self.gauges[4].isStale)
        #expect(
            GaugeStatus.ordered(Self.gauges).map(\.place) == [
                "Kusel", "Altenglan", "Lauterecken", "Ohne Ort", "Glan-Münchweiler",
            ])
    }

    @Test func map_drawsEveryPlacedGaugeInsideWithItsShape_andIsWellFormed() throws {
        let outline: [[(Double, Double)]] = [[(7.3, 49.4), (7.7, 49.4), (7.7, 49.7), (7.3, 49.7), (7.3, 49.4)]]
        let map = OverviewMap(gauges: Self.gauges, outline: outline, title: "Pegel im Landkreis Kusel", id: "kus")
        let svg = map.svg()
        try TimeSeriesChartTests.expectWellFormed(svg, "overview")
        #expect(svg == map.svg())
        #expect(svg.contains("<title id=\"kus-title\">Pegel im Landkreis Kusel</title>"))
        #expect(
            svg.contains(
                "5 Messstellen. In einer Warnstufe: Kusel (Meldestufe 1). Niedrigwasser: Altenglan. Veraltet: Lauterecken, Ohne Ort."
            ), "\(svg.prefix(800))")
        #expect(svg.contains("1 ohne bekannten Ort (nur in der Liste)."))
        #expect(svg.contains("<path class=\"outline\" d=\"M"))
        // Four placed gauges, each a group with its tooltip; the one without a position is not drawn.
        #expect(svg.components(separatedBy: "<g class=\"gauge\">").count - 1 == 4)
        #expect(!svg.contains(">Ohne Ort</text>"))
        // Every marker lies inside the drawing.
        let projection = OverviewMap.Projection(
            points: Self.gauges.compactMap { $0.position.map { ($0.longitude, $0.latitude) } } + outline[0])
        for gauge in Self.gauges {
            guard let position = gauge.position else { continue }
            let (x, y) = projection.point(position.longitude, position.latitude)
            #expect(
                x >= OverviewMap.margin - 0.1 && x <= OverviewMap.width - OverviewMap.margin + 0.1,
                "\(gauge.place) x \(x)")
            #expect(
                y >= OverviewMap.margin - 0.1 && y <= OverviewMap.height - OverviewMap.margin, "\(gauge.place) y \(y)")
        }
        // North is up and east is right: Lauterecken lies north-east of Kusel.
        let kusel = projection.point(7.398, 49.538)
        let lauterecken = projection.point(7.594, 49.650)
        #expect(lauterecken.0 > kusel.0 && lauterecken.1 < kusel.1)
    }

    @Test func emptyAndSingleGauge_areWellFormed() throws {
        try TimeSeriesChartTests.expectWellFormed(OverviewMap(gauges: [], title: "Leer").svg(), "empty")
        let one = OverviewMap(gauges: [Self.gauges[0]], title: "Eins", language: .en).svg()
        try TimeSeriesChartTests.expectWellFormed(one, "one")
        #expect(one.contains("1 gauge. At a warning level: Kusel (Meldestufe 1)."))
    }
}
