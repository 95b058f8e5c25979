/// One gauge as the overview shows it: where it is, its latest reading, the level it is in, its
/// trend, and whether its readings are stale — judged by the same rules as its chart.
struct GaugeStatus: Sendable {
    var datastream: Int64
    var name: String
    var place: String
    /// Longitude and latitude of its Thing's first Location, when that is a point.
    var position: (longitude: Double, latitude: Double)?
    var unit: String
    var latest: TimeSeriesChart.Reading?
    var trend: TimeSeriesChart.Trend?
    var level: String?
    /// 0 normal, -1 low water, 1… the warning level's number; drives the order and the marker.
    var severity: Int
    var isStale: Bool
    /// Decimals its values are shown with: none for counts, one for measurements.
    var places: Int
    /// The dashboard source it comes from; the site's own sensor service unless an overview reads others.
    var source = DashboardFile.ownSource

    /// The status of a datastream from its newest readings (any order) at `now`.
    init(
        datastream: SensorSource.Datastream, position: (Double, Double)?, recent: [TimeSeriesChart.Reading],
        now: Int64
    ) {
        let readings = recent.filter { $0.value.isFinite }.sorted { $0.time < $1.time }
        let chart = TimeSeriesChart(
            series: TimeSeriesChart.Series(
                title: datastream.name, unit: datastream.unit, readings: readings, levels: datastream.levels,
                low: datastream.low, expectedInterval: datastream.expectedInterval),
            start: now - 86_400_000, end: now, rangeName: "", now: now)
        self.datastream = datastream.id
        name = datastream.name
        place = datastream.thing
        self.position = position.map { (longitude: $0.0, latitude: $0.1) }
        unit = datastream.unit
        places = datastream.isCount ? 0 : 1
        latest = readings.last
        trend = TimeSeriesChart.trend(of: readings)
        isStale = chart.isStale(readings, interval: chart.expectedInterval(of: readings))
        if let value = readings.last?.value {
            level = chart.levelName(of: value)
            if let low = datastream.low, value <= low.threshold {
                severity = -1
            } else {
                severity = (datastream.levels.lastIndex { value >= $0.threshold }).map { $0 + 1 } ?? 0
            }
        } else {
            level = nil
            severity = 0
        }
    }

    /// Most urgent first: the highest level, then low water, then stale ones, then by name.
    static func ordered(_ gauges: [GaugeStatus]) -> [GaugeStatus] {
        gauges.sorted(by: isMoreUrgent)
    }

    static func isMoreUrgent(_ left: GaugeStatus, than right: GaugeStatus) -> Bool {
        func rank(_ gauge: GaugeStatus) -> Int {
            gauge.severity > 0 ? 100 + gauge.severity : gauge.severity < 0 ? 50 : gauge.isStale ? 10 : 0
        }
        return rank(left) != rank(right)
            ? rank(left) > rank(right)
            : (left.place, left.name, left.datastream) < (right.place, right.name, right.datastream)
    }
}
