/// A site's dashboards as its dashboard file defines them: pages of panels over the sensor services.
package struct DashboardFile: Sendable {
    /// The site's own sensor service, which panels read unless they name another source.
    package static let ownSource = "sensors"

    /// Sensor services by the name panels use, besides the site's own (`sensors`): other members'
    /// services for a cluster-wide overview.
    package var sources: [String: String]
    package var dashboards: [Dashboard]

    package init(sources: [String: String] = [:], dashboards: [Dashboard] = []) {
        self.sources = sources
        self.dashboards = dashboards
    }

    package func dashboard(_ id: String) -> Dashboard? { dashboards.first { $0.id == id } }
}

/// One page: a title, a short text and its panels, in order.
package struct Dashboard: Sendable, Equatable {
    package var id: String
    package var title: String
    package var titleEnglish: String?
    package var description: String?
    package var panels: [Panel]

    package func panel(_ id: String) -> Panel? { panels.first { $0.id == id } }
}

/// One chart on a dashboard, also served alone as SVG and CSV.
package struct Panel: Sendable, Equatable {
    package enum Kind: String, Sendable, CaseIterable {
        /// A datastream over time, with warning levels: a line chart.
        case timeseries
        /// The current value, its level and trend, as a tile.
        case stat
        /// A datastream summed up per hour or day: traffic counts, parking occupancy, daily peaks.
        case bars
        /// Every gauge of one or more sensor services on a map, with a list.
        case overview
    }

    /// Which datastream a panel shows: by id, or by its name in the sensor service.
    package enum DatastreamQuery: Sendable, Equatable {
        case id(Int64)
        case name(String)
    }

    /// The warning levels drawn: the datastream's own, none, or the panel's.
    package enum Thresholds: Sendable, Equatable {
        case datastream
        case none
        case given([TimeSeriesChart.Level])
    }

    package enum Aggregate: String, Sendable, CaseIterable {
        case max, min, mean, sum
    }

    package var id: String
    package var kind: Kind
    package var title: String?
    package var source: String
    /// Sources of an overview panel.
    package var sources: [String]
    package var datastream: DatastreamQuery?
    /// The preset shown first (`24h`, `7d`, `31d`).
    package var range: String
    package var thresholds: Thresholds
    /// Milliseconds per bar.
    package var bucket: Int64
    package var aggregate: Aggregate
    /// The catalog dataset with these data, linked under the panel.
    package var dataset: String?
}
