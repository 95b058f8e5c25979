import Hummingbird
import StellwerkAPI
import Store

/// The status of every node, the recorded state plans are computed against, and rollouts.
struct RolloutController: Sendable {
    let rollouts: Rollouts
    let status: StatusReport
    let store: StateStore

    func register(on router: Router<ServerContext>) {
        router.on(Endpoints.status) { request in
            try await status.document(only: request.query("env"), mayRead: request.mayRead)
        }
        router.onRaw(Endpoints.snapshot) { request in
            let pieces = try await store.snapshotJSON(environment: try request.parameter("env"))
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: ResponseBody { writer in
                    // Written in slices of about 256 KiB: never the whole answer in one buffer.
                    var slice = ByteBuffer()
                    for piece in pieces {
                        slice.writeString(piece)
                        if slice.readableBytes >= 262_144 {
                            try await writer.write(slice)
                            slice.clear()
                        }
                    }
                    try await writer.write(slice)
                    try await writer.finish(nil)
                })
        }
        router.on(Endpoints.startRollout) { request in
            try request.authorize(in: request.body.plan.environment)
            return try await rollouts.start(request.body.plan, actor: try request.user.actor)
        }
        router.on(Endpoints.rollouts) { request in
            try await rollouts.list(environment: request.query("env")).filter { request.mayRead($0.environment) }
                .map(rollouts.view)
        }
        router.on(Endpoints.rollout) { request in
            let record = try await rollouts.record(try request.parameter("id"))
            try request.authorize(in: record.environment)
            return try rollouts.view(record)
        }
        for (endpoint, action) in [
            (Endpoints.pauseRollout, Rollouts.Control.pause), (Endpoints.resumeRollout, .resume),
            (Endpoints.cancelRollout, .cancel),
        ] {
            router.on(endpoint) { request in
                let record = try await rollouts.record(try request.parameter("id"))
                try request.authorize(in: record.environment)
                let user = try request.user
                return try await rollouts.control(action, record, by: user.name, actor: user.actor)
            }
        }
        router.on(Endpoints.rollback) { request in
            try await rollouts.rollback(environment: try request.parameter("env"), actor: try request.user.actor)
        }
        router.on(Endpoints.rollbackPreview) { request in
            try await rollouts.rollbackPreview(environment: try request.parameter("env"))
        }
    }
}
