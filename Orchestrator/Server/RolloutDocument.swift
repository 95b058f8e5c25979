package import Foundation
package import StellwerkAPI

/// Everything a rollout needs to go on after a restart, kept as the rollout's document in the store:
/// per node what it gets, what it had (for rolling back), and how far it is.
package struct RolloutDocument: Codable, Sendable {
    package var settings: RolloutSettings
    package var createdBy: String
    package var message: String
    package var steps: [NodeStep]
    /// The last time any step moved forward; the progress deadline counts from here.
    package var lastProgressAt: Date
    /// Waves (by number) where a failure happened, so the view says where it stopped.
    package var failedWave: Int?

    package struct NodeStep: Codable, Sendable {
        package var node: String
        package var site: String
        /// 0 is the canary wave when the policy asks for canaries.
        package var wave: Int
        package var target: NodeDesiredState
        /// The node's desired state before this rollout; `nil` when it had none.
        package var previous: NodeDesiredState?
        package var state: StepState
        package var detail: String
        package var startedAt: Date?
        package var healthySince: Date?
        /// The environment serial the step's desired state was written at.
        package var writtenSerial: Int?
        package var updatedAt: Date
    }

    package enum StepState: String, Codable, Sendable {
        case waiting, installing, health, done, failed, skipped
        case notStarted = "not-started"
        case rollingBack = "rolling-back"
        case rolledBack = "rolled-back"
        case rollbackFailed = "rollback-failed"

        var isFinished: Bool {
            switch self {
            case .done, .failed, .skipped, .notStarted, .rolledBack, .rollbackFailed: true
            case .waiting, .installing, .health, .rollingBack: false
            }
        }
    }
}

/// The states of a rollout.
package enum RolloutState: String, Sendable {
    case running, paused, succeeded, failed, cancelled
    case rollingBack = "rolling-back"
    case rolledBack = "rolled-back"

    package var isActive: Bool { self == .running || self == .paused || self == .rollingBack }
}

extension RolloutDocument {
    /// Orders the nodes that change into waves: the canary nodes first, then batches of at most
    /// `max_in_flight`.
    package static func waves(of nodes: [(node: String, site: String)], settings: RolloutSettings) -> [Int] {
        let canary = min(settings.canary, nodes.count)
        let batch = settings.batchSize(of: nodes.count)
        return nodes.indices.map { index in
            if index < canary { return 0 }
            return (settings.canary > 0 ? 1 : 0) + (index - canary) / batch
        }
    }
}
