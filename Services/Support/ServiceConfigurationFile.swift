import Foundation
import Yams

/// Reads a service's YAML configuration file, for the catalog and the portal alike: a file that
/// cannot be read, a missing key or a wrong type is one line naming the file and the key.
package enum ServiceConfigurationFile {
    package static func decode<T: Decodable>(_ type: T.Type, from path: String) throws(ServiceStartError) -> T {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ServiceStartError("\(path): cannot read the configuration file")
        }
        do {
            return try YAMLDecoder().decode(T.self, from: text, userInfo: [:])
        } catch let error as DecodingError {
            throw ServiceStartError("\(path): \(describe(error))")
        } catch {
            throw ServiceStartError("\(path): \(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ key: (any CodingKey)? = nil) -> String {
            (context.codingPath + (key.map { [$0] } ?? [])).map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing key '\(path(context, key))'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "'\(path(context))' has the wrong type: \(context.debugDescription)"
        case .dataCorrupted(let context): return "not valid YAML: \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
