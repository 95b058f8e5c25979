import Hummingbird
import StellwerkAPI
import Store

/// Operators, join tokens, and the nodes' certificates.
struct AccessController: Sendable {
    let directory: AccessDirectory
    let store: StateStore
    let hub: EventHub

    func register(on router: Router<ServerContext>) {
        router.on(Endpoints.whoami) { request in
            let user = try request.user
            return CallerView(name: user.name, roles: user.roles)
        }
        router.on(Endpoints.createJoinToken) { request in
            try request.authorize(in: request.body.environment)
            return try await directory.createJoinToken(request.body, actor: try request.user.actor)
        }
        router.on(Endpoints.joinTokens) { _ in try await directory.joinTokens() }
        router.on(Endpoints.createUser) { request in
            try await directory.createUser(request.body, actor: try request.user.actor)
        }
        router.on(Endpoints.users) { _ in try await directory.users() }
        router.on(Endpoints.approveUser) { request in
            try await directory.approveUser(try request.parameter("name"), approver: try request.user.name)
        }
        router.on(Endpoints.nodes) { request in
            try await directory.nodes(environment: request.query("env"), mayRead: request.mayRead)
        }
        router.on(Endpoints.revokeNode) { request in
            let (environment, node) = (try request.parameter("env"), try request.parameter("node"))
            let user = try request.user
            let (view, serials) = try await directory.revoke(node: node, environment: environment, actor: user.actor)
            if !serials.isEmpty {
                hub.publish(
                    .nodeRevoked, environment: environment, object: node,
                    detail: "serial \(serials.joined(separator: ", ")) by \(user.name)")
            }
            return view
        }
        router.on(Endpoints.registerPushNode) { request in
            let (environment, node) = (try request.parameter("env"), try request.parameter("node"))
            let registration = request.body
            guard Names.isValid(node), Names.isValid(registration.site) else {
                throw APIError.badRequest("node and site must be names: \(Names.rule)")
            }
            if let problem = registration.target.problem { throw APIError.badRequest("target: \(problem)") }
            try await store.registerPush(
                environment: environment, node: node, site: registration.site, target: registration.target,
                actor: try request.user.actor)
            return NoContent()
        }
        router.on(Endpoints.removeNode) { request in
            let (environment, node) = (try request.parameter("env"), try request.parameter("node"))
            let force: Bool
            switch request.query("force") {
            case nil, "false": force = false
            case "true": force = true
            default: throw APIError.badRequest("the query parameter force must be true or false")
            }
            let user = try request.user
            let serials = try await directory.remove(
                node: node, environment: environment, force: force, actor: user.actor)
            hub.publish(
                .nodeRemoved, environment: environment, object: node,
                detail: "by \(user.name)"
                    + (serials.isEmpty ? "" : ", serial \(serials.joined(separator: ", ")) revoked"))
            return NoContent()
        }
        router.on(Endpoints.revokeUser) { request in
            try await store.revokeOperator(name: try request.parameter("name"), actor: try request.user.actor)
            return NoContent()
        }
    }
}
