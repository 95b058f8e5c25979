package import Foundation
package import StellwerkAPI
package import Store
import Synchronization

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
    /// The last document decoded or written of each of the few latest rollouts, with its text. A
    /// rollout of 10,000 nodes has a document of megabytes that the engine's passes (several a second
    /// while nodes report) and operators following it read again and again, mostly unchanged: decoding
    /// it each time was the largest churn of the server's memory during a rollout.
    private static let recent = Mutex<[(id: String, text: String, document: RolloutDocument)]>([])
    private static let recentLimit = 4

    /// The rollout's document: the one decoded or written last when `record` still holds that text.
    package static func decode(_ record: RolloutRecord) throws -> RolloutDocument {
        if let known = recent.withLock({ $0.first { $0.id == record.id } }), known.text == record.document {
            return known.document
        }
        let document = try decode(record.document)
        remember(document, text: record.document, of: record.id)
        return document
    }

    /// Keeps `document` as the one of rollout `id` whose stored text is `text`.
    package static func remember(_ document: RolloutDocument, text: String, of id: String) {
        recent.withLock { recent in
            recent.removeAll { $0.id == id }
            recent.insert((id, text, document), at: 0)
            if recent.count > recentLimit { recent.removeLast(recent.count - recentLimit) }
        }
    }

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
