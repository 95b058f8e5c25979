import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Kaiserslautern's car park feed (`pls.xml`): a `<Daten>` document with its time (`Zeitstempel`,
/// `dd.mm.yyyy HH:MM:SS` in Europe/Berlin) and a `<Parkhaus>` per car park with its `ID`, `Name`,
/// spaces (`Gesamt`), spaces taken (`Aktuell`), `Trend` and `Status` (`Offen`, `Geschlossen`, or a
/// fault such as `Stoerung`). The feed has no positions: those come from the site's parking file,
/// matched by name.
///
/// A document that declares a document type is refused before it is parsed: entity definitions are
/// how an XML body expands to gigabytes (a "billion laughs") or reads local files, and the feed needs
/// none.
enum KaiserslauternParking {
    struct CarPark: Equatable {
        var id: String
        var name: String
        var total: Int
        var taken: Int
        var status: String
    }

    struct Reading: Equatable {
        var time: Date
        var carParks: [CarPark]
    }

    /// The largest feed taken: a few kilobytes in practice.
    static let byteLimit = 1 << 20

    static func parse(_ data: Data) throws(SourceRefusal) -> Reading {
        guard data.count <= byteLimit else {
            throw SourceRefusal("the feed is larger than \(byteLimit >> 10) KiB")
        }
        // The prologue (before the root element) is where a DTD would be; its markup is ASCII.
        let head = String(decoding: data.prefix(4096), as: UTF8.self).uppercased()
        if head.contains("<!DOCTYPE") || head.contains("<!ENTITY") {
            throw SourceRefusal(
                "the XML declares a document type; entity definitions are refused (they can expand a body without bound)"
            )
        }
        let reader = Reader()
        let parser = XMLParser(data: data)
        parser.shouldResolveExternalEntities = false
        parser.delegate = reader
        guard parser.parse() else {
            if let refusal = reader.refusal { throw refusal }
            // The parser knows where it gave up, and a libxml2 error number (no message on Linux).
            let code = (parser.parserError as NSError?).map { " (XML error \($0.code))" } ?? ""
            throw SourceRefusal(
                "not well-formed XML near line \(parser.lineNumber), column \(parser.columnNumber)\(code)")
        }
        if let refusal = reader.refusal { throw refusal }
        guard reader.root == "Daten" else { throw SourceRefusal("the root element is not <Daten>") }
        // The parser takes a document cut short without a word: a feed must end.
        guard reader.closed else { throw SourceRefusal("the feed ends before </Daten>: it was cut short") }
        guard let stamp = reader.timestamp, let time = Self.time(stamp) else {
            throw SourceRefusal(
                "<Zeitstempel> '\(reader.timestamp?.prefix(40) ?? "")' is not a time dd.mm.yyyy HH:MM:SS")
        }
        return Reading(time: time, carParks: reader.carParks)
    }

    /// `dd.mm.yyyy HH:MM:SS` in Europe/Berlin.
    static func time(_ text: String) -> Date? {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(whereSeparator: { ". :".contains($0) })
        guard parts.count == 6, parts.allSatisfy({ $0.count <= 4 && $0.allSatisfy(\.isASCII) }) else { return nil }
        let numbers = parts.compactMap { Int($0) }
        guard numbers.count == 6, (1...31).contains(numbers[0]), (1...12).contains(numbers[1]),
            (2000...2100).contains(numbers[2]), (0...23).contains(numbers[3]), (0...59).contains(numbers[4]),
            (0...59).contains(numbers[5])
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin")!
        return calendar.date(
            from: DateComponents(
                year: numbers[2], month: numbers[1], day: numbers[0], hour: numbers[3], minute: numbers[4],
                second: numbers[5]))
    }

    /// The status as ParkAPI v3 says it.
    static func openingStatus(_ status: String) -> String {
        switch status.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() {
        case "offen": "OPEN"
        case "geschlossen": "CLOSED"
        default: "UNKNOWN"
        }
    }

    private final class Reader: NSObject, XMLParserDelegate {
        var root: String?
        var timestamp: String?
        var carParks: [CarPark] = []
        var refusal: SourceRefusal?
        /// Whether the root element ended.
        var closed = false
        private var path: [String] = []
        private var text = ""
        private var fields: [String: String] = [:]

        func parser(
            _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            if root == nil { root = element }
            path.append(element)
            text = ""
            if element == "Parkhaus" { fields = [:] }
            if path.count > 8 || carParks.count >= 1000 {
                refusal = SourceRefusal(
                    "the feed nests deeper, or holds more car parks, than a car park feed does")
                parser.abortParsing()
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard text.utf8.count < 4096 else { return }
            text += string
        }

        func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
            defer {
                path.removeLast()
                text = ""
            }
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if path.count == 1 { closed = true }
            if path == ["Daten", "Zeitstempel"] { timestamp = value }
            if path.count == 3 && path[1] == "Parkhaus" { fields[element] = value }
            guard path == ["Daten", "Parkhaus"] else { return }
            let line = parser.lineNumber
            guard let name = fields["Name"], !name.isEmpty else {
                refusal = SourceRefusal("the <Parkhaus> ending at line \(line) has no <Name>")
                parser.abortParsing()
                return
            }
            guard let total = fields["Gesamt"].flatMap({ Int($0) }), (0...100_000).contains(total),
                let taken = fields["Aktuell"].flatMap({ Int($0) }), (0...100_000).contains(taken)
            else {
                refusal = SourceRefusal(
                    "<Parkhaus> \(name.prefix(80)) (line \(line)): Gesamt and Aktuell must be whole numbers from 0 to 100000"
                )
                parser.abortParsing()
                return
            }
            carParks.append(
                CarPark(
                    id: fields["ID"] ?? "", name: name, total: total, taken: taken, status: fields["Status"] ?? ""))
        }
    }
}
