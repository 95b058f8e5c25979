/// The value axis: a range around the readings (with the levels near them, so a band shows where
/// the water stands against it) and round ticks.
struct ValueScale {
    var bottom: Double
    var top: Double
    var step: Double
    var frame: ChartFrame

    init(readings: [TimeSeriesChart.Reading], levels: [Double], frame: ChartFrame = .wide) {
        self.frame = frame
        var low = readings.map(\.value).min()
        var high = readings.map(\.value).max()
        if let lowest = low, let highest = high {
            let span = max(highest - lowest, abs(highest) / 100, 1)
            for level in levels where level >= lowest - 2 * span && level <= highest + 2 * span {
                low = Swift.min(low!, level)
                high = Swift.max(high!, level)
            }
        } else {
            low = levels.min() ?? 0
            high = levels.max() ?? 1
        }
        var lowest = low!
        var highest = high!
        if highest - lowest < 1e-9 {
            lowest -= Swift.max(abs(lowest) / 10, 1)
            highest += Swift.max(abs(highest) / 10, 1)
        }
        let step = Self.niceStep((highest - lowest) / 5)
        bottom = (lowest / step).rounded(.down) * step
        top = (highest / step).rounded(.up) * step
        if top - bottom < step { top = bottom + step }
        self.step = step
    }

    /// 1, 2 or 5 times a power of ten, at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        var power = 1.0
        while power * 10 <= raw { power *= 10 }
        while power > raw { power /= 10 }
        for factor in [1.0, 2, 5, 10] where power * factor >= raw { return power * factor }
        return power * 10
    }

    var ticks: [Double] {
        var ticks: [Double] = []
        var tick = bottom
        while tick <= top + step / 1000 && ticks.count < 20 {
            ticks.append(tick)
            tick += step
        }
        return ticks
    }

    /// Decimals the labels need for the step.
    var places: Int { step >= 1 ? 0 : step >= 0.1 ? 1 : 2 }

    func y(_ value: Double) -> Double {
        let share = (value - bottom) / (top - bottom)
        return frame.plotBottom - share * (frame.plotBottom - frame.plotTop)
    }

    /// A sentence in the middle of the plot, where there is nothing to draw.
    func note(_ text: String, theme: ChartTheme) -> String {
        let x = Int((frame.plotLeft + frame.plotRight) / 2)
        let y = Int((frame.plotTop + frame.plotBottom) / 2) - 4
        return
            "<text x=\"\(x)\" y=\"\(y)\" text-anchor=\"middle\" fill=\"\(theme.text)\" font-size=\"15\">\(SVGText.escape(text))</text>\n"
    }

    /// Where a time is across the plot from `start` to `end`.
    func x(_ time: Int64, start: Int64, end: Int64) -> Double {
        frame.plotLeft + Double(time - start) / Double(max(end - start, 1)) * (frame.plotRight - frame.plotLeft)
    }

    /// The axes of a chart's plot: values with grid lines on the left, German clock time below, the
    /// unit above the values.
    func axes(start: Int64, end: Int64, unit: String, language: ChartLanguage, theme: ChartTheme) -> String {
        let left = frame.plotLeft
        let right = frame.plotRight
        let bottom = frame.plotBottom
        var svg = "<g class=\"axes\" fill=\"\(theme.muted)\">\n"
        for tick in ticks {
            let position = SVGText.coordinate(y(tick))
            svg +=
                "<line x1=\"\(left)\" x2=\"\(right)\" y1=\"\(position)\" y2=\"\(position)\" stroke=\"\(theme.grid)\"/>"
            svg +=
                "<text x=\"\(left - 6)\" y=\"\(SVGText.coordinate(y(tick) + 4))\" text-anchor=\"end\">\(SVGText.value(tick, places: places, language: language))</text>\n"
        }
        for tick in TimeAxis.ticks(start: start, end: end, most: frame.timeTicks) {
            let position = SVGText.coordinate(x(tick.time, start: start, end: end))
            svg +=
                "<line x1=\"\(position)\" x2=\"\(position)\" y1=\"\(bottom)\" y2=\"\(bottom + 5)\" stroke=\"\(theme.muted)\"/>"
            svg +=
                "<text x=\"\(position)\" y=\"\(bottom + 20)\" text-anchor=\"middle\">\(SVGText.escape(tick.label(language)))</text>\n"
        }
        svg +=
            "<line x1=\"\(left)\" x2=\"\(right)\" y1=\"\(bottom)\" y2=\"\(bottom)\" stroke=\"\(theme.muted)\"/>\n"
        if !unit.isEmpty {
            svg +=
                "<text x=\"\(left - 6)\" y=\"\(frame.plotTop - 14)\" text-anchor=\"end\">\(SVGText.escape(unit))</text>\n"
        }
        return svg + "</g>\n"
    }
}

/// The time axis: ticks at round German clock times, at most about `most` (eight on a wide chart).
enum TimeAxis {
    struct Tick: Equatable {
        var time: Int64
        /// Whether the tick stands for a whole day (labelled with the date) or a time of day.
        var isDay: Bool

        func label(_ language: ChartLanguage) -> String {
            let parts = GermanTime.parts(time)
            if isDay || (parts.hour == 0 && parts.minute == 0) {
                return language == .de
                    ? "\(GermanTime.two(parts.day)).\(GermanTime.two(parts.month))."
                    : "\(parts.day) \(GermanTime.monthNames[parts.month - 1])"
            }
            return "\(GermanTime.two(parts.hour)):\(GermanTime.two(parts.minute))"
        }
    }

    static let hour: Int64 = 3_600_000
    static let steps: [Int64] = [1, 2, 3, 6, 12].map { $0 * hour } + [1, 2, 7, 14, 28, 91, 182].map { $0 * 24 * hour }

    static func ticks(start: Int64, end: Int64, most: Int = 8) -> [Tick] {
        guard end > start else { return [] }
        let step = steps.first(where: { (end - start) / $0 <= Int64(max(most, 2)) }) ?? steps[steps.count - 1]
        let day = 24 * hour
        var ticks: [Tick] = []
        if step < day {
            // Round clock times: a multiple of the step after local midnight.
            var local = GermanTime.floorDivide(GermanTime.local(start) + step - 1, step) * step
            while ticks.count < 40 {
                let utc = GermanTime.utc(ofLocal: local)
                if utc > end { break }
                if utc >= start { ticks.append(Tick(time: utc, isDay: false)) }
                local += step
            }
        } else {
            // Local midnights, every so many days.
            let days = step / day
            var local = GermanTime.floorDivide(GermanTime.local(start) + day - 1, day) * day
            let firstDay = local / day
            local += ((days - firstDay % days) % days) * day
            while ticks.count < 40 {
                let utc = GermanTime.utc(ofLocal: local)
                if utc > end { break }
                if utc >= start { ticks.append(Tick(time: utc, isDay: true)) }
                local += step
            }
        }
        return ticks
    }
}

/// What the charts say, in German and English.
struct Words {
    var language: ChartLanguage

    func range(_ from: String, _ to: String) -> String {
        language == .de ? "Von \(from) bis \(to):" : "From \(from) to \(to):"
    }
    var noReadings: String { language == .de ? "Keine Messwerte in diesem Zeitraum." : "No readings in this period." }
    func readings(_ count: Int, _ low: String, _ high: String) -> String {
        language == .de
            ? "\(count) Messwerte zwischen \(low) und \(high)."
            : "\(count) readings between \(low) and \(high)."
    }
    func latest(_ value: String, _ time: String) -> String {
        language == .de ? "Zuletzt \(value) am \(time)" : "Latest \(value) on \(time)"
    }
    func trend(_ trend: TimeSeriesChart.Trend) -> String {
        switch (trend, language) {
        case (.rising, .de): "steigend ↗"
        case (.falling, .de): "fallend ↘"
        case (.steady, .de): "gleichbleibend →"
        case (.rising, .en): "rising ↗"
        case (.falling, .en): "falling ↘"
        case (.steady, .en): "steady →"
        }
    }
    func inLevel(_ level: String) -> String { language == .de ? "Stufe: \(level)." : "Level: \(level)." }
    var staleSentence: String {
        language == .de
            ? "Die Messwerte sind veraltet: seit längerer Zeit kam kein neuer Wert."
            : "The readings are stale: no new reading has arrived for some time."
    }
    func staleSince(_ time: String) -> String {
        language == .de ? "Veraltet – letzter Wert \(time)" : "Stale – last reading \(time)"
    }
    var staleNoData: String { language == .de ? "Veraltet – keine Messwerte" : "Stale – no readings" }
    func leftOut(_ count: Int) -> String {
        language == .de
            ? "\(count) Werte sind nicht darstellbar und ausgelassen."
            : "\(count) values cannot be drawn and are left out."
    }
    var levels: String { language == .de ? "Stufen" : "Levels" }
}
