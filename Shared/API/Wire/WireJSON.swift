public import FoundationEssentials

/// The two JSON encodings of Stellwerk, and the decoder that reads both.
///
/// Every message between server, agents and CLI, every file Stellwerk writes (plans, snapshots, the
/// agent's state) and every `--json` output uses ``encoder(pretty:)``; signatures cover the bytes of
/// ``canonicalEncoder()``. Nothing else configures a `JSONEncoder`.
public enum WireJSON {
    /// Sorted keys (the same value is always the same bytes), slashes unescaped, dates as ISO 8601
    /// in whole seconds; `pretty` adds line breaks and indentation for people and diffs.
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// Reads what ``encoder(pretty:)`` writes, and dates as seconds since 2001 too: the form files
    /// and stored documents of earlier versions used, so they stay readable.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) {
                return Date(timeIntervalSinceReferenceDate: seconds)
            }
            let text = try container.decode(String.self)
            guard let date = try? Date(text, strategy: .iso8601) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "'\(text)' is not an ISO 8601 date such as 2026-12-05T09:30:00Z")
            }
            return date
        }
        return decoder
    }

    /// The bytes a signature covers (release manifests): sorted keys, slashes unescaped, and dates as
    /// Foundation writes them by default, seconds since 2001 as a floating-point number.
    ///
    /// A signed value travels as ``encoder(pretty:)`` writes it, with its dates in whole seconds; the
    /// agent re-encodes what it received to check the signature. So every date that is signed must be
    /// a whole second before it is signed (``signable(_:)``), or the bytes would differ.
    public static func canonicalEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// `date` truncated to the whole second, so it reads back from the wire as the same value.
    public static func signable(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }
}
