import Database
package import Foundation
package import StellwerkAPI

// The rollout and promotion engines keep everything they know here, so both resume after a restart.
extension StateStore {
    /// Stores a new rollout; audited. `targets` holds, per step position (the order of the steps in
    /// the rollout's document), the desired state the step gives its node and the one the node had
    /// (for rolling back): written once and read only when needed, so the document, rewritten at every
    /// step change, stays small. Where each step stands lives in the document alone.
    package func createRollout(_ rollout: RolloutRecord, targets: [RolloutTarget], actor: String) async throws {
        let documents = try targets.map { (try Self.encode($0.target), try $0.previous.map(Self.encode)) }
        try await transaction { connection in
            try connection.run(
                """
                INSERT INTO rollouts (id, environment, release, serial, state, document, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, .text(rollout.id), .text(rollout.environment), .text(rollout.release),
                .integer(Int64(rollout.serial)), .text(rollout.state.rawValue), .text(rollout.document),
                .integer(Int64(Self.milliseconds(rollout.createdAt))),
                .integer(Int64(Self.milliseconds(rollout.updatedAt))))
            for (position, (target, previous)) in documents.enumerated() {
                try connection.run(
                    "INSERT INTO rollout_steps (rollout, position, node, target, previous) VALUES ($1, $2, $3, $4, $5)",
                    .text(rollout.id), .integer(Int64(position)), .text(targets[position].node), .text(target),
                    SQLValue(previous))
            }
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: actor, action: "rollout.start", environment: rollout.environment, object: rollout.id,
                    detail: "release \(rollout.release) at serial \(rollout.serial), \(targets.count) node(s)"),
                at: rollout.createdAt, on: connection)
        }
    }

    /// Moves a rollout to `state` (and replaces its document) in one transaction; audited when the
    /// state changes.
    /// Sets a rollout's state (and document). With `expecting`, only while it is still in that state
    /// (an engine's pass does not undo an operator's pause that came meanwhile); returns whether it did.
    @discardableResult
    package func updateRollout(
        id: String, state: RolloutState, document: String? = nil, actor: String, at now: Date = Date(),
        expecting: RolloutState? = nil
    ) async throws -> Bool {
        try await transaction { connection in
            guard
                let previous = try connection.query(
                    "SELECT state, environment FROM rollouts WHERE id = $1" + connection.dialect.forUpdate, .text(id)
                ).first
            else { throw StoreError(.notFound, "there is no rollout \(id)") }
            if let expecting, previous.text(0) != expecting.rawValue { return false }
            try connection.run(
                "UPDATE rollouts SET state = $2, document = COALESCE($3, document), updated_at = $4 WHERE id = $1",
                .text(id), .text(state.rawValue), SQLValue(document), .integer(Int64(Self.milliseconds(now))))
            if previous.text(0) != state.rawValue {
                _ = try Self.appendAudit(
                    AuditEvent(
                        actor: actor, action: "rollout.\(state.rawValue)", environment: previous.text(1), object: id,
                        detail: "\(previous.text(0)) → \(state.rawValue)"),
                    at: now, on: connection)
            }
            return true
        }
    }

    /// A rollout by ID.
    package func rollout(id: String) async throws -> RolloutRecord? {
        try await read { connection in
            try connection.query(
                """
                SELECT id, environment, release, serial, state, document, created_at, updated_at
                FROM rollouts WHERE id = $1
                """, .text(id)
            ).first.map(Self.rolloutRecord)
        }
    }

    /// What a rollout's steps give their nodes and what the nodes had, by position (all, or those given).
    package func rolloutTargets(id: String, positions: [Int]? = nil) async throws -> [Int: RolloutTarget] {
        try await read { connection in
            var result: [Int: RolloutTarget] = [:]
            for row in try connection.query(
                "SELECT position, node, target, previous FROM rollout_steps WHERE rollout = $1 AND target IS NOT NULL",
                .text(id), narrowing: "position", to: positions.map { .list($0) }, integers: true)
            {
                result[row.integer(0)] = RolloutTarget(
                    node: row.text(1),
                    target: try Self.decode(NodeDesiredState.self, row.text(2), what: "rollout target"),
                    previous: try row.optionalText(3).map {
                        try Self.decode(NodeDesiredState.self, $0, what: "rollout target")
                    })
            }
            return result
        }
    }

    /// Rollouts of an environment (or all), newest first.
    package func rollouts(environment: String? = nil) async throws -> [RolloutRecord] {
        try await read { connection in
            var sql = "SELECT id, environment, release, serial, state, document, created_at, updated_at FROM rollouts"
            let parameters = Self.filter(&sql, environment: environment)
            return try connection.execute(sql + " ORDER BY created_at DESC, id", parameters).map(Self.rolloutRecord)
        }
    }

    /// Rollouts still in progress (running, paused or rolling back), oldest first: what the rollout
    /// engine advances, without reading the documents of every rollout ever made.
    package func activeRollouts() async throws -> [RolloutRecord] {
        try await read { connection in
            try connection.query(
                """
                SELECT id, environment, release, serial, state, document, created_at, updated_at FROM rollouts
                WHERE state IN ('running', 'paused', 'rolling-back') ORDER BY created_at, id
                """
            ).map(Self.rolloutRecord)
        }
    }

    static func rolloutRecord(_ row: SQLRow) throws -> RolloutRecord {
        RolloutRecord(
            id: row.text(0), environment: row.text(1), release: row.text(2), serial: row.integer(3),
            state: try wireValue(RolloutState.self, row.text(4)), document: row.text(5),
            createdAt: date(row.integer(6)), updatedAt: date(row.integer(7)))
    }

    // MARK: Promotions

    /// Stores a promotion request; audited.
    package func createPromotion(_ promotion: PromotionRecord) async throws {
        try await transaction { connection in
            try connection.run(
                """
                INSERT INTO promotions (id, release, source, target, requested_by, state, document, created_at, updated_at,
                    emergency)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                """, .text(promotion.id), .text(promotion.release), .text(promotion.source), .text(promotion.target),
                .text(promotion.requestedBy), .text(promotion.state.rawValue), .text(promotion.document),
                .integer(Int64(Self.milliseconds(promotion.createdAt))),
                .integer(Int64(Self.milliseconds(promotion.updatedAt))), promotion.emergency.map { .text($0) } ?? .null)
            let audit =
                promotion.emergency.map {
                    AuditEvent(
                        actor: promotion.requestedBy, action: "promotion.emergency", environment: promotion.target,
                        object: promotion.id,
                        detail:
                            "EMERGENCY CHANGE: release \(promotion.release) without the soak in \(promotion.source) or maintenance windows: \($0)"
                    )
                }
                ?? AuditEvent(
                    actor: promotion.requestedBy, action: "promotion.request", environment: promotion.target,
                    object: promotion.id, detail: "release \(promotion.release) from \(promotion.source)")
            _ = try Self.appendAudit(audit, at: promotion.createdAt, on: connection)
        }
    }

    /// Moves a promotion to `state` with a new document; audited when the state changes, with `detail`.
    package func updatePromotion(
        id: String, state: PromotionState, document: String, actor: String, detail: String, at now: Date = Date()
    ) async throws {
        try await transaction { connection in
            guard
                let previous = try connection.query(
                    "SELECT state, target FROM promotions WHERE id = $1" + connection.dialect.forUpdate, .text(id)
                ).first
            else { throw StoreError(.notFound, "there is no promotion \(id)") }
            try connection.run(
                "UPDATE promotions SET state = $2, document = $3, updated_at = $4 WHERE id = $1", .text(id),
                .text(state.rawValue), .text(document), .integer(Int64(Self.milliseconds(now))))
            if previous.text(0) != state.rawValue {
                _ = try Self.appendAudit(
                    AuditEvent(
                        actor: actor, action: "promotion.\(state.rawValue)", environment: previous.text(1), object: id,
                        detail: detail),
                    at: now, on: connection)
            }
        }
    }

    /// How many emergency changes were requested into each environment, by environment.
    package func emergencyChangeCounts() async throws -> [String: Int] {
        try await read { connection in
            var counts: [String: Int] = [:]
            for row in try connection.query(
                "SELECT target, COUNT(*) FROM promotions WHERE emergency IS NOT NULL GROUP BY target")
            {
                counts[row.text(0)] = row.integer(1)
            }
            return counts
        }
    }

    /// The newest promotion into `environment` that was neither rejected nor cancelled, when it is an
    /// emergency change: what runs there did not pass the gates.
    package func standingEmergency(environment: String) async throws -> (promotion: String, reason: String)? {
        try await read { connection in
            guard
                let row = try connection.query(
                    """
                    SELECT id, emergency FROM promotions
                    WHERE target = $1 AND state NOT IN ('rejected', 'cancelled')
                    ORDER BY created_at DESC, id LIMIT 1
                    """, .text(environment)
                ).first, let reason = row.optionalText(1)
            else { return nil }
            return (row.text(0), reason)
        }
    }

    /// Promotions (into `target`, or all), newest first; `active` keeps those still waiting or rolling out.
    package func promotions(target: String? = nil, active: Bool = false) async throws -> [PromotionRecord] {
        try await read { connection in
            var sql = """
                SELECT id, release, source, target, requested_by, state, document, created_at, updated_at,
                    emergency
                FROM promotions WHERE ($1 = '' OR target = $1)
                """
            if active { sql += " AND state IN ('waiting', 'rolling-out')" }
            return try connection.query(sql + " ORDER BY created_at DESC, id", .text(target ?? "")).map(
                Self.promotionRecord)
        }
    }

    static func promotionRecord(_ row: SQLRow) throws -> PromotionRecord {
        PromotionRecord(
            id: row.text(0), release: row.text(1), source: row.text(2), target: row.text(3), requestedBy: row.text(4),
            state: try wireValue(PromotionState.self, row.text(5)), document: row.text(6),
            createdAt: date(row.integer(7)), updatedAt: date(row.integer(8)), emergency: row.optionalText(9))
    }

    /// Why `approver` is not a second person next to `requester`, or nil when they are.
    static func notASecondPerson(
        _ approver: String, requester: String, requestedAt: Int, request: String = "the promotion",
        on connection: any SQLConnection
    ) throws -> String? {
        func record(_ name: String) throws -> SQLRow? {
            // A role a second admin approved counts from the approval on.
            try connection.query(
                "SELECT created_by, COALESCE(approved_at, created_at) FROM operators WHERE name = $1", .text(name)
            ).first
        }
        var name = approver
        var seen: Set<String> = []
        while seen.insert(name).inserted, let row = try record(name), row.text(0).hasPrefix("user:") {
            name = String(row.text(0).dropFirst("user:".count))
            if name == requester {
                return seen.count == 1
                    ? "\(approver) was created by \(requester), who requested it"
                    : "\(approver) was created by an operator that \(requester), who requested it, created"
            }
        }
        if let row = try record(approver), row.integer(1) > requestedAt {
            return "\(approver) became an operator after \(request) was requested"
        }
        return nil
    }

    /// Records an approver's decision. Four eyes: the requester may not decide on their own
    /// promotion, nor may an operator the requester created (directly or through operators they
    /// created), nor one created after the request — a sock puppet is not a second person.
    package func recordApproval(_ approval: ApprovalRecord) async throws {
        try await transaction { connection in
            guard
                let promotion = try connection.query(
                    "SELECT requested_by, target, created_at FROM promotions WHERE id = $1"
                        + connection.dialect.forUpdate,
                    .text(approval.promotion)
                ).first
            else { throw StoreError(.notFound, "there is no promotion \(approval.promotion)") }
            let requester = promotion.text(0)
            guard requester != approval.approver else {
                throw StoreError(
                    .conflict,
                    "\(approval.approver) requested promotion \(approval.promotion) and cannot also decide on it")
            }
            if let reason = try Self.notASecondPerson(
                approval.approver, requester: requester, requestedAt: promotion.integer(2), on: connection)
            {
                throw StoreError(
                    .conflict, "\(approval.approver) cannot decide on promotion \(approval.promotion): \(reason)")
            }
            try connection.run(
                """
                INSERT INTO approvals (promotion, approver, decision, reason, created_at) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (promotion, approver) DO UPDATE SET decision = excluded.decision, reason = excluded.reason,
                    created_at = excluded.created_at
                """, .text(approval.promotion), .text(approval.approver), .text(approval.decision.rawValue),
                .text(approval.reason),
                .integer(Int64(Self.milliseconds(approval.createdAt))))
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: approval.approver, action: "promotion.\(approval.decision.rawValue)",
                    environment: promotion.text(1),
                    object: approval.promotion, detail: approval.reason),
                at: approval.createdAt, on: connection)
        }
    }

    /// A promotion with its decisions.
    package func promotion(id: String) async throws -> (promotion: PromotionRecord, approvals: [ApprovalRecord])? {
        try await read { connection in
            guard
                let row = try connection.query(
                    """
                    SELECT id, release, source, target, requested_by, state, document, created_at, updated_at,
                        emergency
                    FROM promotions WHERE id = $1
                    """, .text(id)
                ).first
            else { return nil }
            let approvals = try connection.query(
                "SELECT promotion, approver, decision, reason, created_at FROM approvals WHERE promotion = $1 ORDER BY created_at",
                .text(id)
            ).map { approval in
                ApprovalRecord(
                    promotion: approval.text(0), approver: approval.text(1),
                    decision: try Self.wireValue(Decision.self, approval.text(2)),
                    reason: approval.text(3), createdAt: Self.date(approval.integer(4)))
            }
            return (try Self.promotionRecord(row), approvals)
        }
    }
}
