/// What stands where a chart cannot: a clear message in the chart's place, the same size, so a
/// page or an `<img>` on a municipal website stays whole when a source is down.
enum Placeholder {
    static func svg(title: String, message: String, theme: ChartTheme, id: String = "chart") -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 720 340" width="720" height="340" role="img" \
        aria-labelledby="\(id)-title \(id)-desc" font-family="sans-serif" font-size="13">
        <title id="\(id)-title">\(SVGText.escape(title))</title>
        <desc id="\(id)-desc">\(SVGText.escape(message))</desc>
        <rect width="720" height="340" fill="\(theme.background)"/>
        <rect x="16" y="16" width="688" height="308" rx="6" fill="none" stroke="\(theme.muted)" stroke-dasharray="6 4"/>
        <text x="360" y="160" text-anchor="middle" fill="\(theme.text)" font-size="15" font-weight="bold">\(SVGText.escape(title))</text>
        <text x="360" y="188" text-anchor="middle" fill="\(theme.text)">\(SVGText.escape(message))</text>
        </svg>

        """
    }
}
