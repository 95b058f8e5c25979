import Hummingbird
import StellwerkAPI

/// Secrets held by the orchestrator: listed by name, set, generated, rotated, deleted, and read back
/// only where the server allows it. The role each call needs in the path's environment comes from
/// the endpoint table.
struct SecretController: Sendable {
    let vault: SecretVault

    func register(on router: Router<ServerContext>) {
        router.on(Endpoints.secrets) { request in
            try await vault.list(try request.parameter("env"))
        }
        router.on(Endpoints.setSecret) { request in
            try await vault.set(
                try request.parameter("name"), environment: try request.parameter("env"), request.body,
                actor: try request.user.actor)
        }
        router.on(Endpoints.generateSecret) { request in
            try await vault.generate(
                try request.parameter("name"), environment: try request.parameter("env"), request.body,
                actor: try request.user.actor)
        }
        router.on(Endpoints.rotateSecret) { request in
            try await vault.rotate(
                try request.parameter("name"), environment: try request.parameter("env"), request.body,
                actor: try request.user.actor)
        }
        router.on(Endpoints.deleteSecret) { request in
            try await vault.delete(
                try request.parameter("name"), environment: try request.parameter("env"), actor: try request.user.actor)
            return NoContent()
        }
        router.on(Endpoints.revealSecret) { request in
            try await vault.reveal(
                try request.parameter("name"), environment: try request.parameter("env"), actor: try request.user.actor)
        }
    }
}
