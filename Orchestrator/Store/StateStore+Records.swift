import Database
package import Foundation
package import StellwerkAPI

// MARK: Releases

extension StateStore {
    /// Stores a release. Releases are immutable: storing the same ID again with other content is refused.
    package func storeRelease(_ manifest: ReleaseManifest, actor: String, at now: Date = Date()) async throws {
        let document = try Self.encode(manifest)
        try await transaction { connection in
            if let existing = try connection.query("SELECT manifest FROM releases WHERE id = $1", .text(manifest.id))
                .first
            {
                guard existing.text(0) == document else {
                    throw StoreError(
                        .conflict, "release \(manifest.id) exists with other content; releases never change")
                }
                return
            }
            try connection.run(
                "INSERT INTO releases (id, version, manifest, created_at, created_by) VALUES ($1, $2, $3, $4, $5)",
                .text(manifest.id), .text(manifest.version), .text(document), .integer(Int64(Self.milliseconds(now))),
                .text(actor))
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: actor, action: "release.create", object: manifest.id, detail: "version \(manifest.version)"),
                at: now, on: connection)
        }
    }

    package func release(id: String) async throws -> ReleaseManifest? {
        try await read { connection in
            try connection.query("SELECT manifest FROM releases WHERE id = $1", .text(id)).first.map {
                try Self.decode(ReleaseManifest.self, $0.text(0), what: "release")
            }
        }
    }

    /// Releases, newest first.
    package func releases() async throws -> [ReleaseManifest] {
        try await read { connection in
            try connection.query("SELECT manifest FROM releases ORDER BY created_at DESC, id").map {
                try Self.decode(ReleaseManifest.self, $0.text(0), what: "release")
            }
        }
    }
}

// MARK: Join tokens and certificates

extension StateStore {
    /// Stores a join token (only its hash); audited without the token.
    package func createJoinToken(_ token: JoinTokenRecord, actor: String) async throws {
        try await transaction { connection in
            try connection.run(
                """
                INSERT INTO join_tokens (id, token_hash, environment, site, node, expires_at, used_at, created_by, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)
                """, .text(token.id), .text(token.tokenHash), .text(token.environment), .text(token.site),
                .text(token.node), .integer(Int64(Self.milliseconds(token.expiresAt))), .text(token.createdBy),
                .integer(Int64(Self.milliseconds(token.createdAt))))
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: actor, action: "token.create", environment: token.environment, object: token.node,
                    detail:
                        "join token \(token.id) for site \(token.site), expires \(ISO8601DateFormatter().string(from: token.expiresAt))"
                ),
                at: token.createdAt, on: connection)
        }
    }

    /// Uses up the join token with this hash: it must exist, be unused and unexpired. Refusals are
    /// audited too, so a replayed token leaves a trace.
    package func redeemJoinToken(hash: String, at now: Date = Date()) async throws -> JoinTokenRecord {
        let result: Result<JoinTokenRecord, StoreError> = try await transaction { connection in
            guard
                let row = try connection.query(
                    """
                    SELECT id, token_hash, environment, site, node, expires_at, used_at, created_by, created_at
                    FROM join_tokens WHERE token_hash = $1
                    """ + connection.dialect.forUpdate, .text(hash)
                ).first
            else {
                _ = try Self.appendAudit(
                    AuditEvent(
                        actor: "anonymous", action: "token.refuse", object: "unknown", detail: "unknown join token"),
                    at: now, on: connection)
                return .failure(StoreError(.notFound, "the join token is not known"))
            }
            var token = Self.joinToken(row)
            let refusal: String? =
                token.usedAt != nil
                ? "the join token was used already" : token.expiresAt <= now ? "the join token expired" : nil
            if let refusal {
                _ = try Self.appendAudit(
                    AuditEvent(
                        actor: "anonymous", action: "token.refuse", environment: token.environment, object: token.node,
                        detail: "\(refusal) (token \(token.id))"),
                    at: now, on: connection)
                return .failure(StoreError(.conflict, refusal))
            }
            token.usedAt = Self.date(Self.milliseconds(now))
            try connection.run(
                "UPDATE join_tokens SET used_at = $2 WHERE id = $1", .text(token.id),
                .integer(Int64(Self.milliseconds(now))))
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: "node:\(token.node)", action: "token.redeem", environment: token.environment,
                    object: token.node,
                    detail: "join token \(token.id)"),
                at: now, on: connection)
            return .success(token)
        }
        return try result.get()
    }

    /// Join tokens of an environment (or all), newest first; only hashes are stored.
    package func joinTokens(environment: String? = nil) async throws -> [JoinTokenRecord] {
        try await read { connection in
            var sql =
                "SELECT id, token_hash, environment, site, node, expires_at, used_at, created_by, created_at FROM join_tokens"
            let parameters = Self.filter(&sql, environment: environment)
            return try connection.execute(sql + " ORDER BY created_at DESC, id", parameters).map(Self.joinToken)
        }
    }

    static func joinToken(_ row: SQLRow) -> JoinTokenRecord {
        JoinTokenRecord(
            id: row.text(0), tokenHash: row.text(1), environment: row.text(2), site: row.text(3), node: row.text(4),
            expiresAt: date(row.integer(5)), usedAt: row.optionalInteger(6).map(date), createdBy: row.text(7),
            createdAt: date(row.integer(8)))
    }

    /// Records a certificate issued to a node and binds the node to its fingerprint.
    package func recordCertificate(_ certificate: CertificateRecord, actor: String) async throws {
        try await transaction { connection in
            try connection.run(
                """
                INSERT INTO certificates (serial, environment, node, fingerprint, not_after, issued_at, revoked_at)
                VALUES ($1, $2, $3, $4, $5, $6, NULL)
                """, .text(certificate.serial), .text(certificate.environment), .text(certificate.node),
                .text(certificate.fingerprint), .integer(Int64(Self.milliseconds(certificate.notAfter))),
                .integer(Int64(Self.milliseconds(certificate.issuedAt))))
            try connection.run(
                "UPDATE nodes SET certificate_fingerprint = $3 WHERE environment = $1 AND name = $2",
                .text(certificate.environment), .text(certificate.node), .text(certificate.fingerprint))
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: actor, action: "certificate.issue", environment: certificate.environment,
                    object: certificate.node,
                    detail: "serial \(certificate.serial), fingerprint \(certificate.fingerprint.prefix(16))"),
                at: certificate.issuedAt, on: connection)
        }
    }

    /// The certificate with this fingerprint, revoked or not.
    package func certificate(fingerprint: String) async throws -> CertificateRecord? {
        try await read { connection in
            try connection.query(
                """
                SELECT serial, environment, node, fingerprint, not_after, issued_at, revoked_at
                FROM certificates WHERE fingerprint = $1
                """, .text(fingerprint)
            ).first.map { row in
                CertificateRecord(
                    serial: row.text(0), environment: row.text(1), node: row.text(2), fingerprint: row.text(3),
                    notAfter: Self.date(row.integer(4)), issuedAt: Self.date(row.integer(5)),
                    revokedAt: row.optionalInteger(6).map(Self.date))
            }
        }
    }
}

// MARK: Secrets

extension StateStore {
    /// Stores a secret's encrypted value; the audit entry names the secret, never the value.
    package func putSecret(_ secret: SecretRecord) async throws {
        try await transaction { connection in
            let previous = try connection.query(
                "SELECT fingerprint FROM secrets WHERE environment = $1 AND name = $2", .text(secret.environment),
                .text(secret.name)
            ).first?.text(0)
            try connection.run(
                """
                INSERT INTO secrets (environment, name, ciphertext, fingerprint, updated_at, updated_by)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (environment, name) DO UPDATE SET ciphertext = excluded.ciphertext,
                    fingerprint = excluded.fingerprint, updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """, .text(secret.environment), .text(secret.name), .text(secret.ciphertext), .text(secret.fingerprint),
                .integer(Int64(Self.milliseconds(secret.updatedAt))), .text(secret.updatedBy))
            let change = previous == nil ? "set" : previous == secret.fingerprint ? "unchanged" : "changed"
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: secret.updatedBy, action: "secret.set", environment: secret.environment, object: secret.name,
                    detail: change),
                at: secret.updatedAt, on: connection)
        }
    }

    package func secret(environment: String, name: String) async throws -> SecretRecord? {
        try await read { connection in
            try connection.query(
                """
                SELECT environment, name, ciphertext, fingerprint, updated_at, updated_by FROM secrets
                WHERE environment = $1 AND name = $2
                """, .text(environment), .text(name)
            ).first.map(Self.secret)
        }
    }

    /// The secrets of an environment, by name.
    package func secrets(environment: String) async throws -> [SecretRecord] {
        try await read { connection in
            try connection.query(
                """
                SELECT environment, name, ciphertext, fingerprint, updated_at, updated_by FROM secrets
                WHERE environment = $1 ORDER BY name
                """, .text(environment)
            ).map(Self.secret)
        }
    }

    static func secret(_ row: SQLRow) -> SecretRecord {
        SecretRecord(
            environment: row.text(0), name: row.text(1), ciphertext: row.text(2), fingerprint: row.text(3),
            updatedAt: date(row.integer(4)), updatedBy: row.text(5))
    }
}
