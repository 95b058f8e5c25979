import Foundation
import Yams

/// Reads a service's YAML configuration file, for the catalog and the portal alike: a file that
/// cannot be read, a missing key or a wrong type is one line naming the file and the key.
package enum ServiceConfigurationFile {
    /// A duration as blueprints render it (`730d`, `48h`, `1m30s`) in seconds; nil for anything else
    /// or more than 100 years (so no multiplication of an outside number can overflow).
    package static func seconds(_ text: String) -> Int64? {
        let limit: Int64 = 36_500 * 86_400
        var total: Int64 = 0
        var digits = ""
        for character in text {
            if character.isASCII, character.isNumber {
                guard digits.count < 12 else { return nil }
                digits.append(character)
                continue
            }
            let factor: Int64
            switch character {
            case "d": factor = 86_400
            case "h": factor = 3600
            case "m": factor = 60
            case "s": factor = 1
            default: return nil
            }
            guard let count = Int64(digits) else { return nil }
            digits = ""
            total += count * factor
            guard total <= limit else { return nil }
        }
        return digits.isEmpty && !text.isEmpty ? total : nil
    }

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

/// `listen: {host: …, port: …}`, where every service's file says it listens.
package struct ServiceListen: Decodable, Sendable {
    package var host: String
    package var port: Int

    /// Refuses a port that is not a TCP port, naming the file.
    package func check(in path: String) throws(ServiceStartError) {
        guard (1...65535).contains(port) else {
            throw ServiceStartError("\(path): listen.port \(port) is not a TCP port")
        }
    }
}
