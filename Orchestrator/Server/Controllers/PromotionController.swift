import Hummingbird
import StellwerkAPI
import Store

/// Promotions: requests (and dry runs), decisions, cancelling.
struct PromotionController: Sendable {
    let promotions: PromotionEngine
    let store: StateStore

    func register(on router: Router<ServerContext>) {
        router.onReply(Endpoints.requestPromotion) { request in
            try request.authorize(in: request.body.plan.environment)
            let user = try request.user
            let view = try await promotions.request(request.body, actor: user.actor, requester: user.name)
            return Reply(answer: view, status: request.body.dryRun ? 200 : 201)
        }
        router.on(Endpoints.promotions) { request in
            var views: [PromotionView] = []
            for record in try await store.promotions(target: request.query("env")) where request.mayRead(record.target)
            {
                views.append(try await promotions.view(id: record.id))
            }
            return views
        }
        router.on(Endpoints.promotion) { request in
            let view = try await promotions.view(id: try request.parameter("id"))
            try request.authorize(in: view.target)
            return view
        }
        for (endpoint, decision) in [
            (Endpoints.approvePromotion, Decision.approve), (Endpoints.rejectPromotion, .reject),
        ] {
            router.on(endpoint) { request in
                let promotion = try await promotions.view(id: try request.parameter("id"))
                try request.authorize(in: promotion.target)
                return try await promotions.decide(
                    promotion.id, decision, reason: request.body.reason, approver: try request.user.name)
            }
        }
        router.on(Endpoints.cancelPromotion) { request in
            let promotion = try await promotions.view(id: try request.parameter("id"))
            try request.authorize(in: promotion.target)
            return try await promotions.cancel(promotion.id, actor: try request.user.actor)
        }
    }
}
