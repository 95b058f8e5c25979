import Foundation

/// An action's parameters, read loosely as CKAN does: `"true"`, `"10"` and `"[\"tags\"]"` from a
/// query string count as the boolean, number and list they spell.
package struct Parameters: Sendable {
    package var values: [String: JSONValue]

    package init(_ values: [String: JSONValue]) { self.values = values }

    /// Query-string pairs; a repeated key keeps its last value.
    package init(query: [(String, String)]) {
        values = Dictionary(query.map { ($0.0, JSONValue.string($0.1)) }, uniquingKeysWith: { _, last in last })
    }

    package func string(_ key: String) throws -> String? {
        guard let value = values[key] else { return nil }
        if case .null = value { return nil }
        guard let text = value.text else { throw CatalogError.invalid([key: ["Must be a string"]]) }
        return text
    }

    /// A value that must be there and not empty.
    package func required(_ key: String, or alternative: String? = nil) throws -> String {
        if let value = try string(key), !value.isEmpty { return value }
        if let alternative, let value = try string(alternative), !value.isEmpty { return value }
        throw CatalogError.invalid([key: ["Missing value"]])
    }

    package func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = try string(key), !text.isEmpty else { return nil }
        guard let number = Int(text) else { throw CatalogError.invalid([key: ["Invalid integer"]]) }
        guard range.contains(number) else {
            throw CatalogError.invalid([key: ["Must be between \(range.lowerBound) and \(range.upperBound)"]])
        }
        return number
    }

    package func bool(_ key: String) throws -> Bool? {
        guard let value = values[key] else { return nil }
        switch value {
        case .bool(let flag): return flag
        case .null: return nil
        default:
            switch value.text?.lowercased() {
            case "true", "1", "yes", "on": return true
            case "false", "0", "no", "off", "": return false
            default: throw CatalogError.invalid([key: ["Must be true or false"]])
            }
        }
    }

    /// A list: a JSON array, or a string holding one (as query strings carry them).
    package func list(_ key: String) throws -> [JSONValue]? {
        guard let value = values[key] else { return nil }
        switch value {
        case .null: return nil
        case .array(let items): return items
        case .string(let text):
            if text.hasPrefix("["), let items = try? JSONDecoder().decode([JSONValue].self, from: Data(text.utf8)) {
                return items
            }
            return text.isEmpty ? [] : [.string(text)]
        default: throw CatalogError.invalid([key: ["Must be a list"]])
        }
    }

    /// These parameters laid over an existing dataset's fields (`package_patch`).
    package func merged(over package: Package) -> Parameters {
        var base = (try? PackageFields.values(of: package)) ?? [:]
        for (key, value) in values { base[key] = value }
        return Parameters(base)
    }
}
