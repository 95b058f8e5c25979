import Foundation
import StellwerkAPI
import Store

/// What operators do with rollouts, apart from HTTP: start one from a plan, look at them, pause,
/// resume or cancel one, roll an environment back. The rollout engine moves them forward.
struct Rollouts: Sendable {
    let store: StateStore
    let hub: EventHub
    let signingKey: Data

    private var planner: RolloutPlanner { RolloutPlanner(store: store, signingKey: signingKey) }

    /// What an operator may do to a rollout that runs.
    enum Control: String, Sendable {
        case pause, resume, cancel
    }

    func start(_ plan: Plan, actor: String) async throws -> RolloutView {
        let record = try await planner.start(plan, actor: actor)
        hub.publish(.rollout, environment: record.environment, object: record.id, detail: record.state.rawValue)
        return try view(record)
    }

    func rollback(environment: String, actor: String) async throws -> RolloutView {
        let record = try await planner.rollback(environment: environment, actor: actor)
        hub.publish(.rollout, environment: environment, object: record.id, detail: record.state.rawValue)
        return try view(record)
    }

    func rollbackPreview(environment: String) async throws -> RollbackPreview {
        try await planner.rollbackPreview(environment: environment)
    }

    /// The rollout `id`, or not-found.
    func record(_ id: String) async throws -> RolloutRecord {
        guard let record = try await store.rollout(id: id) else { throw APIError.notFound("there is no rollout \(id)") }
        return record
    }

    func list(environment: String?) async throws -> [RolloutRecord] {
        try await store.rollouts(environment: environment)
    }

    func view(_ record: RolloutRecord) throws -> RolloutView {
        try RolloutDocument.decode(record).view(of: record)
    }

    /// Pauses, resumes or cancels `record`; refuses what its state does not allow.
    func control(
        _ action: Control, _ record: RolloutRecord, by user: String, actor: String
    ) async throws
        -> RolloutView
    {
        let next: RolloutState
        switch (action, record.state) {
        case (.pause, .running): next = .paused
        case (.resume, .paused): next = .running
        case (.cancel, .running), (.cancel, .paused), (.cancel, .rollingBack): next = .cancelled
        default:
            throw APIError.conflict(
                "rollout \(record.id) is \(record.state.rawValue); it cannot \(action.rawValue) now")
        }
        var document = try RolloutDocument.decode(record.document)
        document.lastProgressAt = Date()
        if next == .cancelled { document.message = "cancelled by \(user); nodes keep what they have" }
        // Only over the state read: the engine may have ended or rolled it back meanwhile.
        guard
            try await store.updateRollout(
                id: record.id, state: next, document: try document.encoded(), actor: actor, expecting: record.state)
        else {
            let now = try await self.record(record.id)
            throw APIError.conflict(
                "rollout \(record.id) became \(now.state.rawValue) meanwhile; look again before you \(action.rawValue) it"
            )
        }
        hub.publish(.rollout, environment: record.environment, object: record.id, detail: next.rawValue)
        return try view(try await self.record(record.id))
    }
}
