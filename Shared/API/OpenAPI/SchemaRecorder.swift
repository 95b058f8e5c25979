import FoundationEssentials

/// A JSON Schema as far as the API needs one.
indirect enum Schema: Sendable, Equatable {
    case string(format: String?)
    case integer
    case number
    case boolean
    case array(Schema)
    /// An object with free keys, each value of one schema (a Swift dictionary).
    case map(Schema)
    case enumeration([String])
    case object(properties: [(name: String, schema: Schema)], required: [String])
    case reference(String)
    /// Anything: a value whose shape the recorder could not see.
    case any
    /// A schema with a sentence about it (what the recorder cannot see for itself).
    case described(Schema, String)

    static func == (left: Schema, right: Schema) -> Bool { left.json == right.json }

    /// The schema as OpenAPI writes it.
    var json: OpenAPIValue {
        switch self {
        case .string(let format):
            .object(["type": .string("string")].merging(format.map { ["format": .string($0)] } ?? [:]) { a, _ in a })
        case .integer: .object(["type": .string("integer")])
        case .number: .object(["type": .string("number")])
        case .boolean: .object(["type": .string("boolean")])
        case .array(let items): .object(["type": .string("array"), "items": items.json])
        case .map(let values): .object(["type": .string("object"), "additionalProperties": values.json])
        case .enumeration(let values):
            .object(["type": .string("string"), "enum": .array(values.map(OpenAPIValue.string))])
        case .object(let properties, let required):
            .object(
                [
                    "type": .string("object"),
                    "properties": .object(Dictionary(properties.map { ($0.name, $0.schema.json) }) { a, _ in a }),
                ].merging(required.isEmpty ? [:] : ["required": .array(required.map(OpenAPIValue.string))]) { a, _ in a
                })
        case .reference(let name): .object(["$ref": .string("#/components/schemas/\(name)")])
        case .any: .object([:])
        case .described(let schema, let text): schema.json.adding(description: text)
        }
    }
}

/// Learns the JSON shape of `Decodable` types by decoding them from nothing: every key a type's
/// `init(from:)` asks for becomes a property, `decode` makes it required and `decodeIfPresent`
/// optional, and nested types become named schemas of their own. So the document describes exactly
/// what the server and the client read, from the types themselves.
final class SchemaBook {
    private(set) var components: [String: Schema] = [:]
    private var inProgress: Set<String> = []

    /// The schema of `type`: inline for values, a reference to a named component for structs.
    func schema(of type: any Decodable.Type) -> Schema {
        if let simple = Self.simple(type) { return simple }
        if let optional = type as? any OptionalSchema.Type { return schema(of: optional.wrappedSchemaType) }
        if let array = type as? any ArraySchema.Type { return .array(schema(of: array.elementSchemaType)) }
        if let map = type as? any StringKeyedSchema.Type { return .map(schema(of: map.valueSchemaType)) }
        if let wire = type as? any WireEnum.Type { return .enumeration(wire.rawValues) }
        let name = Self.name(of: type)
        if components[name] != nil || inProgress.contains(name) { return .reference(name) }
        inProgress.insert(name)
        let recorder = RecordingDecoder(book: self)
        _ = try? type.init(from: recorder)
        inProgress.remove(name)
        var recorded = recorder.recorded
        if let noted = type as? any SchemaNote.Type {
            // Which keys a value has depends on the value: the note says, not a list of required keys.
            switch recorded {
            case .object(let properties, _): recorded = .object(properties: properties, required: [])
            default: recorded = .object(properties: [], required: [])
            }
            recorded = .described(recorded, noted.schemaNote)
        }
        // A type read as one value (a string, say) is that value, not a component.
        switch recorded {
        case .object, .described(.object, _):
            components[name] = recorded
            return .reference(name)
        default:
            return recorded
        }
    }

    /// A value of `type` to hand back to the `init(from:)` being recorded.
    func placeholder<T: Decodable>(_ type: T.Type) throws -> T {
        if let value = Self.simpleValue(type) { return value }
        if let optional = type as? any OptionalSchema.Type, let value = optional.nothing as? T { return value }
        if let array = type as? any ArraySchema.Type, let value = array.empty as? T { return value }
        if let map = type as? any StringKeyedSchema.Type, let value = map.empty as? T { return value }
        if let wire = type as? any WireEnum.Type, let value = wire.firstCase as? T { return value }
        if let noted = type as? any SchemaNote.Type, let value = noted.schemaPlaceholder as? T {
            _ = schema(of: type)
            return value
        }
        return try T(from: RecordingDecoder(book: self))
    }

    static func name(of type: any Any.Type) -> String {
        // "StellwerkAPI.ErrorBody.Detail" → "ErrorBodyDetail"
        String(reflecting: type).split(separator: ".").dropFirst().joined()
    }

    private static func simple(_ type: any Decodable.Type) -> Schema? {
        switch type {
        case is String.Type: .string(format: nil)
        case is Date.Type: .string(format: "date-time")
        case is Data.Type: .string(format: "byte")
        case is Bool.Type: .boolean
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type, is UInt.Type:
            .integer
        case is Double.Type, is Float.Type: .number
        default: nil
        }
    }

    private static func simpleValue<T>(_ type: T.Type) -> T? {
        let values: [Any] = [
            "", Date(timeIntervalSince1970: 0), Data(), false, 0, Int64(0), Int32(0), UInt16(0),
            UInt32(0), UInt64(0), UInt(0), 0.0, Float(0),
        ]
        return values.lazy.compactMap { $0 as? T }.first
    }
}

// MARK: The recording decoder

private final class RecordingDecoder: Decoder {
    let book: SchemaBook
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    /// What the type asked for: an object of properties, one value, or a list.
    var recorded: Schema = .any
    var properties: [(name: String, schema: Schema)] = []
    var required: [String] = []

    init(book: SchemaBook) { self.book = book }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        recorded = .object(properties: [], required: [])
        return KeyedDecodingContainer(KeyedRecorder<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        recorded = .array(.any)
        return UnkeyedRecorder(decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueRecorder(decoder: self)
    }

    func add(_ name: String, _ schema: Schema, required isRequired: Bool) {
        if let index = properties.firstIndex(where: { $0.name == name }) {
            properties[index].schema = schema
        } else {
            properties.append((name, schema))
        }
        if isRequired, !required.contains(name) { required.append(name) }
        recorded = .object(properties: properties, required: required)
    }
}

private struct KeyedRecorder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: RecordingDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { [] }

    func contains(_ key: Key) -> Bool { true }
    func decodeNil(forKey key: Key) throws -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        decoder.add(key.stringValue, decoder.book.schema(of: type), required: true)
        return try decoder.book.placeholder(type)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        decoder.add(key.stringValue, decoder.book.schema(of: type), required: false)
        return nil
    }

    // The protocol's own defaults for these would ask `decode` and make the key look required.
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optional(type, key) }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optional(type, key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optional(type, key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try optional(type, key) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optional(type, key) }

    private func optional<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        decoder.add(key.stringValue, decoder.book.schema(of: type), required: false)
        return nil
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let nested = RecordingDecoder(book: decoder.book)
        let container = try nested.container(keyedBy: type)
        decoder.add(key.stringValue, .any, required: true)
        return container
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        decoder.add(key.stringValue, .array(.any), required: true)
        return UnkeyedRecorder(decoder: RecordingDecoder(book: decoder.book))
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { RecordingDecoder(book: decoder.book) }
}

private struct UnkeyedRecorder: UnkeyedDecodingContainer {
    let decoder: RecordingDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { 0 }
    var isAtEnd: Bool { true }
    var currentIndex: Int { 0 }

    mutating func decodeNil() throws -> Bool { false }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        decoder.recorded = .array(decoder.book.schema(of: type))
        return try decoder.book.placeholder(type)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try RecordingDecoder(book: decoder.book).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        UnkeyedRecorder(decoder: RecordingDecoder(book: decoder.book))
    }

    mutating func superDecoder() throws -> any Decoder { decoder }
}

private struct SingleValueRecorder: SingleValueDecodingContainer {
    let decoder: RecordingDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        decoder.recorded = decoder.book.schema(of: type)
        return try decoder.book.placeholder(type)
    }
}

// MARK: What the recorder must see through

/// A wire type whose JSON the recorder cannot see by decoding it (an enum with values, a choice of
/// keys): a sentence the document shows instead, and a value to hand back while recording.
protocol SchemaNote {
    static var schemaNote: String { get }
    static var schemaPlaceholder: Any { get }
}

protocol OptionalSchema {
    static var wrappedSchemaType: any Decodable.Type { get }
    static var nothing: Any { get }
}

extension Optional: OptionalSchema where Wrapped: Decodable {
    static var wrappedSchemaType: any Decodable.Type { Wrapped.self }
    static var nothing: Any { Wrapped?.none as Any }
}

protocol ArraySchema {
    static var elementSchemaType: any Decodable.Type { get }
    static var empty: Any { get }
}

extension Array: ArraySchema where Element: Decodable {
    static var elementSchemaType: any Decodable.Type { Element.self }
    static var empty: Any { [Element]() }
}

protocol StringKeyedSchema {
    static var valueSchemaType: any Decodable.Type { get }
    static var empty: Any { get }
}

extension Dictionary: StringKeyedSchema where Key == String, Value: Decodable {
    static var valueSchemaType: any Decodable.Type { Value.self }
    static var empty: Any { [String: Value]() }
}

extension WireEnum {
    static var rawValues: [String] { allCases.map(\.rawValue) }
    static var firstCase: Any? { allCases.first }
}
