import Foundation
import Hummingbird
import StellwerkAPI
import Synchronization

/// A request to an endpoint, its body read and its caller checked against the endpoint's access.
struct EndpointRequest<Body: Codable & Sendable>: Sendable {
    let request: Request
    let context: ServerContext
    let body: Body
    let permission: Permission?
    private let authorized: AuthorizationCheck

    fileprivate init(
        request: Request, context: ServerContext, body: Body, permission: Permission?,
        authorized: AuthorizationCheck
    ) {
        self.request = request
        self.context = context
        self.body = body
        self.permission = permission
        self.authorized = authorized
    }

    /// A path parameter, such as `id` of `/v1/rollouts/{id}`.
    func parameter(_ name: String) throws -> String { try context.parameters.require(name) }

    /// A query parameter as text.
    func query(_ name: String) -> String? { request.uri.queryParameters.get(name) }

    /// A whole-number query parameter; text that is no number is refused, not ignored.
    func query(_ name: String, as type: Int.Type) throws(APIError) -> Int? {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        guard let value = Int(text) else { throw .badRequest("the query parameter \(name) must be a whole number") }
        return value
    }

    /// The operator who sent the request (the endpoint's access made sure there is one).
    var user: Operator {
        get throws(APIError) {
            guard case .operator(let user) = context.caller else { throw .unauthorized("this needs an API token") }
            return user
        }
    }

    /// The node that sent the request (the endpoint's access made sure there is one).
    var agent: AgentIdentity {
        get throws(APIError) {
            guard case .agent(let agent) = context.caller else {
                throw .unauthorized("agent calls need the node's client certificate (mutual TLS)")
            }
            return agent
        }
    }

    /// For endpoints whose environment is that of what they act on (`Access.Scope.subject`): checks
    /// the endpoint's permission there. The route refuses to answer if a handler forgot to call this.
    func authorize(in environment: String) throws(APIError) {
        guard let permission else { return }
        try user.require(permission, in: environment)
        authorized.mark()
    }

    /// Whether the operator may read in `environment`, for lists filtered by what the caller may see.
    func mayRead(_ environment: String) -> Bool {
        guard case .operator(let user) = context.caller else { return false }
        return user.may(.read, in: environment)
    }
}

/// Whether a handler checked the permission on its subject.
private final class AuthorizationCheck: Sendable {
    private let done = Mutex(false)
    func mark() { done.withLock { $0 = true } }
    var isDone: Bool { done.withLock { $0 } }
}

/// An answer with a status other than the endpoint's usual one (200 for a release that existed).
struct Reply<Answer: Sendable>: Sendable {
    var answer: Answer
    var status: Int
}

extension Router where Context == ServerContext {
    /// Registers `endpoint`: checks its access, reads its body, and encodes the handler's answer.
    func on<Body, Answer>(
        _ endpoint: Endpoint<Body, Answer>,
        _ handler: @escaping @Sendable (EndpointRequest<Body>) async throws -> Answer
    ) {
        onReply(endpoint) { Reply(answer: try await handler($0), status: endpoint.success) }
    }

    /// Registers `endpoint` for a handler that chooses the status of its answer.
    func onReply<Body, Answer>(
        _ endpoint: Endpoint<Body, Answer>,
        _ handler: @escaping @Sendable (EndpointRequest<Body>) async throws -> Reply<Answer>
    ) {
        onRaw(endpoint) { request in
            let reply = try await handler(request)
            let status = HTTPResponse.Status(code: reply.status)
            if Answer.self == NoContent.self { return Response(status: status) }
            if let optional = reply.answer as? any OptionalAnswer, optional.isNone {
                return Response(status: .noContent)
            }
            return JSONResponse.make(reply.answer, status: status)
        }
    }

    /// Registers `endpoint` for a handler that builds its own response (files, streams, text).
    func onRaw<Body, Answer>(
        _ endpoint: Endpoint<Body, Answer>,
        _ handler: @escaping @Sendable (EndpointRequest<Body>) async throws -> Response
    ) {
        let check = Self.access(endpoint.access)
        on(RouterPath(endpoint.path), method: HTTPRequest.Method(endpoint.method)) { request, context in
            let permission = try await check(request, context)
            let body: Body
            if Body.self == NoBody.self || Body.self == RawBytes.self {
                body = try JSONResponse.decoder.decode(Body.self, from: Data("{}".utf8))
            } else {
                body = try await JSONResponse.decode(Body.self, from: request, limit: endpoint.bodyLimit)
            }
            let authorized = AuthorizationCheck()
            let response = try await handler(
                EndpointRequest(
                    request: request, context: context, body: body, permission: permission, authorized: authorized))
            if case .role(_, .subject) = endpoint.access, !authorized.isDone {
                throw APIError(
                    .internal, "\(endpoint.method.rawValue) \(endpoint.path) answered without checking roles")
            }
            return response
        }
    }

    /// What `access` asks of the caller; returns the permission a `.subject` handler must still check.
    private static func access(
        _ access: Access
    ) -> @Sendable (Request, ServerContext) async throws -> Permission? {
        { request, context in
            if case .refused(let error) = context.caller, access != .anyone { throw error }
            switch access {
            case .anyone:
                return nil
            case .agent:
                guard case .agent = context.caller else {
                    throw APIError.unauthorized("agent calls need the node's client certificate (mutual TLS)")
                }
                return nil
            case .agentOrReader:
                switch context.caller {
                case .agent: return nil
                case .operator(let user):
                    guard user.mayAnywhere(.read) else { throw APIError.forbidden("\(user.name) may not read") }
                    return nil
                default: throw APIError.unauthorized("this needs a node certificate or an API token")
                }
            case .signedIn:
                _ = try operatorCaller(context)
                return nil
            case .role(let permission, let scope):
                let user = try operatorCaller(context)
                switch scope {
                case .path(let name): try user.require(permission, in: try context.parameters.require(name))
                case .everyEnvironment: try user.require(permission, in: "*")
                case .anyEnvironment: try requireAnywhere(user, permission)
                case .subject:
                    // Refused before the body is read or the subject looked up, when no environment
                    // would allow it.
                    try requireAnywhere(user, permission)
                    return permission
                }
                return nil
            }
        }
    }

    private static func requireAnywhere(_ user: Operator, _ permission: Permission) throws(APIError) {
        guard user.mayAnywhere(permission) else {
            let roles = user.roles.sorted { $0.key < $1.key }.map { "\($0.value.rawValue) in \($0.key)" }
            throw .forbidden(
                "\(user.name) is \(roles.joined(separator: ", ")) and may not \(permission.rawValue) anywhere")
        }
    }

    private static func operatorCaller(_ context: ServerContext) throws -> Operator {
        guard case .operator(let user) = context.caller else {
            throw APIError.unauthorized("this needs an API token: send it as 'Authorization: Bearer TOKEN'")
        }
        return user
    }
}

/// An optional answer: `nil` is answered with 204 No Content.
private protocol OptionalAnswer {
    var isNone: Bool { get }
}

extension Optional: OptionalAnswer {
    var isNone: Bool { self == nil }
}

extension HTTPRequest.Method {
    init(_ verb: HTTPVerb) {
        switch verb {
        case .get: self = .get
        case .head: self = .head
        case .post: self = .post
        case .put: self = .put
        case .delete: self = .delete
        }
    }
}
