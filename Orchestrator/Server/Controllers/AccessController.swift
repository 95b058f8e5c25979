import Hummingbird
import StellwerkAPI
import Store

/// Operators and join tokens.
struct AccessController: Sendable {
    let directory: AccessDirectory
    let store: StateStore

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
        router.on(Endpoints.revokeUser) { request in
            try await store.revokeOperator(name: try request.parameter("name"), actor: try request.user.actor)
            return NoContent()
        }
    }
}
