import Hummingbird
import StellwerkAPI

/// What agents call: joining with a token, then over mutual TLS their desired state, reports and
/// certificate renewals.
struct AgentController: Sendable {
    let enrollment: Enrollment
    let joins: JoinRateLimit

    func register(on router: Router<ServerContext>) {
        router.on(Endpoints.join) { request in
            let address = request.context.clientAddress
            try joins.check(address)
            do {
                return try await enrollment.join(request.body)
            } catch let error as APIError where error.code == .forbidden {
                joins.charge(address)
                throw error
            }
        }
        router.on(Endpoints.desiredState) { request in
            let known = try request.query("known", as: Int.self) ?? -1
            let wait = min(max(try request.query("wait", as: Int.self) ?? 0, 0), 60)
            let orchestrators = request.query("orchestrators")
            return try await enrollment.desiredState(
                for: try request.agent, known: known, wait: .seconds(wait),
                orchestrators: orchestrators.map { String($0.prefix(64)) })
        }
        router.on(Endpoints.report) { request in
            try await enrollment.report(request.body, from: try request.agent)
            return NoContent()
        }
        router.on(Endpoints.renewCertificate) { request in
            try await enrollment.renew(request.body, for: try request.agent)
        }
    }
}
