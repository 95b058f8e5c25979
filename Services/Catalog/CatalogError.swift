/// An action's failure, in CKAN's terms: the `__type` clients such as ckanapi turn into their
/// exceptions, the HTTP status CKAN answers it with, and the message or per-field errors.
package struct CatalogError: Error, Sendable {
    package enum Kind: String, Sendable {
        case notFound = "Not Found Error"
        case validation = "Validation Error"
        case authorization = "Authorization Error"
        case searchQuery = "Search Query Error"
        case badRequest = "Bad request - JSON Error"
        /// A body larger than any real request; CKAN's web server answers these with 413 too.
        case tooLarge = "Request Entity Too Large"

        var status: Int {
            switch self {
            case .tooLarge: 413
            case .notFound: 404
            case .validation: 409
            case .authorization: 403
            case .searchQuery, .badRequest: 400
            }
        }
    }

    package var kind: Kind
    package var message: String
    /// Field name → problems, for validation errors (`{"name": ["Missing value"]}`).
    package var fields: [String: [String]]

    package init(_ kind: Kind, _ message: String, fields: [String: [String]] = [:]) {
        self.kind = kind
        self.message = message
        self.fields = fields
    }

    package static func notFound(_ what: String) -> CatalogError { CatalogError(.notFound, "Not found: \(what)") }

    package static func invalid(_ fields: [String: [String]]) -> CatalogError {
        CatalogError(
            .validation,
            fields.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.joined(separator: "; "))" }
                .joined(separator: ", "), fields: fields)
    }

    package static func forbidden(_ message: String) -> CatalogError { CatalogError(.authorization, message) }

    /// The `error` object of a CKAN response.
    package var body: [String: JSONValue] {
        var error: [String: JSONValue] = ["__type": .string(kind.rawValue), "message": .string(message)]
        for (field, problems) in fields { error[field] = .array(problems.map(JSONValue.string)) }
        return error
    }
}
