import Database
package import Foundation
import StellwerkAPI

// MARK: Operators and their API tokens

extension StateStore {
    /// Adds an operator (only the token's hash is stored); audited without the token.
    package func createOperator(_ record: OperatorRecord) async throws {
        let roles = try Self.encode(record.roles)
        try await transaction { connection in
            guard
                try connection.query("SELECT name FROM operators WHERE name = $1", .text(record.name)).isEmpty
            else { throw StoreError(.conflict, "there is already an operator named \(record.name)") }
            try connection.run(
                """
                INSERT INTO operators (name, token_hash, roles, created_by, created_at, revoked_at, awaiting_approval)
                VALUES ($1, $2, $3, $4, $5, NULL, $6)
                """, .text(record.name), .text(record.tokenHash), .text(roles), .text(record.createdBy),
                .integer(Int64(Self.milliseconds(record.createdAt))), .integer(record.awaitingApproval ? 1 : 0))
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: record.createdBy, action: "user.create", object: record.name,
                    detail: record.roles.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" }.joined(
                        separator: ", ") + (record.awaitingApproval ? "; waits for a second admin" : "")),
                at: record.createdAt, on: connection)
        }
    }

    /// The operator holding the token with this hash, unless revoked (one awaiting approval too: the
    /// caller refuses it, saying so).
    package func activeOperator(tokenHash: String) async throws -> OperatorRecord? {
        try await read { connection in
            try connection.query(
                "SELECT \(Self.operatorColumns) FROM operators WHERE token_hash = $1 AND revoked_at IS NULL",
                .text(tokenHash)
            ).first.map(Self.operatorRecord)
        }
    }

    /// Every operator, revoked ones too, by name.
    package func operators() async throws -> [OperatorRecord] {
        try await read { connection in
            try connection.query("SELECT \(Self.operatorColumns) FROM operators ORDER BY name").map(Self.operatorRecord)
        }
    }

    static let operatorColumns =
        "name, token_hash, roles, created_by, created_at, revoked_at, awaiting_approval, approved_by, approved_at"

    static func operatorRecord(_ row: SQLRow) throws -> OperatorRecord {
        OperatorRecord(
            name: row.text(0), tokenHash: row.text(1),
            roles: try decode([String: Role].self, row.text(2), what: "operator roles"),
            createdBy: row.text(3), createdAt: date(row.integer(4)), revokedAt: row.optionalInteger(5).map(date),
            awaitingApproval: row.integer(6) != 0, approvedBy: row.optionalText(7),
            approvedAt: row.optionalInteger(8).map(date))
    }

    /// A second admin approves a grant that waits for one. Four eyes as for promotions: not the admin
    /// who granted it, nobody that admin created, nobody who became an operator after the grant, and
    /// not the grantee. Audited.
    package func approveOperator(name: String, approver: String, at now: Date = Date()) async throws -> OperatorRecord {
        try await transaction { connection in
            guard
                let row = try connection.query(
                    "SELECT \(Self.operatorColumns) FROM operators WHERE name = $1 AND revoked_at IS NULL"
                        + connection.dialect.forUpdate, .text(name)
                ).first
            else { throw StoreError(.notFound, "there is no active operator named \(name)") }
            var record = try Self.operatorRecord(row)
            guard record.awaitingApproval else {
                throw StoreError(.conflict, "\(name)'s roles wait for no approval")
            }
            let grantor = record.createdBy.hasPrefix("user:") ? String(record.createdBy.dropFirst(5)) : record.createdBy
            if approver == grantor || approver == name {
                throw StoreError(
                    .conflict,
                    "\(approver) \(approver == name ? "received" : "granted") \(name)'s roles and cannot also approve them; "
                        + "a second admin does")
            }
            if let reason = try Self.notASecondPerson(
                approver, requester: grantor, requestedAt: Self.milliseconds(record.createdAt),
                request: "\(name)'s grant", on: connection)
            {
                throw StoreError(.conflict, "\(approver) cannot approve \(name)'s roles: \(reason)")
            }
            try connection.run(
                "UPDATE operators SET awaiting_approval = 0, approved_by = $2, approved_at = $3 WHERE name = $1",
                .text(name), .text(approver), .integer(Int64(Self.milliseconds(now))))
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: "user:\(approver)", action: "user.approve", object: name,
                    detail: "granted by \(grantor): "
                        + record.roles.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" }.joined(
                            separator: ", ")),
                at: now, on: connection)
            record.awaitingApproval = false
            record.approvedBy = approver
            record.approvedAt = now
            return record
        }
    }

    /// Revokes an operator's token; audited.
    package func revokeOperator(name: String, actor: String, at now: Date = Date()) async throws {
        try await transaction { connection in
            guard
                !(try connection.query(
                    "UPDATE operators SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL RETURNING name",
                    .text(name), .integer(Int64(Self.milliseconds(now)))
                ).isEmpty)
            else { throw StoreError(.notFound, "there is no active operator named \(name)") }
            _ = try Self.appendAudit(
                AuditEvent(actor: actor, action: "user.revoke", object: name, detail: "API token revoked"),
                at: now, on: connection)
        }
    }
}
