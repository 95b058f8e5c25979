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

    @Test(arguments: [false, true])
    func map_drawsEveryPlacedGaugeInsideWithItsShape_andIsWellFormed(narrow: Bool) throws {
        let outline: [[(Double, Double)]] = [[(7.3, 49.4), (7.7, 49.4), (7.7, 49.7), (7.3, 49.7), (7.3, 49.4)]]
        let map = OverviewMap(
            gauges: Self.gauges, outline: outline, title: "Pegel im Landkreis Kusel", id: "kus", narrow: narrow)
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
        #expect(svg.contains("viewBox=\"0 0 \(narrow ? 360 : 720) \(narrow ? 440 : 480)\""))
        // Every marker lies inside the drawing, and these four are apart enough for every label.
        let projection = OverviewMap.Projection(
            points: Self.gauges.compactMap { $0.position.map { ($0.longitude, $0.latitude) } } + outline[0], map: map)
        for gauge in Self.gauges {
            guard let position = gauge.position else { continue }
            let (x, y) = projection.point(position.longitude, position.latitude)
            #expect(x >= map.margin - 0.1 && x <= map.width - map.margin + 0.1, "\(gauge.place) x \(x)")
            #expect(y >= map.margin - 0.1 && y <= map.height - map.margin, "\(gauge.place) y \(y)")
            #expect(svg.contains(">\(gauge.place)</text>"), "\(gauge.place) has no label")
        }
        // Without the outline the gauges spread to the edges; their labels still fit.
        let bare = OverviewMap(gauges: Self.gauges, title: "Ohne Umriss", narrow: narrow).svg()
        for gauge in Self.gauges where gauge.position != nil {
            #expect(bare.contains(">\(gauge.place)</text>"), "\(gauge.place) has no label without the outline")
        }
        try TimeSeriesChartTests.expectWordsInside(bare, width: map.width, fontSize: 12)
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

    /// Thirty gauges along one stream, a few hundred metres apart: labels must not cover each other
    /// or another gauge's marker, nor run off the drawing; the gauge in a warning level keeps its
    /// label, and one left without a place still has its marker and tooltip.
    @Test(arguments: [false, true])
    func crowdedGauges_getLabelsThatNeitherOverlapNorLeaveTheDrawing(narrow: Bool) throws {
        var crowded = (0..<30).map { index in
            Self.gauge(
                Int64(index + 10), "Messstelle \(index + 1)",
                at: (7.40 + Double(index) * 0.004, 49.53 + Double(index % 5) * 0.002), values: [40, 41, 42])
        }
        crowded[17] = Self.gauge(99, "Hochwasser hier", at: (7.468, 49.534), values: [140, 150, 160])
        let map = OverviewMap(gauges: crowded, title: "Dicht an dicht", id: "dicht", narrow: narrow)
        let projection = OverviewMap.Projection(
            points: crowded.compactMap { $0.position.map { ($0.longitude, $0.latitude) } }, map: map)
        let points = crowded.map { gauge in gauge.position.map { projection.point($0.longitude, $0.latitude) }! }
        let places = map.labelPlaces(crowded, at: points)
        let drawn = places.enumerated().compactMap { index, place in place.map { (index, $0.box) } }
        #expect(drawn.count >= 3 && drawn.count < crowded.count, "\(drawn.count) labels")
        #expect(places[17] != nil, "the gauge in a warning level lost its label")
        for (index, box) in drawn {
            #expect(
                box.left >= 0 && box.right <= map.width && box.top >= 0 && box.bottom <= map.height - map.legendHeight)
            for (other, otherBox) in drawn where other > index {
                #expect(!box.overlaps(otherBox), "labels \(index) and \(other) overlap")
            }
            for (other, point) in points.enumerated() where other != index {
                let marker = OverviewMap.Box(
                    left: point.0 - 8, top: point.1 - 9, right: point.0 + 8, bottom: point.1 + 9)
                #expect(!box.overlaps(marker), "label \(index) covers the marker of \(other)")
            }
        }
        let svg = map.svg()
        try TimeSeriesChartTests.expectWellFormed(svg, "crowded")
        #expect(svg.components(separatedBy: "<g class=\"gauge\">").count - 1 == 30)
        // Two lines per label drawn, four in the legend, and the level's number in the warning marker.
        #expect(svg.components(separatedBy: "<text").count - 1 == 2 * drawn.count + 4 + 1)
    }
}
