/// A chart's size and where its parts sit. `wide` fills a desktop column; `narrow` is drawn for a
/// phone, where a wide chart shrunk to 360 pixels would make every word half its size: the narrow
/// frame keeps words at their size, stacks the header in lines and draws fewer time ticks.
package struct ChartFrame: Equatable, Sendable {
    package var width: Int
    package var height: Int
    var plotLeft: Double
    var plotRight: Double
    var plotTop: Double
    var plotBottom: Double
    /// The most ticks on the time axis.
    var timeTicks: Int
    /// Whether the header stacks the title, the period and the current state in lines of their own.
    var stacked: Bool

    package static let wide = ChartFrame(
        width: 720, height: 340, plotLeft: 64, plotRight: 704, plotTop: 80, plotBottom: 300, timeTicks: 8,
        stacked: false)
    package static let narrow = ChartFrame(
        width: 360, height: 374, plotLeft: 52, plotRight: 348, plotTop: 140, plotBottom: 338, timeTicks: 4,
        stacked: true)

    /// `size` of a query: `wide` (the default) or `narrow`.
    static func named(_ name: String?) -> ChartFrame? {
        switch name ?? "wide" {
        case "wide": .wide
        case "narrow": .narrow
        default: nil
        }
    }

    /// The opening `<svg>` tag, labelled by the chart's title and description.
    func openingTag(id: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\""
            + " role=\"img\" aria-labelledby=\"\(id)-title \(id)-desc\" font-family=\"sans-serif\" font-size=\"13\">\n"
    }

    /// The header: the heading in bold with the period (below it when stacked), then the current
    /// state, one line wide, or the first two parts and the rest on two lines when narrow, so
    /// none runs off the edge. Returns the SVG and the baseline of its last line.
    func header(heading: String, period: String, state: [String], theme: ChartTheme) -> (svg: String, below: Int) {
        var svg =
            "<text x=\"16\" y=\"24\" fill=\"\(theme.text)\" font-size=\"15\" font-weight=\"bold\">"
            + SVGText.escape(stacked ? heading : heading + ", " + period) + "</text>\n"
        var baseline = 24
        if stacked {
            baseline += 19
            svg += "<text x=\"16\" y=\"\(baseline)\" fill=\"\(theme.muted)\">\(SVGText.escape(period))</text>\n"
        }
        let lines =
            stacked
            ? [state.prefix(2).joined(separator: " · "), state.dropFirst(2).joined(separator: " · ")]
            : [state.joined(separator: " · ")]
        for (index, line) in lines.enumerated() where !line.isEmpty {
            baseline += index == 0 ? 22 : 18
            svg += "<text x=\"16\" y=\"\(baseline)\" fill=\"\(theme.text)\">\(SVGText.escape(line))</text>\n"
        }
        return (svg, baseline)
    }

    /// A box with a dashed border for a warning such as "stale": beside the header when wide, under
    /// it across the chart when narrow.
    func badge(_ text: String, colour: String, below: Int) -> String {
        let (x, y, width) = stacked ? (16, below + 8, self.width - 32) : (440, 32, 264)
        return
            "<g class=\"stale\"><rect x=\"\(x)\" y=\"\(y)\" width=\"\(width)\" height=\"20\" rx=\"3\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" stroke-dasharray=\"4 2\"/>"
            + "<text x=\"\(x + width / 2)\" y=\"\(y + 14)\" text-anchor=\"middle\" fill=\"\(colour)\" font-weight=\"bold\">\(SVGText.escape(text))</text></g>\n"
    }
}
