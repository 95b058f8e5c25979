import Foundation
import SensorThings

/// The first rows of a resource as a table: CSV (delimiter and encoding detected), JSON (an array
/// of objects) and GeoJSON (a feature collection's features, their geometry type and properties).
struct DataPreview: Sendable, Equatable {
    /// Column headings.
    var header: [String]
    var rows: [[String]]
    /// What the caption tells about how the file was read: "Trennzeichen ;", "UTF-8 mit BOM".
    var delimiter: String?
    var encoding: String?
    /// Whether the file has more rows than shown.
    var more: Bool

    static let rowLimit = 20
    static let columnLimit = 30
    static let cellLimit = 200

    /// Why a resource has no preview.
    enum Unavailable: Error, Equatable {
        case tooLarge(limit: Int)
        case notAllowed(host: String)
        case unreadable(String)
        case fetchFailed(String)
    }

    /// Reads `bytes` as `kind`; `truncated` when the bytes are only the file's beginning (its last
    /// line may be cut and is left out).
    static func read(_ bytes: [UInt8], as kind: Kind, truncated: Bool) throws(Unavailable) -> DataPreview {
        switch kind {
        case .csv: return try csv(bytes, truncated: truncated)
        case .geojson: return try geoJSON(bytes)
        case .json:
            // GeoJSON often comes as plain JSON.
            if let features = try? geoJSON(bytes) { return features }
            return try json(bytes)
        }
    }

    enum Kind { case csv, json, geojson }

    /// The kind a resource is previewed as, from its format or else its URL's extension.
    static func kind(format: String, url: String = "") -> Kind? {
        let named = format.lowercased().trimmingCharacters(in: .whitespaces)
        let ext = url.split(separator: "?").first.map { String($0.split(separator: ".").last ?? "").lowercased() }
        for candidate in [named, ext ?? ""] {
            switch candidate {
            case "csv", "text/csv": return .csv
            case "geojson", "application/geo+json": return .geojson
            case "json", "application/json": return .json
            default: continue
            }
        }
        return nil
    }

    // MARK: CSV

    static func csv(_ bytes: [UInt8], truncated: Bool) throws(Unavailable) -> DataPreview {
        var bytes = bytes[...]
        if truncated, let lastBreak = bytes.lastIndex(of: 0x0A) { bytes = bytes[..<lastBreak] }
        let (text, encoding) = decode(bytes)
        let delimiter = detectDelimiter(text)
        let records = parseCSV(text, delimiter: delimiter, limit: rowLimit + 2)
        guard let header = records.first else { throw .unreadable("the file is empty") }
        let body = Array(records.dropFirst().prefix(rowLimit))
        return DataPreview(
            header: clip(header), rows: body.map(clip),
            delimiter: String(delimiter), encoding: encoding,
            more: records.count > rowLimit + 1 || truncated)
    }

    /// UTF-8 (with or without BOM) when the bytes are valid UTF-8, Latin-1 otherwise: German
    /// spreadsheets exported on Windows still come as ISO-8859-1.
    static func decode(_ bytes: ArraySlice<UInt8>) -> (String, String) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            return (String(decoding: bytes.dropFirst(3), as: UTF8.self), "UTF-8 (BOM)")
        }
        if let text = String(validating: bytes, as: UTF8.self) { return (text, "UTF-8") }
        var text = ""
        text.unicodeScalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
        return (text, "ISO-8859-1")
    }

    /// The one of `;`, `,`, tab and `|` found most often outside quotes in the first line.
    static func detectDelimiter(_ text: String) -> Character {
        var counts: [Character: Int] = [:]
        var quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            if !quoted && (character == "\n" || character == "\r\n") { break }
            if !quoted && [";", ",", "\t", "|"].contains(character) { counts[character, default: 0] += 1 }
        }
        return counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key != "," }.map(\.key) ?? ","
    }

    /// RFC 4180 records: quoted fields may hold delimiters, line breaks and doubled quotes.
    static func parseCSV(_ text: String, delimiter: Character, limit: Int) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var afterQuote = false
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            if quoted {
                if character == "\"" {
                    quoted = false
                    afterQuote = true
                } else {
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"":
                if afterQuote { field.append("\"") }  // "" inside quotes
                quoted = true
                afterQuote = false
            case delimiter:
                record.append(field)
                field = ""
                afterQuote = false
            case "\n", "\r\n", "\r":
                record.append(field)
                if !(record.count == 1 && record[0].isEmpty) { records.append(record) }
                if records.count >= limit { return records }
                record = []
                field = ""
                afterQuote = false
            default:
                field.append(character)
                afterQuote = false
            }
        }
        if !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        return records
    }

    private static func clip(_ cells: [String]) -> [String] {
        cells.prefix(columnLimit).map { $0.count > cellLimit ? String($0.prefix(cellLimit)) + "…" : $0 }
    }

    // MARK: JSON

    /// The heading of the geometry type's column in a GeoJSON preview; the page names it.
    static let geometryColumn = "\u{0}geometry"

    static func json(_ bytes: [UInt8]) throws(Unavailable) -> DataPreview {
        let value = try parse(bytes)
        // An array of objects, or the first array of objects in an object ({"result": [...]}).
        var list: [JSONValue] = []
        if case .array(let items) = value { list = items }
        for (_, member) in value.members ?? [] where list.isEmpty {
            if case .array(let items) = member, items.contains(where: { $0.members != nil }) { list = items }
        }
        let objects = list.compactMap(\.members)
        guard !objects.isEmpty else { throw .unreadable("not a list of records") }
        return table(objects, first: [], more: list.count > rowLimit)
    }

    static func geoJSON(_ bytes: [UInt8]) throws(Unavailable) -> DataPreview {
        let value = try parse(bytes)
        guard value["type"]?.string == "FeatureCollection", case .array(let features)? = value["features"] else {
            throw .unreadable("not a GeoJSON FeatureCollection")
        }
        let rows = features.filter { $0.members != nil }.map { feature in
            [(geometryColumn, JSONValue.string(feature["geometry"]?["type"]?.string ?? ""))]
                + (feature["properties"]?.members ?? [])
        }
        return table(rows, first: [geometryColumn], more: features.count > rowLimit)
    }

    private static func parse(_ bytes: [UInt8]) throws(Unavailable) -> JSONValue {
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        do {
            return try JSONParser.parse(body, maximumDepth: 32)
        } catch {
            throw .unreadable("not valid JSON")
        }
    }

    /// Columns: `first`, then the keys of the shown records in the order they first appear.
    private static func table(_ objects: [[(String, JSONValue)]], first: [String], more: Bool) -> DataPreview {
        let shown = objects.prefix(rowLimit)
        var keys = first
        for object in shown {
            for (key, _) in object where !keys.contains(key) { keys.append(key) }
        }
        keys = Array(keys.prefix(columnLimit))
        let rows = shown.map { object in
            clip(
                keys.map { key in
                    guard let value = object.first(where: { $0.0 == key })?.1 else { return "" }
                    switch value {
                    case .null: return ""
                    case .string(let text): return text
                    default: return value.text
                    }
                })
        }
        return DataPreview(header: keys, rows: rows, delimiter: nil, encoding: nil, more: more)
    }
}
