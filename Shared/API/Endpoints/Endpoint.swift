/// One operation of the orchestrator's HTTP API, declared once: its method and path, what it reads
/// and answers, and who may call it. The server registers its routes from these values, the client
/// calls them, and the OpenAPI document is generated from them.
///
/// ```swift
/// let view = try await connection.send(.rollout("ro-1a2b3c4d"))      // GET /v1/rollouts/ro-1a2b3c4d
/// router.on(Endpoints.rollout) { request, context in try await rollouts.view(…) }
/// ```
public struct Endpoint<Body: Codable & Sendable, Answer: Codable & Sendable>: Sendable {
    public let method: HTTPVerb
    /// The path with `{name}` for each path parameter, as Hummingbird reads it: `/v1/rollouts/{id}`.
    public let path: String
    public let access: Access
    /// One line for the OpenAPI document.
    public let summary: String
    /// The status of a successful answer.
    public let success: Int
    /// Query parameters the endpoint reads.
    public let query: [QueryParameter]
    /// The largest request body it accepts, in bytes.
    public let bodyLimit: Int

    public init(
        _ method: HTTPVerb, _ path: String, access: Access, summary: String, success: Int? = nil,
        query: [QueryParameter] = [], bodyLimit: Int = 1 << 20
    ) {
        self.method = method
        self.path = path
        self.access = access
        self.summary = summary
        self.success = success ?? (Answer.self == NoContent.self ? 204 : 200)
        self.query = query
        self.bodyLimit = bodyLimit
    }

    /// The names of the path's parameters, in order.
    public var pathParameters: [String] {
        path.split(separator: "/").compactMap { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? String(part.dropFirst().dropLast()) : nil
        }
    }

    /// The path with each parameter replaced by its value, percent-encoded; a missing value is an
    /// error in our own code, not in anyone's input.
    public func path(_ values: [String: String]) -> String {
        "/"
            + path.split(separator: "/").map { part -> String in
                guard part.hasPrefix("{"), part.hasSuffix("}") else { return String(part) }
                let name = String(part.dropFirst().dropLast())
                guard let value = values[name] else { preconditionFailure("\(path) needs a value for {\(name)}") }
                return Self.encodePathSegment(value)
            }.joined(separator: "/")
    }

    /// A call of this endpoint with the given path parameters, query and body.
    public func call(
        _ parameters: [String: String] = [:], query: [(String, String)] = [], body: Body? = nil
    )
        -> APICall<Body, Answer>
    {
        APICall(endpoint: self, path: path(parameters), query: query, body: body)
    }

    /// The endpoint without its types, for listings and the OpenAPI document.
    public var erased: AnyEndpoint {
        AnyEndpoint(
            method: method, path: path, access: access, summary: summary, success: success, query: query,
            body: Body.self, answer: Answer.self)
    }

    static func encodePathSegment(_ value: String) -> String {
        var result = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += "%" + [byte].lowercaseHex.uppercased()
            }
        }
        return result
    }
}

/// An endpoint with its types erased.
public struct AnyEndpoint: Sendable {
    public let method: HTTPVerb
    public let path: String
    public let access: Access
    public let summary: String
    public let success: Int
    public let query: [QueryParameter]
    public let body: any (Codable & Sendable).Type
    public let answer: any (Codable & Sendable).Type
}

/// A request to send: an endpoint, its concrete path and query, and its body.
public struct APICall<Body: Codable & Sendable, Answer: Codable & Sendable>: Sendable {
    public let endpoint: Endpoint<Body, Answer>
    public let path: String
    public let query: [(String, String)]
    public let body: Body?

    /// The path with the query, percent-encoded, as sent.
    public var target: String {
        guard !query.isEmpty else { return path }
        return path + "?"
            + query.map {
                "\(Endpoint<Body, Answer>.encodePathSegment($0.0))=\(Endpoint<Body, Answer>.encodePathSegment($0.1))"
            }
            .joined(separator: "&")
    }
}

/// The HTTP methods the API uses.
public enum HTTPVerb: String, Sendable, Hashable {
    case get = "GET"
    case head = "HEAD"
    case post = "POST"
    case put = "PUT"
    case delete = "DELETE"
}

/// Who may call an endpoint.
public enum Access: Sendable, Hashable {
    /// Anyone who reaches the server (health, the CA certificate, joining with a token).
    case anyone
    /// A node, by the client certificate the orchestrator issued it (mutual TLS).
    case agent
    /// A node, or an operator who may read in some environment (artifacts).
    case agentOrReader
    /// Any operator with a valid token; what the answer lists is what their roles may read.
    case signedIn
    /// An operator whose role grants `permission` in the environment `scope` names.
    case role(Permission, Scope)

    /// Where the environment of a role check comes from.
    public enum Scope: Sendable, Hashable {
        /// A path parameter names it, such as `{env}`.
        case path(String)
        /// Every environment: the role must be given for `*`.
        case everyEnvironment
        /// Some environment: a role that grants it anywhere will do (uploading an artifact).
        case anyEnvironment
        /// The environment of what the request acts on (a rollout, a promotion, the plan in the
        /// body): the handler finds it and asks for the permission there.
        case subject
    }
}

/// A query parameter an endpoint reads.
public struct QueryParameter: Sendable, Hashable {
    public let name: String
    public let type: Kind
    public let summary: String

    public enum Kind: String, Sendable {
        case string, integer
    }

    public init(_ name: String, _ type: Kind, _ summary: String) {
        self.name = name
        self.type = type
        self.summary = summary
    }
}

/// No request body.
public struct NoBody: Codable, Sendable, Hashable {
    public init() {}
}

/// No answer body: the status says it all (204 No Content, or 201 for an upload).
public struct NoContent: Codable, Sendable, Hashable {
    public init() {}
}

/// A body of raw bytes: an artifact.
public struct RawBytes: Codable, Sendable, Hashable {
    public init() {}
}

/// An answer in plain text or PEM, not JSON: metrics, the CA certificate.
public struct PlainText: Codable, Sendable, Hashable {
    public init() {}
}

/// A stream of server-sent events (`text/event-stream`), each a ``ServerEvent``.
public struct EventStream: Codable, Sendable, Hashable {
    public init() {}
}

/// A JSON document whose shape this API does not describe (the OpenAPI document itself).
public struct AnyJSON: Codable, Sendable, Hashable {
    public init() {}
}
