import Foundation
import Markup
import ServiceSupport

/// How a site's portal looks: one colour of a palette whose every colour reads well (white text on
/// it, it as text on white: WCAG AA, 4.5:1 and more), an optional logo, and the municipality's own
/// imprint and privacy texts.
struct PortalLook: Sendable {
    /// The palette, by the name sites give in `colour`; every entry has at least 4.5:1 against white.
    static let palette: [(name: String, hex: String)] = [
        ("blau", "#0b4f8a"), ("petrol", "#00616e"), ("gruen", "#1d6b2f"), ("rot", "#a4161a"),
        ("violett", "#5b2a86"), ("grau", "#3d4750"),
    ]

    var accent: String
    /// The logo's SVG text, checked; nil: none.
    var logo: String?
    /// Markdown of the municipality's own imprint and privacy statement; nil: the portal's generic text.
    var imprint: String?
    var privacy: String?

    static let standard = PortalLook(accent: palette[0].hex)

    /// The contrast ratio of two `#rrggbb` colours, as WCAG 2 defines it.
    static func contrast(_ first: String, _ second: String) -> Double {
        func luminance(_ hex: String) -> Double {
            let digits = Array(hex.dropFirst())
            let channels = stride(from: 0, to: 6, by: 2).map { index -> Double in
                let value = Double(Int(String(digits[index...index + 1]), radix: 16) ?? 0) / 255
                return value <= 0.03928 ? value / 12.92 : pow((value + 0.055) / 1.055, 2.4)
            }
            return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
        }
        let (a, b) = (luminance(first), luminance(second))
        return (max(a, b) + 0.05) / (min(a, b) + 0.05)
    }

    /// Reads the look a configuration names; files are relative to `folder`. A wrong colour or a
    /// file that is not what it should be is one line naming it.
    static func load(
        colour: String?, logo: String?, imprint: String?, privacy: String?, folder: URL, path: String
    ) throws(ServiceStartError) -> PortalLook {
        let name = colour ?? "blau"
        guard let accent = palette.first(where: { $0.name == name })?.hex else {
            throw ServiceStartError(
                "\(path): colour '\(name)' is not one of the portal's palette: \(palette.map(\.name).joined(separator: ", "))"
            )
        }
        func read(_ file: String?, key: String, limit: Int) throws(ServiceStartError) -> String? {
            guard let file, !file.isEmpty else { return nil }
            let url = folder.appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw ServiceStartError("\(path): \(key) '\(file)' cannot be read")
            }
            guard data.count <= limit else {
                throw ServiceStartError("\(path): \(key) '\(file)' is larger than \(limit / 1024) KiB")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ServiceStartError("\(path): \(key) '\(file)' is not UTF-8 text")
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? nil : trimmed
        }
        let svg = try read(logo, key: "logo_file", limit: 65_536)
        if let svg, let problem = SelfContainedSVG.problem(svg) {
            throw ServiceStartError("\(path): logo_file '\(logo ?? "")' \(problem)")
        }
        return PortalLook(
            accent: accent, logo: svg, imprint: try read(imprint, key: "imprint_file", limit: 65_536),
            privacy: try read(privacy, key: "privacy_file", limit: 65_536))
    }
}
