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
                INSERT INTO operators (name, token_hash, roles, created_by, created_at, revoked_at)
                VALUES ($1, $2, $3, $4, $5, NULL)
                """, .text(record.name), .text(record.tokenHash), .text(roles), .text(record.createdBy),
                .integer(Int64(Self.milliseconds(record.createdAt))))
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: record.createdBy, action: "user.create", object: record.name,
                    detail: record.roles.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" }.joined(
                        separator: ", ")),
                at: record.createdAt, on: connection)
        }
    }

    /// The operator holding the token with this hash, unless revoked.
    package func activeOperator(tokenHash: String) async throws -> OperatorRecord? {
        try await read { connection in
            try connection.query(
                """
                SELECT name, token_hash, roles, created_by, created_at, revoked_at FROM operators
                WHERE token_hash = $1 AND revoked_at IS NULL
                """, .text(tokenHash)
            ).first.map(Self.operatorRecord)
        }
    }

    /// Every operator, revoked ones too, by name.
    package func operators() async throws -> [OperatorRecord] {
        try await read { connection in
            try connection.query(
                "SELECT name, token_hash, roles, created_by, created_at, revoked_at FROM operators ORDER BY name"
            ).map(Self.operatorRecord)
        }
    }

    static func operatorRecord(_ row: SQLRow) throws -> OperatorRecord {
        OperatorRecord(
            name: row.text(0), tokenHash: row.text(1),
            roles: try decode([String: Role].self, row.text(2), what: "operator roles"),
            createdBy: row.text(3), createdAt: date(row.integer(4)), revokedAt: row.optionalInteger(5).map(date))
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
