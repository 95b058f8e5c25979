/// The colours of a chart. Every text colour meets WCAG 2.1 AA (4.5:1) against its background;
/// levels are told apart by hatching and labels, never by colour alone.
package struct ChartTheme: Sendable {
    var background: String
    var text: String
    var muted: String
    var grid: String
    var line: String
    var level: String
    var stale: String

    package static func named(_ name: String) -> ChartTheme {
        switch name {
        case "dunkel":
            ChartTheme(
                background: "#14171a", text: "#f2f4f5", muted: "#b9c0c6", grid: "#3a4149", line: "#7cc4ff",
                level: "#ffb35c", stale: "#ff9b8f")
        case "kontrast":
            ChartTheme(
                background: "#000000", text: "#ffffff", muted: "#ffffff", grid: "#8a8a8a", line: "#ffff00",
                level: "#00ffff", stale: "#ffffff")
        default:
            ChartTheme(
                background: "#ffffff", text: "#1b1f23", muted: "#4a535c", grid: "#d5dade", line: "#0b4f8a",
                level: "#a33b00", stale: "#b00020")
        }
    }
}
