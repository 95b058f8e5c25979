import Database
package import Foundation

extension StateStore {
    /// Takes the lease `name` for `holder` until `now + duration`, if nobody else holds it; the
    /// holder taking it again extends it. One statement decides, so two contenders never both win.
    ///
    /// - Returns: the lease when `holder` holds it now, `nil` when someone else does.
    package func acquireLease(
        _ name: String, holder: String, for duration: TimeInterval, at now: Date = Date()
    ) async throws
        -> Lease?
    {
        let nowMilliseconds = Self.milliseconds(now)
        let expires = Self.milliseconds(now.addingTimeInterval(duration))
        return try await transaction { connection in
            try connection.query(
                """
                INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                    acquired_at = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > $3
                        THEN leases.acquired_at ELSE excluded.acquired_at END,
                    expires_at = excluded.expires_at
                WHERE leases.expires_at <= $3 OR leases.holder = excluded.holder
                RETURNING name, holder, acquired_at, expires_at
                """, .text(name), .text(holder), .integer(Int64(nowMilliseconds)), .integer(Int64(expires))
            ).first.map(Self.lease)
        }
    }

    /// Extends a lease `holder` still holds; `nil` when it expired or someone else holds it.
    package func renewLease(
        _ name: String, holder: String, for duration: TimeInterval, at now: Date = Date()
    ) async throws
        -> Lease?
    {
        try await transaction { connection in
            try connection.query(
                """
                UPDATE leases SET expires_at = $3 WHERE name = $1 AND holder = $2 AND expires_at > $4
                RETURNING name, holder, acquired_at, expires_at
                """, .text(name), .text(holder), .integer(Int64(Self.milliseconds(now.addingTimeInterval(duration)))),
                .integer(Int64(Self.milliseconds(now)))
            ).first.map(Self.lease)
        }
    }

    /// Gives up a lease; `false` when `holder` did not hold it.
    @discardableResult
    package func releaseLease(_ name: String, holder: String) async throws -> Bool {
        try await transaction { connection in
            !(try connection.query(
                "DELETE FROM leases WHERE name = $1 AND holder = $2 RETURNING name", .text(name), .text(holder)
            ).isEmpty)
        }
    }

    /// Every lease, held or expired, by name.
    package func leases() async throws -> [Lease] {
        try await read { connection in
            try connection.query("SELECT name, holder, acquired_at, expires_at FROM leases ORDER BY name").map(
                Self.lease)
        }
    }

    /// Removes a lease whoever holds it, for an operator clearing a stuck rollout; audited.
    ///
    /// - Returns: the lease that was broken.
    package func breakLease(_ name: String, actor: String, at now: Date = Date()) async throws -> Lease {
        try await transaction { connection in
            guard
                let lease = try connection.query(
                    "DELETE FROM leases WHERE name = $1 RETURNING name, holder, acquired_at, expires_at", .text(name)
                ).first.map(Self.lease)
            else {
                throw StoreError(.notFound, "there is no lock named '\(name)'; `stellwerk lock list` shows them")
            }
            let state = lease.isHeld(at: now) ? "held" : "expired"
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: actor, action: "lock.break", object: name,
                    detail:
                        "was \(state) by \(lease.holder) until \(ISO8601DateFormatter().string(from: lease.expiresAt))"),
                at: now, on: connection)
            return lease
        }
    }

    static func lease(_ row: SQLRow) -> Lease {
        Lease(name: row.text(0), holder: row.text(1), acquiredAt: date(row.integer(2)), expiresAt: date(row.integer(3)))
    }
}
