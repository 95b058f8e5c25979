/// A closed set of values on the wire: states, roles, error codes, event kinds. Each is written as its
/// raw string; reading a value this version does not know is a decoding error that names the value,
/// what it should be and the values known, never a crash and never a silent default.
public protocol WireEnum: RawRepresentable, CaseIterable, Codable, Sendable, Hashable
where RawValue == String, AllCases == [Self] {
    /// What a value is, for messages: "rollout state", "role".
    static var wireName: String { get }
}

extension WireEnum {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self(rawValue: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription:
                    "'\(text)' is not a \(Self.wireName); known: \(Self.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// Reads a value stored or sent as text; `nil` for text this version does not know.
    public init?(wire text: String) { self.init(rawValue: text) }
}
