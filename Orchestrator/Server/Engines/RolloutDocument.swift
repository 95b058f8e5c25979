package import Foundation
package import StellwerkAPI
package import Store

/// Everything a rollout needs to go on after a restart, kept as the rollout's document in the store:
/// per node how far it is and what it must end up running. The full desired states (what it gets, what
/// it had) are stored with the steps once and read only when written to a node, so this document —
/// rewritten at every step change — stays small even for thousands of nodes.
package struct RolloutDocument: Codable, Sendable, Equatable {
    package var settings: RolloutSettings
    package var createdBy: String
    package var message: String
    package var steps: [NodeStep]
    /// The last time any step moved forward; the progress deadline counts from here.
    package var lastProgressAt: Date
    /// Waves (by number) where a failure happened, so the view says where it stopped.
    package var failedWave: Int?
    /// The promotion this rollout carries a site of, if any.
    package var promotion: String?

    package struct NodeStep: Codable, Sendable, Equatable {
        package var node: String
        package var site: String
        /// 0 is the canary wave when the policy asks for canaries.
        package var wave: Int
        package var address: String
        /// What the node runs once it has the new desired state.
        package var expected: [ExpectedInstance]
        /// What it runs with its previous desired state; `nil` when it had none.
        package var previousExpected: [ExpectedInstance]?
        package var state: RolloutStepState
        package var detail: String
        package var startedAt: Date?
        package var healthySince: Date?
        /// The environment serial the step's desired state was written at.
        package var writtenSerial: Int?
        package var updatedAt: Date
    }
}

/// One instance as a rollout checks it in a node's report.
package struct ExpectedInstance: Codable, Sendable, Hashable {
    package var service: String
    package var release: String
    package var configDigest: String

    package static func of(_ state: NodeDesiredState?) -> [ExpectedInstance] {
        (state?.instances ?? []).map {
            ExpectedInstance(service: $0.service, release: $0.release, configDigest: $0.configDigest)
        }
    }
}

extension RolloutDocument {
    /// The document as the store keeps it.
    package static func decode(_ text: String) throws -> RolloutDocument {
        try JSONResponse.decoder.decode(RolloutDocument.self, from: Data(text.utf8))
    }

    package func encoded() throws -> String {
        String(decoding: try JSONResponse.encoder.encode(self), as: UTF8.self)
    }

    /// The rollout as operators see it.
    package func view(of record: RolloutRecord) -> RolloutView {
        RolloutView(
            id: record.id, environment: record.environment, release: record.release, state: record.state,
            message: message, createdBy: createdBy, createdAt: record.createdAt, updatedAt: record.updatedAt,
            steps: steps.map {
                RolloutStepView(
                    node: $0.node, site: $0.site, wave: $0.wave, state: $0.state, detail: $0.detail,
                    startedAt: $0.startedAt, updatedAt: $0.updatedAt)
            })
    }

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
