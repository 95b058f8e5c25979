/// Text made safe for HTML and XML (SVG) content and attribute values: the portal's pages, the
/// visualization service's charts and the orchestrator's console escape with the same five
/// replacements.
package enum MarkupText {
    package static func escape(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default: output.append(character)
            }
        }
        return output
    }
}
