/// An SVG image that draws itself: no script, no event handler, no embedded HTML, no entity
/// declarations, nothing loaded from elsewhere. What a municipality's logo must be before the portal
/// shows it, checked when the site is validated and again when the portal starts.
package enum SelfContainedSVG {
    /// Why `svg` is not such an image, in words that follow "the logo …"; nil when it is one.
    package static func problem(_ svg: String) -> String? {
        let lowered = svg.lowercased()
        var start = lowered[...]
        if start.hasPrefix("<?xml"), let end = start.firstRange(of: "?>") { start = start[end.upperBound...] }
        guard start.drop(while: { $0.isWhitespace }).hasPrefix("<svg") else {
            return "is not an SVG image (it must start with <svg)"
        }
        for (needle, what) in [
            ("<script", "holds a script"), ("javascript:", "holds a script"), ("<foreignobject", "embeds HTML"),
            ("href=\"http", "loads from elsewhere"), ("href='http", "loads from elsewhere"),
            ("url(http", "loads from elsewhere"), ("<!entity", "declares entities"),
        ] where lowered.contains(needle) {
            return what
        }
        if lowered.contains(#/\son[a-z]+\s*=/#) { return "holds an event handler" }
        return nil
    }
}
