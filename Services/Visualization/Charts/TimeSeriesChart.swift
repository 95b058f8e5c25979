/// A datastream's readings over a time range, drawn as SVG on the server: the line with gaps where
/// readings are missing, warning levels as hatched and labelled bands, the current value with its
/// time and trend, a visible "stale" state, axes in German clock time, and `<title>`/`<desc>` for
/// screen readers. The same input gives the same bytes.
package struct TimeSeriesChart: Sendable {
    package struct Reading: Equatable, Sendable {
        package var time: Int64
        package var value: Double

        package init(time: Int64, value: Double) {
            self.time = time
            self.value = value
        }
    }

    package struct Level: Equatable, Sendable {
        package var name: String
        package var threshold: Double

        package init(name: String, threshold: Double) {
            self.name = name
            self.threshold = threshold
        }
    }

    package struct Series: Sendable {
        /// What is measured where: `Wasserstand Kusel`.
        package var title: String
        package var unit: String
        /// Ordered by time.
        package var readings: [Reading]
        /// Warning levels, ascending: a reading at or above a threshold is in that level.
        package var levels: [Level] = []
        /// Low water: at or below the threshold.
        package var low: Level?
        /// How often readings are expected (milliseconds); nil: taken from the readings.
        package var expectedInterval: Int64?

        package init(
            title: String, unit: String, readings: [Reading], levels: [Level] = [], low: Level? = nil,
            expectedInterval: Int64? = nil
        ) {
            self.title = title
            self.unit = unit
            self.readings = readings
            self.levels = levels
            self.low = low
            self.expectedInterval = expectedInterval
        }
    }

    package var series: Series
    package var start: Int64
    package var end: Int64
    /// What the range is called in the title: `letzte 24 Stunden`.
    package var rangeName: String
    package var now: Int64
    package var language: ChartLanguage = .de
    package var theme = ChartTheme.named("hell")
    /// Prefixes the ids inside the SVG, so several charts can be inline on one page.
    package var id = "chart"
    package var frame = ChartFrame.wide
    /// Values beyond this are not drawable next to gauge readings; they are left out and counted.
    static let largestDrawable = 1e12

    package init(
        series: Series, start: Int64, end: Int64, rangeName: String, now: Int64, language: ChartLanguage = .de,
        theme: ChartTheme = .named("hell"), id: String = "chart", frame: ChartFrame = .wide
    ) {
        self.series = series
        self.start = start
        self.end = end
        self.rangeName = rangeName
        self.now = now
        self.language = language
        self.theme = theme
        self.id = id
        self.frame = frame
    }

    /// The same chart drawn for a phone, with ids of its own so both can be inline on one page.
    package var narrowed: TimeSeriesChart {
        var narrow = self
        (narrow.frame, narrow.id) = (.narrow, id + "n")
        return narrow
    }

    // MARK: What the chart says

    /// The readings that can be drawn, and how many could not.
    var drawable: (readings: [Reading], left: Int) {
        let kept = series.readings.filter {
            $0.value.isFinite && abs($0.value) <= Self.largestDrawable && $0.time >= start && $0.time <= end
        }
        return (kept, series.readings.count - kept.count)
    }

    /// The expected time between readings: given, or the median spacing of the readings.
    func expectedInterval(of readings: [Reading]) -> Int64? {
        if let given = series.expectedInterval, given > 0 { return given }
        guard readings.count >= 3 else { return nil }
        var gaps = zip(readings.dropFirst(), readings).map { $0.time - $1.time }.filter { $0 > 0 }
        guard !gaps.isEmpty else { return nil }
        gaps.sort()
        return gaps[gaps.count / 2]
    }

    enum Trend: Equatable {
        case rising, falling, steady
    }

    /// Against the reading an hour before the latest (within two hours): more than one unit up or
    /// down, as Pegelonline reports it.
    static func trend(of readings: [Reading]) -> Trend? {
        guard let latest = readings.last else { return nil }
        guard
            let before = readings.last(where: {
                $0.time <= latest.time - 3_600_000 && $0.time >= latest.time - 7_200_000
            })
        else { return nil }
        let change = latest.value - before.value
        return change > 1 ? .rising : change < -1 ? .falling : .steady
    }

    /// Whether the latest reading is older than twice the expected interval (and at least 30
    /// minutes), for a range that reaches up to now.
    func isStale(_ readings: [Reading], interval: Int64?) -> Bool {
        guard end >= now - 60_000 else { return false }
        guard let latest = readings.last else { return true }
        let allowed = max(2 * (interval ?? 900_000), 1_800_000)
        return now - latest.time > allowed
    }

    /// The level a value is in, by name; nil when it is in none.
    func levelName(of value: Double) -> String? {
        if let low = series.low, value <= low.threshold { return low.name }
        return series.levels.last { value >= $0.threshold }?.name
    }

    // MARK: Drawing

    package func svg() -> String {
        let (readings, left) = drawable
        let interval = expectedInterval(of: readings)
        let stale = isStale(readings, interval: interval)
        let words = Words(language: language)
        let unit = series.unit.isEmpty ? "" : " " + series.unit
        let heading = "\(series.title)\(series.unit.isEmpty ? "" : " (\(series.unit))")"
        let title = "\(heading), \(rangeName)"
        let scale = ValueScale(
            readings: readings, levels: series.levels.map(\.threshold) + [series.low?.threshold].compactMap { $0 },
            frame: frame)
        let places = scale.places

        var description = words.range(
            GermanTime.text(start, language: language), GermanTime.text(end, language: language))
        if readings.isEmpty {
            description += " " + words.noReadings
        } else {
            let low = readings.map(\.value).min() ?? 0
            let high = readings.map(\.value).max() ?? 0
            description +=
                " "
                + words.readings(
                    readings.count, SVGText.value(low, places: places, language: language) + unit,
                    SVGText.value(high, places: places, language: language) + unit)
        }
        if let latest = readings.last {
            description +=
                " "
                + words.latest(
                    SVGText.value(latest.value, places: places, language: language) + unit,
                    GermanTime.text(latest.time, language: language))
            if let trend = Self.trend(of: readings) { description += " (\(words.trend(trend)))" }
            description += "."
            if let level = levelName(of: latest.value) { description += " " + words.inLevel(level) }
        }
        if stale { description += " " + words.staleSentence }
        if left > 0 { description += " " + words.leftOut(left) }
        if !series.levels.isEmpty || series.low != nil {
            let thresholds =
                (series.low.map {
                    ["\($0.name) ≤ \(SVGText.value($0.threshold, places: places, language: language))\(unit)"]
                } ?? [])
                + series.levels.map {
                    "\($0.name) ≥ \(SVGText.value($0.threshold, places: places, language: language))\(unit)"
                }
            description += " " + words.levels + ": " + thresholds.joined(separator: "; ") + "."
        }

        var svg = ""
        svg.reserveCapacity(16_384)
        svg += frame.openingTag(id: id)
        svg += "<title id=\"\(id)-title\">\(SVGText.escape(title))</title>\n"
        svg += "<desc id=\"\(id)-desc\">\(SVGText.escape(description))</desc>\n"
        svg += "<defs>\n"
        for (index, _) in series.levels.enumerated() {
            // Denser and steeper hatching for higher levels: told apart without colour.
            let spacing = [10, 7, 5, 4][min(index, 3)]
            let angle = [45, -45, 45, -45][min(index, 3)]
            svg +=
                "<pattern id=\"\(id)-level\(index + 1)\" patternUnits=\"userSpaceOnUse\" width=\"\(spacing)\" height=\"\(spacing)\""
            svg +=
                " patternTransform=\"rotate(\(angle))\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"\(spacing)\" stroke=\"\(theme.level)\" stroke-width=\"1\" stroke-opacity=\"0.45\"/></pattern>\n"
        }
        if series.low != nil {
            svg +=
                "<pattern id=\"\(id)-low\" patternUnits=\"userSpaceOnUse\" width=\"8\" height=\"8\"><circle cx=\"4\" cy=\"4\" r=\"1.2\" fill=\"\(theme.level)\" fill-opacity=\"0.5\"/></pattern>\n"
        }
        let (plotLeft, plotRight, plotTop, plotBottom) = (
            frame.plotLeft, frame.plotRight, frame.plotTop, frame.plotBottom
        )
        svg +=
            "<clipPath id=\"\(id)-plot\"><rect x=\"\(plotLeft)\" y=\"\(plotTop)\" width=\"\(plotRight - plotLeft)\" height=\"\(plotBottom - plotTop)\"/></clipPath>\n"
        svg += "</defs>\n"
        svg += "<rect width=\"\(frame.width)\" height=\"\(frame.height)\" fill=\"\(theme.background)\"/>\n"

        // The header: what, the current value, when, which way.
        var state: [String] = []
        if let latest = readings.last {
            state.append(SVGText.value(latest.value, places: places, language: language) + unit)
            state.append(GermanTime.text(latest.time, language: language))
            if let trend = Self.trend(of: readings) { state.append(words.trend(trend)) }
            if let level = levelName(of: latest.value) { state.append(level) }
        }
        let header = frame.header(heading: heading, period: rangeName, state: state, theme: theme)
        svg += header.svg
        if stale {
            let text =
                readings.last.map { words.staleSince(GermanTime.text($0.time, language: language)) }
                ?? words.staleNoData
            svg += frame.badge(text, colour: theme.stale, below: header.below)
        }

        // Bands of the levels, hatched and labelled.
        let x = { [start, end] (time: Int64) -> Double in scale.x(time, start: start, end: end) }
        let y = { (value: Double) -> Double in scale.y(value) }
        svg += "<g class=\"levels\" clip-path=\"url(#\(id)-plot)\">\n"
        for (index, level) in series.levels.enumerated() where level.threshold <= scale.top {
            let upper = index + 1 < series.levels.count ? series.levels[index + 1].threshold : scale.top
            let top = max(y(min(upper, scale.top)), plotTop)
            let bottom = min(y(level.threshold), plotBottom)
            if bottom > top {
                svg +=
                    "<rect x=\"\(plotLeft)\" y=\"\(SVGText.coordinate(top))\" width=\"\(plotRight - plotLeft)\" height=\"\(SVGText.coordinate(bottom - top))\" fill=\"url(#\(id)-level\(index + 1))\"/>"
            }
            svg +=
                "<line x1=\"\(plotLeft)\" x2=\"\(plotRight)\" y1=\"\(SVGText.coordinate(bottom))\" y2=\"\(SVGText.coordinate(bottom))\" stroke=\"\(theme.level)\" stroke-dasharray=\"6 3\"/>"
            // At the top edge the label goes below its line, where there is room.
            let label = bottom - 4 < plotTop + 12 ? bottom + 15 : bottom - 4
            svg +=
                "<text x=\"\(plotRight - 4)\" y=\"\(SVGText.coordinate(label))\" text-anchor=\"end\" fill=\"\(theme.level)\">\(SVGText.escape(level.name))</text>\n"
        }
        if let low = series.low, low.threshold >= scale.bottom {
            let line = y(low.threshold)
            svg +=
                "<rect x=\"\(plotLeft)\" y=\"\(SVGText.coordinate(line))\" width=\"\(plotRight - plotLeft)\" height=\"\(SVGText.coordinate(plotBottom - line))\" fill=\"url(#\(id)-low)\"/>"
            svg +=
                "<line x1=\"\(plotLeft)\" x2=\"\(plotRight)\" y1=\"\(SVGText.coordinate(line))\" y2=\"\(SVGText.coordinate(line))\" stroke=\"\(theme.level)\" stroke-dasharray=\"2 3\"/>"
            svg +=
                "<text x=\"\(plotRight - 4)\" y=\"\(SVGText.coordinate(line + 15))\" text-anchor=\"end\" fill=\"\(theme.level)\">\(SVGText.escape(low.name))</text>\n"
        }
        svg += "</g>\n"

        // Axes: values on the left, German clock time below.
        svg += scale.axes(start: start, end: end, unit: series.unit, language: language, theme: theme)

        // The line: a new sub-path after every gap, reduced to the pixel columns.
        if readings.isEmpty {
            svg += scale.note(words.noReadings, theme: theme)
        } else {
            let gap = interval.map { max(3 * $0, 1_800_000) } ?? Int64.max
            let columns = Int(plotRight - plotLeft)
            var path = ""
            var segment: [Downsampling.Point] = []
            var singles: [Downsampling.Point] = []
            func flush() {
                let reduced = Downsampling.minMax(segment, start: start, end: end, columns: columns)
                if reduced.count == 1 { singles.append(reduced[0]) }
                for (index, point) in reduced.enumerated() {
                    path +=
                        (index == 0 ? "M" : "L") + SVGText.coordinate(x(point.time)) + " "
                        + SVGText.coordinate(y(point.value))
                }
                segment.removeAll(keepingCapacity: true)
            }
            for reading in readings {
                if let previous = segment.last, reading.time - previous.time > gap { flush() }
                segment.append(Downsampling.Point(time: reading.time, value: reading.value))
            }
            flush()
            svg +=
                "<path class=\"series\" clip-path=\"url(#\(id)-plot)\" d=\"\(path)\" fill=\"none\" stroke=\"\(theme.line)\" stroke-width=\"2\" stroke-linejoin=\"round\"/>\n"
            // A reading alone between gaps would be an invisible path: a dot instead.
            for point in singles {
                svg +=
                    "<circle cx=\"\(SVGText.coordinate(x(point.time)))\" cy=\"\(SVGText.coordinate(y(point.value)))\" r=\"2.5\" fill=\"\(theme.line)\"/>\n"
            }
            if let latest = readings.last {
                svg +=
                    "<circle class=\"latest\" cx=\"\(SVGText.coordinate(x(latest.time)))\" cy=\"\(SVGText.coordinate(y(latest.value)))\" r=\"4\" fill=\"\(stale ? theme.background : theme.line)\" stroke=\"\(stale ? theme.stale : theme.line)\" stroke-width=\"2\"/>\n"
            }
        }
        svg += "</svg>\n"
        return svg
    }
}
