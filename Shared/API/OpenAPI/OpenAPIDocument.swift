public import FoundationEssentials

/// The API described as an OpenAPI 3.1 document, generated from ``Endpoints/all`` and the types
/// they read and answer: the server serves it at `/openapi.json`, docs/api/openapi.json is a copy a
/// test keeps equal.
public enum OpenAPIDocument {
    /// The document as JSON: sorted keys, indented, ending in a newline.
    public static func json(
        _ endpoints: [AnyEndpoint] = Endpoints.all, version: String = StellwerkVersion.current
    )
        throws -> Data
    {
        var data = try WireJSON.encoder(pretty: true).encode(document(endpoints, version: version))
        data.append(0x0A)
        return data
    }

    static func document(_ endpoints: [AnyEndpoint], version: String) -> OpenAPIValue {
        let book = SchemaBook()
        let errorBody = book.schema(of: ErrorBody.self).json
        var paths: [String: [String: OpenAPIValue]] = [:]
        for endpoint in endpoints {
            paths[endpoint.path, default: [:]][endpoint.method.rawValue.lowercased()] = operation(
                endpoint, book: book, errorBody: errorBody)
        }
        return .object([
            "openapi": .string("3.1.0"),
            "info": .object([
                "title": .string("Stellwerk orchestrator API"),
                "version": .string(version),
                "description": .string(
                    "The API the stellwerk CLI and the node agents use. Operators send their API token as "
                        + "`Authorization: Bearer TOKEN`; agents present the client certificate the orchestrator "
                        + "issued them (mutual TLS). Every error is a JSON ErrorBody."),
            ]),
            "paths": .object(paths.mapValues { .object($0) }),
            "components": .object([
                "schemas": .object(book.components.mapValues(\.json)),
                "securitySchemes": .object([
                    "operatorToken": .object([
                        "type": .string("http"), "scheme": .string("bearer"),
                        "description": .string("An operator's API token (`stellwerk user create`)."),
                    ]),
                    "nodeCertificate": .object([
                        "type": .string("mutualTLS"),
                        "description": .string("The client certificate a node got when it joined."),
                    ]),
                ]),
            ]),
        ])
    }

    private static func operation(
        _ endpoint: AnyEndpoint, book: SchemaBook, errorBody: OpenAPIValue
    )
        -> OpenAPIValue
    {
        var operation: [String: OpenAPIValue] = [
            "summary": .string(endpoint.summary),
            "operationId": .string(operationID(endpoint)),
        ]
        var parameters: [OpenAPIValue] = endpoint.path.split(separator: "/").compactMap { part in
            guard part.hasPrefix("{"), part.hasSuffix("}") else { return nil }
            return .object([
                "name": .string(String(part.dropFirst().dropLast())), "in": .string("path"), "required": .bool(true),
                "schema": .object(["type": .string("string")]),
            ])
        }
        for parameter in endpoint.query {
            parameters.append(
                .object([
                    "name": .string(parameter.name), "in": .string("query"), "description": .string(parameter.summary),
                    "schema": .object(["type": .string(parameter.type.rawValue)]),
                ]))
        }
        if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
        if let body = content(endpoint.body, book: book, request: true) {
            operation["requestBody"] = .object(["required": .bool(true), "content": body])
        }
        var success: [String: OpenAPIValue] = ["description": .string("success")]
        if let answer = content(endpoint.answer, book: book, request: false) { success["content"] = answer }
        var responses: [String: OpenAPIValue] = [
            String(endpoint.success): .object(success),
            "default": .object([
                "description": .string("an error"),
                "content": .object(["application/json": .object(["schema": errorBody])]),
            ]),
        ]
        if endpoint.answer == Optional<DesiredStateResponse>.self {
            responses["204"] = .object(["description": .string("nothing newer within the wait")])
        }
        operation["responses"] = .object(responses)
        operation["security"] = security(endpoint.access)
        if case .role(let permission, let scope) = endpoint.access {
            operation["x-stellwerk-permission"] = .string(
                "\(permission.rawValue) in "
                    + {
                        switch scope {
                        case .path(let name): "the environment {\(name)}"
                        case .everyEnvironment: "every environment (*)"
                        case .anyEnvironment: "some environment"
                        case .subject: "the environment of what the request acts on"
                        }
                    }())
        }
        return .object(operation)
    }

    private static func content(
        _ type: any (Codable & Sendable).Type, book: SchemaBook, request: Bool
    )
        -> OpenAPIValue?
    {
        switch type {
        case is NoBody.Type, is NoContent.Type: return nil
        case is RawBytes.Type:
            return .object([
                "application/octet-stream": .object([
                    "schema": .object(["type": .string("string"), "format": .string("binary")])
                ])
            ])
        case is PlainText.Type:
            return .object(["text/plain": .object(["schema": .object(["type": .string("string")])])])
        case is EventStream.Type:
            _ = book.schema(of: ServerEvent.self)
            return .object([
                "text/event-stream": .object([
                    "schema": .object([
                        "type": .string("string"),
                        "description": .string("`id`, `event` and `data` lines; each data is a ServerEvent"),
                    ])
                ])
            ])
        case is AnyJSON.Type:
            return .object(["application/json": .object(["schema": .object(["type": .string("object")])])])
        default:
            return .object(["application/json": .object(["schema": book.schema(of: type).json])])
        }
    }

    private static func security(_ access: Access) -> OpenAPIValue {
        switch access {
        case .anyone: .array([])
        case .agent: .array([.object(["nodeCertificate": .array([])])])
        case .agentOrReader:
            .array([.object(["nodeCertificate": .array([])]), .object(["operatorToken": .array([])])])
        case .signedIn, .role: .array([.object(["operatorToken": .array([])])])
        }
    }

    /// `GET /v1/rollouts/{id}/pause` → `post_v1_rollouts_id_pause`.
    private static func operationID(_ endpoint: AnyEndpoint) -> String {
        ([endpoint.method.rawValue.lowercased()]
            + endpoint.path.split(separator: "/").map { $0.filter { $0.isLetter || $0.isNumber } })
            .joined(separator: "_")
    }
}

/// A JSON value to build the document from.
enum OpenAPIValue: Encodable, Sendable, Equatable {
    case string(String)
    case bool(Bool)
    case array([OpenAPIValue])
    case object([String: OpenAPIValue])

    /// An object with a `description` added; any other value as it is.
    func adding(description: String) -> OpenAPIValue {
        guard case .object(var fields) = self else { return self }
        fields["description"] = .string(description)
        return .object(fields)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .bool(let flag): try container.encode(flag)
        case .array(let items): try container.encode(items)
        case .object(let fields): try container.encode(fields)
        }
    }
}
