import Hummingbird
import StellwerkAPI

/// Environment policies: what the server holds, proposals and their approval. The role each call
/// needs in the path's environment comes from the endpoint table.
struct PolicyController: Sendable {
    let policies: EnvironmentPolicies

    func register(on router: Router<ServerContext>) {
        router.on(Endpoints.policy) { request in
            try await policies.view(try request.parameter("env"))
        }
        router.on(Endpoints.proposePolicy) { request in
            let user = try request.user
            return try await policies.propose(
                request.body, environment: try request.parameter("env"), by: user.name, actor: user.actor)
        }
        router.on(Endpoints.approvePolicy) { request in
            let user = try request.user
            return try await policies.approve(
                environment: try request.parameter("env"), digest: request.body.digest, approver: user.name,
                actor: user.actor)
        }
    }
}
