import SensorThings

/// A refusal the SensorThings API answers with, in FROST-Server's shape
/// (`{"code": 400, "type": "error", "message": "…"}`): what was wrong and where.
package struct SensorsError: Error, CustomStringConvertible, Sendable {
    package enum Kind: Sendable {
        /// A malformed request: bad JSON, a wrong type, an unknown property, a bad query option.
        case badRequest
        /// No such entity, entity set or property.
        case notFound
        /// The change would break the data's integrity (a link to an entity that does not exist).
        case conflict
        /// Writing needs the service's token.
        case unauthorized
        case methodNotAllowed
        case payloadTooLarge
        case unsupportedMediaType
        /// The service's own fault (the store failed); the log says more.
        case internalError

        package var status: Int {
            switch self {
            case .badRequest: 400
            case .notFound: 404
            case .conflict: 409
            case .unauthorized: 401
            case .methodNotAllowed: 405
            case .payloadTooLarge: 413
            case .unsupportedMediaType: 415
            case .internalError: 500
            }
        }
    }

    package let kind: Kind
    package let message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    package var description: String { message }

    /// The error body.
    package var body: String {
        var text = #"{"code":\#(kind.status),"type":"error","message":"#
        JSONValue.quote(message, into: &text)
        return text + "}"
    }
}
