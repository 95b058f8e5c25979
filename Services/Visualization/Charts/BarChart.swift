import SensorThings

/// A datastream summed up per hour or per German calendar day, drawn as bars: vehicles counted per
/// hour, free parking spaces at the fullest, a gauge's daily peak. Thresholds are dashed, labelled
/// lines. The same input gives the same bytes, like the time series.
package struct BarChart: Sendable {
    package struct Bar: Equatable, Sendable {
        /// The bucket's start (UTC milliseconds) and end.
        package var start: Int64
        package var end: Int64
        package var value: Double
        package var readings: Int
    }

    package var title: String
    package var unit: String
    package var bars: [Bar]
    package var thresholds: [TimeSeriesChart.Level]
    package var start: Int64
    package var end: Int64
    package var rangeName: String
    /// What each bar is: `Höchstwert je Tag`.
    package var aggregateName: String
    package var language: ChartLanguage
    package var theme: ChartTheme
    package var id: String
    package var frame = ChartFrame.wide

    /// The same chart drawn for a phone, with ids of its own so both can be inline on one page.
    var narrowed: BarChart {
        var narrow = self
        (narrow.frame, narrow.id) = (.narrow, id + "n")
        return narrow
    }

    /// The most bars drawn: 31 days of hours is 744, more than the plot has pixels to tell apart.
    static let maxBars = 800

    /// Groups `readings` (ordered by time) into buckets of `bucket` milliseconds, aligned to German
    /// clock time (days start at midnight in Kusel, not in Greenwich), from `start` to `end`.
    package static func bars(
        _ readings: [TimeSeriesChart.Reading], bucket: Int64, aggregate: Panel.Aggregate, start: Int64, end: Int64
    ) -> [Bar] {
        let bucket = max(bucket, 60_000)
        func bucketStart(_ time: Int64) -> Int64 {
            GermanTime.utc(ofLocal: GermanTime.floorDivide(GermanTime.local(time), bucket) * bucket)
        }
        var bars: [Bar] = []
        var values: [Double] = []
        var current: Int64?
        func close() {
            guard let open = current, !values.isEmpty else { return }
            let value: Double
            switch aggregate {
            case .max: value = values.max()!
            case .min: value = values.min()!
            case .sum: value = values.reduce(0, +)
            case .mean: value = values.reduce(0, +) / Double(values.count)
            }
            let next = GermanTime.utc(ofLocal: GermanTime.local(open) + bucket)
            bars.append(Bar(start: open, end: max(next, open + 60_000), value: value, readings: values.count))
            values.removeAll(keepingCapacity: true)
        }
        for reading in readings
        where reading.time >= start && reading.time <= end && reading.value.isFinite
            && abs(reading.value) <= TimeSeriesChart.largestDrawable
        {
            let own = bucketStart(reading.time)
            if own != current {
                close()
                current = own
            }
            values.append(reading.value)
        }
        close()
        return Array(bars.suffix(maxBars))
    }

    package func svg() -> String {
        let words = Words(language: language)
        let unit = unit.isEmpty ? "" : " " + unit
        let shortHeading = "\(title)\(self.unit.isEmpty ? "" : " (\(self.unit))")"
        let period = "\(aggregateName), \(rangeName)"
        let heading = "\(shortHeading), \(period)"
        // Bars grow from zero, so zero is on the axis whenever the values allow.
        let baseline = TimeSeriesChart.Reading(time: start, value: 0)
        let scale = ValueScale(
            readings: bars.map { TimeSeriesChart.Reading(time: $0.start, value: $0.value) } + [baseline],
            levels: thresholds.map(\.threshold), frame: frame)
        let places = max(scale.places, bars.contains { $0.value != $0.value.rounded() } ? 1 : 0)
        var description = words.range(
            GermanTime.text(start, language: language), GermanTime.text(end, language: language))
        if let highest = bars.max(by: { $0.value < $1.value }), let lowest = bars.min(by: { $0.value < $1.value }) {
            let value = { (bar: Bar) in SVGText.value(bar.value, places: places, language: language) + unit }
            description +=
                language == .de
                ? " \(bars.count) Balken; am höchsten \(value(highest)) ab \(GermanTime.text(highest.start, language: language)), am niedrigsten \(value(lowest)) ab \(GermanTime.text(lowest.start, language: language))."
                : " \(bars.count) bars; highest \(value(highest)) from \(GermanTime.text(highest.start, language: language)), lowest \(value(lowest)) from \(GermanTime.text(lowest.start, language: language))."
        } else {
            description += " " + words.noReadings
        }
        if !thresholds.isEmpty {
            description +=
                " " + words.levels + ": "
                + thresholds.map {
                    "\($0.name) \(SVGText.value($0.threshold, places: places, language: language))\(unit)"
                }.joined(separator: "; ") + "."
        }
        let left = frame.plotLeft
        let right = frame.plotRight
        let x = { [start, end] (time: Int64) -> Double in scale.x(time, start: start, end: end) }
        var svg = frame.openingTag(id: id)
        svg += "<title id=\"\(id)-title\">\(SVGText.escape(heading))</title>\n"
        svg += "<desc id=\"\(id)-desc\">\(SVGText.escape(description))</desc>\n"
        svg += "<rect width=\"\(frame.width)\" height=\"\(frame.height)\" fill=\"\(theme.background)\"/>\n"
        let state =
            bars.last.map {
                [
                    SVGText.value($0.value, places: places, language: language) + unit,
                    (language == .de ? "ab " : "from ") + GermanTime.text($0.start, language: language),
                ]
            } ?? []
        svg += frame.header(heading: shortHeading, period: period, state: state, theme: theme).svg
        svg += scale.axes(start: start, end: end, unit: self.unit, language: language, theme: theme)
        if bars.isEmpty {
            svg += scale.note(words.noReadings, theme: theme)
        } else {
            let zero = scale.y(min(max(0, scale.bottom), scale.top))
            svg += "<g class=\"bars\" fill=\"\(theme.line)\">\n"
            for bar in bars {
                let from = max(x(bar.start), left)
                let width = max(min(x(bar.end), right) - from - 1, 1)
                let y = scale.y(bar.value)
                let (upper, height) = y < zero ? (y, zero - y) : (zero, y - zero)
                svg +=
                    "<rect x=\"\(SVGText.coordinate(from))\" y=\"\(SVGText.coordinate(upper))\" width=\"\(SVGText.coordinate(width))\" height=\"\(SVGText.coordinate(max(height, 0.5)))\"/>\n"
            }
            svg += "</g>\n"
        }
        svg += "<g class=\"levels\" fill=\"\(theme.level)\">\n"
        for level in thresholds where level.threshold >= scale.bottom && level.threshold <= scale.top {
            let y = SVGText.coordinate(scale.y(level.threshold))
            svg +=
                "<line x1=\"\(left)\" x2=\"\(right)\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"\(theme.level)\" stroke-width=\"1.5\" stroke-dasharray=\"6 3\"/>"
            svg +=
                "<text x=\"\(right - 4)\" y=\"\(SVGText.coordinate(scale.y(level.threshold) - 4))\" text-anchor=\"end\">\(SVGText.escape(level.name))</text>\n"
        }
        svg += "</g>\n"
        svg += "</svg>\n"
        return svg
    }

    /// The bars drawn, one per line: the bucket's start and end in UTC, the value with a decimal
    /// point, and how many readings it sums up.
    package func csv() -> String {
        var text = "start,end,value,readings\n"
        for bar in bars {
            text +=
                "\(SensorTime.text(bar.start)),\(SensorTime.text(bar.end)),"
                + "\(CSVNumber.text(bar.value)),\(bar.readings)\n"
        }
        return text
    }
}
