import Database
package import Foundation

/// An environment's policy as the store keeps it: the recorded one the server enforces, and a
/// proposed change waiting for a second approver. Documents are the policies' canonical JSON.
package struct PolicyRecord: Sendable, Hashable {
    package var environment: String
    package var recorded: Entry?
    package var proposed: Entry?

    package struct Entry: Sendable, Hashable {
        package var document: String
        package var digest: String
        package var by: String
        /// Who approved a recorded policy that needed a second person.
        package var approvedBy: String?
        package var at: Date

        package init(document: String, digest: String, by: String, approvedBy: String?, at: Date) {
            self.document = document
            self.digest = digest
            self.by = by
            self.approvedBy = approvedBy
            self.at = at
        }
    }
}

// MARK: Environment policies

extension StateStore {
    /// The environment's policy and proposal; `nil` when neither was ever recorded.
    package func policy(environment: String) async throws -> PolicyRecord? {
        try await read { connection in try Self.policy(environment, locking: false, on: connection) }
    }

    /// Every environment with a recorded or proposed policy.
    package func policies() async throws -> [PolicyRecord] {
        try await read { connection in
            try connection.query("SELECT environment FROM environment_policies ORDER BY environment").compactMap {
                try Self.policy($0.text(0), locking: false, on: connection)
            }
        }
    }

    private static func policy(
        _ environment: String, locking: Bool = true, on connection: any SQLConnection
    ) throws -> PolicyRecord? {
        guard
            let row = try connection.query(
                """
                SELECT document, digest, recorded_by, approved_by, recorded_at, proposed_document, proposed_digest,
                    proposed_by, proposed_at
                FROM environment_policies WHERE environment = $1
                """ + (locking ? connection.dialect.forUpdate : ""), .text(environment)
            ).first
        else { return nil }
        var record = PolicyRecord(environment: environment, recorded: nil, proposed: nil)
        if let document = row.optionalText(0) {
            record.recorded = PolicyRecord.Entry(
                document: document, digest: row.text(1), by: row.text(2), approvedBy: row.optionalText(3),
                at: date(row.integer(4)))
        }
        if let document = row.optionalText(5) {
            record.proposed = PolicyRecord.Entry(
                document: document, digest: row.text(6), by: row.text(7), approvedBy: nil, at: date(row.integer(8)))
        }
        return record
    }

    /// Records `policy` at once (an environment that is not governed before or after); clears any
    /// proposal. Only while the recorded policy is still the one with digest `replacing` (`nil`: none)
    /// — the one the caller judged ungoverned — so a governed policy approved meanwhile is not
    /// overwritten without a second person. Audited with `detail` (what changed).
    package func recordPolicy(
        environment: String, _ policy: PolicyRecord.Entry, replacing expected: String?, actor: String,
        detail: String
    ) async throws {
        try await changePolicy(environment, policy, action: "record", actor: actor, detail: detail) {
            connection, current in
            guard current?.recorded?.digest == expected else {
                throw StoreError(
                    .conflict,
                    "the policy of \(environment) changed meanwhile; look at it again with `stellwerk policy show --env \(environment)`"
                )
            }
            try Self.upsertRecorded(environment, policy, on: connection)
        }
    }

    /// Stores `proposal` as the change waiting for a second approver, replacing an earlier one.
    package func proposePolicy(
        environment: String, _ proposal: PolicyRecord.Entry, actor: String, detail: String
    ) async throws {
        try await changePolicy(environment, proposal, action: "propose", actor: actor, detail: detail) {
            connection, _ in
            try connection.run(
                """
                INSERT INTO environment_policies (environment, proposed_document, proposed_digest, proposed_by,
                    proposed_at)
                VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (environment) DO UPDATE SET proposed_document = excluded.proposed_document,
                    proposed_digest = excluded.proposed_digest, proposed_by = excluded.proposed_by,
                    proposed_at = excluded.proposed_at
                """, .text(environment), .text(proposal.document), .text(proposal.digest), .text(proposal.by),
                .integer(Int64(Self.milliseconds(proposal.at))))
        }
    }

    /// Writes a policy change and its audit entry in one transaction, holding the environment's row;
    /// `write` gets the policy as it stands then.
    private func changePolicy(
        _ environment: String, _ entry: PolicyRecord.Entry, action: String, actor: String, detail: String,
        write: @escaping @Sendable (any SQLConnection, PolicyRecord?) throws -> Void
    ) async throws {
        try await transaction { connection in
            try write(connection, try Self.policy(environment, on: connection))
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: actor, action: "policy.\(action)", environment: environment, object: entry.digest,
                    detail: detail),
                at: entry.at, on: connection)
        }
    }

    /// Makes the proposal with `digest` the recorded policy. Four eyes as for promotions: not the
    /// proposer, nobody the proposer created, nobody who became an operator after the proposal.
    package func approvePolicy(
        environment: String, digest: String, approver: String, actor: String, at now: Date = Date()
    ) async throws {
        try await transaction { connection in
            guard let proposal = try Self.policy(environment, on: connection)?.proposed else {
                throw StoreError(.notFound, "no policy change of \(environment) waits for approval")
            }
            guard proposal.digest == digest else {
                throw StoreError(
                    .conflict,
                    "the policy change of \(environment) waiting now has digest \(proposal.digest), not \(digest): it was proposed again; read it with `stellwerk policy show --env \(environment)` and approve that"
                )
            }
            guard proposal.by != approver else {
                throw StoreError(
                    .conflict, "\(approver) proposed the policy change of \(environment) and cannot also approve it")
            }
            if let reason = try Self.notASecondPerson(
                approver, requester: proposal.by, requestedAt: Self.milliseconds(proposal.at),
                request: "the policy change", on: connection)
            {
                throw StoreError(
                    .conflict, "\(approver) cannot approve the policy change of \(environment): \(reason)")
            }
            var recorded = proposal
            recorded.approvedBy = approver
            recorded.at = now
            try Self.upsertRecorded(environment, recorded, on: connection)
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: actor, action: "policy.approve", environment: environment, object: digest,
                    detail: "proposed by \(proposal.by)"),
                at: now, on: connection)
        }
    }

    private static func upsertRecorded(
        _ environment: String, _ policy: PolicyRecord.Entry, on connection: any SQLConnection
    ) throws {
        try connection.run(
            """
            INSERT INTO environment_policies (environment, document, digest, recorded_by, approved_by, recorded_at)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (environment) DO UPDATE SET document = excluded.document, digest = excluded.digest,
                recorded_by = excluded.recorded_by, approved_by = excluded.approved_by,
                recorded_at = excluded.recorded_at, proposed_document = NULL, proposed_digest = NULL,
                proposed_by = NULL, proposed_at = NULL
            """, .text(environment), .text(policy.document), .text(policy.digest), .text(policy.by),
            policy.approvedBy.map { .text($0) } ?? .null, .integer(Int64(milliseconds(policy.at))))
    }
}
