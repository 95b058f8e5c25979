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
                // Audited by the server, a minute's repeats in one entry: an entry each would let
                // anyone grow the store without end.
                return .failure(StoreError(.notFound, "the join token is not known"))
            }
            var token = Self.joinToken(row)
            let refusal: String? =
                token.usedAt != nil
                ? "the join token was used already" : token.expiresAt <= now ? "the join token expired" : nil
            if let refusal {
                // Audited by the server like an unknown token; the message names the token for that.
                return .failure(StoreError(.conflict, "\(refusal) (\(token.id), node \(token.node))"))
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

    /// Records a certificate issued to a node and binds the node to its fingerprint. With
    /// `supersedingAtOnce` (a node that joined anew) the node's earlier certificates are revoked in the
    /// same transaction; a renewed certificate supersedes the one before when it is first presented
    /// (`supersedeCertificates`), so an agent whose renewal answer was lost can still renew again.
    package func recordCertificate(
        _ certificate: CertificateRecord, actor: String, supersedingAtOnce: Bool = false
    ) async throws {
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
            if supersedingAtOnce {
                _ = try Self.revokeCertificates(
                    of: certificate.environment, certificate.node, except: certificate.fingerprint,
                    action: "certificate.supersede", actor: actor, at: certificate.issuedAt, on: connection)
            }
        }
    }

    /// The certificate with this fingerprint, revoked or not, and whether it is the one its node was
    /// given last.
    package func presentedCertificate(
        fingerprint: String
    ) async throws -> (
        record: CertificateRecord, isNodesLatest: Bool
    )? {
        try await read { connection in
            try connection.query(
                """
                SELECT c.serial, c.environment, c.node, c.fingerprint, c.not_after, c.issued_at, c.revoked_at,
                    n.certificate_fingerprint
                FROM certificates c LEFT JOIN nodes n ON n.environment = c.environment AND n.name = c.node
                WHERE c.fingerprint = $1
                """, .text(fingerprint)
            ).first.map { row in (Self.certificate(row), row.optionalText(7) == fingerprint) }
        }
    }

    /// The certificate with this fingerprint, revoked or not.
    package func certificate(fingerprint: String) async throws -> CertificateRecord? {
        try await presentedCertificate(fingerprint: fingerprint)?.record
    }

    /// Revokes the node's certificates other than the one with `fingerprint`: a renewed certificate,
    /// once presented, supersedes the ones before. Returns the serials revoked (none when done before).
    @discardableResult
    package func supersedeCertificates(
        environment: String, node: String, keeping fingerprint: String, at now: Date = Date()
    ) async throws -> [String] {
        try await transaction { connection in
            try Self.revokeCertificates(
                of: environment, node, except: fingerprint, action: "certificate.supersede", actor: "node:\(node)",
                at: now, on: connection)
        }
    }

    /// Revokes every certificate of the node, so it must join again with a new token; returns the
    /// serials revoked (none when all were revoked already).
    package func revokeCertificates(
        environment: String, node: String, actor: String, at now: Date = Date()
    ) async throws -> [String] {
        try await transaction { connection in
            guard
                !(try connection.query(
                    "SELECT 1 FROM nodes WHERE environment = $1 AND name = $2", .text(environment), .text(node)
                ).isEmpty)
            else { throw StoreError(.notFound, "there is no node \(node) in \(environment)") }
            return try Self.revokeCertificates(
                of: environment, node, except: nil, action: "certificate.revoke", actor: actor, at: now,
                on: connection)
        }
    }

    static func revokeCertificates(
        of environment: String, _ node: String, except fingerprint: String?, action: String, actor: String,
        at now: Date, on connection: any SQLConnection
    ) throws -> [String] {
        let serials = try connection.query(
            """
            UPDATE certificates SET revoked_at = $3
            WHERE environment = $1 AND node = $2 AND revoked_at IS NULL AND fingerprint <> $4
            RETURNING serial
            """, .text(environment), .text(node), .integer(Int64(milliseconds(now))), .text(fingerprint ?? "")
        ).map { $0.text(0) }.sorted()
        if !serials.isEmpty {
            _ = try appendAudit(
                AuditEvent(
                    actor: actor, action: action, environment: environment, object: node,
                    detail: "serial " + serials.joined(separator: ", ")),
                at: now, on: connection)
        }
        return serials
    }

    /// Every node of an environment (or all) with the certificate it was given last, sorted by
    /// environment and name.
    package func nodeCertificates(
        environment: String? = nil
    ) async throws -> [(
        node: NodeRecord, certificate: CertificateRecord?
    )] {
        let nodes = try await nodes(environment: environment)
        let certificates = try await read { connection in
            var sql = """
                SELECT c.serial, c.environment, c.node, c.fingerprint, c.not_after, c.issued_at, c.revoked_at
                FROM certificates c JOIN nodes n
                    ON n.environment = c.environment AND n.name = c.node AND n.certificate_fingerprint = c.fingerprint
                """
            var parameters: [SQLValue] = []
            if let environment {
                sql += " WHERE c.environment = $1"
                parameters = [.text(environment)]
            }
            return try connection.execute(sql, parameters).map(Self.certificate)
        }
        let byNode = Dictionary(
            certificates.map { ("\($0.environment)/\($0.node)", $0) }, uniquingKeysWith: { first, _ in first })
        return nodes.map { ($0, byNode["\($0.environment)/\($0.name)"]) }
    }

    static func certificate(_ row: SQLRow) -> CertificateRecord {
        CertificateRecord(
            serial: row.text(0), environment: row.text(1), node: row.text(2), fingerprint: row.text(3),
            notAfter: date(row.integer(4)), issuedAt: date(row.integer(5)), revokedAt: row.optionalInteger(6).map(date))
    }
}

// MARK: Secrets

extension StateStore {
    /// Stores a secret's encrypted value as its next version and returns what was stored; the audit
    /// entry names the secret and its version, never the value. Each change is one statement, so two
    /// at once get versions one apart (and a second `generate` of a name is refused), on PostgreSQL
    /// too. A site limit stays through `set` without a site and through `rotate`.
    @discardableResult
    package func putSecret(_ secret: SecretRecord, change: SecretChange = .set) async throws -> SecretRecord {
        try await transaction { connection in
            let values: [SQLValue] = [
                .text(secret.environment), .text(secret.name), .text(secret.ciphertext), .text(secret.fingerprint),
                .integer(Int64(Self.milliseconds(secret.updatedAt))), .text(secret.updatedBy),
                .text(secret.kind.rawValue), secret.site.map(SQLValue.text) ?? .null,
            ]
            let insert = """
                INSERT INTO secrets (environment, name, ciphertext, fingerprint, updated_at, updated_by, kind, site, version)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)
                """
            let stored: [SQLRow]
            switch change {
            case .generate:
                stored = try connection.execute(
                    insert + " ON CONFLICT (environment, name) DO NOTHING RETURNING version, site", values)
                guard !stored.isEmpty else {
                    throw StoreError(
                        .conflict,
                        "the secret '\(secret.name)' exists in \(secret.environment) already; "
                            + "`stellwerk secret rotate` gives it a new value")
                }
            case .set:
                stored = try connection.execute(
                    insert + """
                         ON CONFLICT (environment, name) DO UPDATE SET ciphertext = excluded.ciphertext,
                            fingerprint = excluded.fingerprint, updated_at = excluded.updated_at,
                            updated_by = excluded.updated_by, kind = excluded.kind,
                            site = COALESCE(excluded.site, secrets.site), version = secrets.version + 1
                        RETURNING version, site
                        """, values)
            case .rotate:
                stored = try connection.execute(
                    """
                    UPDATE secrets SET ciphertext = $3, fingerprint = $4, updated_at = $5, updated_by = $6,
                        version = version + 1
                    WHERE environment = $1 AND name = $2 RETURNING version, site
                    """, Array(values.prefix(6)))
                guard !stored.isEmpty else {
                    throw StoreError(.notFound, "there is no secret '\(secret.name)' in \(secret.environment)")
                }
            }
            var result = secret
            result.version = stored.first?.integer(0) ?? 1
            result.site = stored.first?.optionalText(1)
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: result.updatedBy, action: "secret.\(change.rawValue)", environment: result.environment,
                    object: result.name,
                    detail: "version \(result.version), \(result.kind.rawValue)"
                        + (result.site.map { ", site \($0)" } ?? "")),
                at: result.updatedAt, on: connection)
            return result
        }
    }

    /// Removes a secret (audited); not found when there is none.
    package func deleteSecret(environment: String, name: String, actor: String, at now: Date = Date()) async throws {
        try await transaction { connection in
            let removed = try connection.query(
                "DELETE FROM secrets WHERE environment = $1 AND name = $2 RETURNING version", .text(environment),
                .text(name))
            guard let version = removed.first?.integer(0) else {
                throw StoreError(.notFound, "there is no secret '\(name)' in \(environment)")
            }
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: actor, action: "secret.delete", environment: environment, object: name,
                    detail: "version \(version)"),
                at: now, on: connection)
        }
    }

    /// Replaces stored ciphertexts of unchanged values (a new key-encryption key), all in one
    /// transaction; versions and fingerprints stay, so no instance restarts for it. Each only while
    /// the stored ciphertext is still `replacing`: a value changed meanwhile stays as it was set.
    @discardableResult
    package func resealSecrets(
        _ sealed: [(environment: String, name: String, replacing: String, ciphertext: String)], actor: String,
        at now: Date = Date()
    ) async throws -> Int {
        guard !sealed.isEmpty else { return 0 }
        return try await transaction { connection in
            var count = 0
            for secret in sealed {
                count +=
                    try connection.run(
                        """
                        UPDATE secrets SET ciphertext = $1 WHERE environment = $2 AND name = $3 AND ciphertext = $4
                        RETURNING name
                        """, .text(secret.ciphertext), .text(secret.environment), .text(secret.name),
                        .text(secret.replacing)
                    ).count
            }
            guard count > 0 else { return 0 }
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: actor, action: "secrets.reseal", environment: "", object: "secrets",
                    detail: "\(count) sealed again with the current key-encryption key"),
                at: now, on: connection)
            return count
        }
    }

    /// Every secret of every environment.
    package func allSecrets() async throws -> [SecretRecord] {
        try await read { connection in
            try connection.query("SELECT \(Self.secretColumns) FROM secrets ORDER BY environment, name")
                .map(Self.secret)
        }
    }

    static let secretColumns = "environment, name, ciphertext, fingerprint, updated_at, updated_by, version, kind, site"

    package func secret(environment: String, name: String) async throws -> SecretRecord? {
        try await read { connection in
            try connection.query(
                "SELECT \(Self.secretColumns) FROM secrets WHERE environment = $1 AND name = $2",
                .text(environment), .text(name)
            ).first.map(Self.secret)
        }
    }

    /// The secrets of an environment, by name.
    package func secrets(environment: String) async throws -> [SecretRecord] {
        try await read { connection in
            try connection.query(
                "SELECT \(Self.secretColumns) FROM secrets WHERE environment = $1 ORDER BY name",
                .text(environment)
            ).map(Self.secret)
        }
    }

    static func secret(_ row: SQLRow) -> SecretRecord {
        SecretRecord(
            environment: row.text(0), name: row.text(1), ciphertext: row.text(2), fingerprint: row.text(3),
            updatedAt: date(row.integer(4)), updatedBy: row.text(5), version: Int(row.integer(6)),
            kind: SecretKind(wire: row.text(7)) ?? .value, site: row.optionalText(8))
    }
}
