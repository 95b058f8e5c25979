package import Foundation
import StellwerkAPI

/// Reading and writing the JSON files Stellwerk keeps (saved plans, state snapshots) and what `--json`
/// prints, in the wire's encoding, indented: the same value is always the same bytes and diffs well.
package enum JSONFiles {
    /// The stable encoding of `value`, ending in a newline.
    package static func encode(_ value: some Encodable) throws -> Data {
        var data = try WireJSON.encoder(pretty: true).encode(value)
        data.append(0x0A)
        return data
    }

    /// Writes `value` to `path` atomically: a reader sees the old file or the new one, never half.
    package static func write(_ value: some Encodable, to path: String) throws {
        try encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads a `T` from `path`, with an error that names the file and what is wrong with it.
    package static func read<T: Decodable>(
        _ type: T.Type, from path: String, what: String, limit: Int = 256 << 20
    ) throws -> T {
        let url = URL(fileURLWithPath: path)
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = attributes?[.size] as? Int else {
            throw JSONFileError(path: path, message: "cannot read the \(what): no such file")
        }
        guard size <= limit else {
            throw JSONFileError(path: path, message: "the \(what) is \(size) bytes, more than the limit of \(limit)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw JSONFileError(path: path, message: "cannot read the \(what): \(error.localizedDescription)")
        }
        do {
            return try WireJSON.decoder().decode(T.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            throw JSONFileError(path: path, message: "the \(what) is not valid JSON: \(Self.describe(context))")
        } catch let DecodingError.keyNotFound(key, context) {
            throw JSONFileError(
                path: path, message: "the \(what) lacks '\(key.stringValue)' at \(Self.pathText(context.codingPath))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw JSONFileError(
                path: path,
                message:
                    "the \(what) has a wrong value at \(Self.pathText(context.codingPath)): \(context.debugDescription)"
            )
        } catch {
            throw JSONFileError(path: path, message: "the \(what) could not be read: \(error)")
        }
    }

    private static func describe(_ context: DecodingError.Context) -> String {
        if let underlying = context.underlyingError as NSError?,
            let detail = underlying.userInfo[NSDebugDescriptionErrorKey]
        {
            return "\(detail)"
        }
        return context.debugDescription
    }

    private static func pathText(_ path: [any CodingKey]) -> String {
        path.isEmpty ? "the top level" : path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}

/// A JSON file that could not be read, with the file named.
package struct JSONFileError: Error, CustomStringConvertible {
    package var path: String
    package var message: String

    package var description: String { "\(path): \(message)" }
}
