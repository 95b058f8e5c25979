import Database

/// The store's own schema, versioned. Each migration runs once, in a transaction, when a store is
/// opened; both databases run the same statements.
package enum StoreSchema {
    struct Migration {
        var version: Int
        var summary: String
        var statements: [String]
    }

    static let migrations: [Migration] = [
        Migration(
            version: 1,
            summary: "nodes, desired and reported state, releases, rollouts, promotions, tokens, "
                + "certificates, secrets, leases, audit log",
            statements: [
                """
                CREATE TABLE environments (
                    name TEXT PRIMARY KEY, serial BIGINT NOT NULL, updated_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE nodes (
                    environment TEXT NOT NULL, name TEXT NOT NULL, site TEXT NOT NULL, address TEXT NOT NULL,
                    labels TEXT NOT NULL, certificate_fingerprint TEXT, last_seen BIGINT,
                    connection TEXT NOT NULL, PRIMARY KEY (environment, name))
                """,
                """
                CREATE TABLE desired_states (
                    environment TEXT NOT NULL, node TEXT NOT NULL, serial BIGINT NOT NULL, document TEXT NOT NULL,
                    PRIMARY KEY (environment, node))
                """,
                """
                CREATE TABLE node_reports (
                    environment TEXT NOT NULL, node TEXT NOT NULL, reported_at BIGINT NOT NULL,
                    document TEXT NOT NULL, PRIMARY KEY (environment, node))
                """,
                """
                CREATE TABLE releases (
                    id TEXT PRIMARY KEY, version TEXT NOT NULL, manifest TEXT NOT NULL, created_at BIGINT NOT NULL,
                    created_by TEXT NOT NULL)
                """,
                """
                CREATE TABLE rollouts (
                    id TEXT PRIMARY KEY, environment TEXT NOT NULL, release TEXT NOT NULL, serial BIGINT NOT NULL,
                    state TEXT NOT NULL, document TEXT NOT NULL, created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE rollout_steps (
                    rollout TEXT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE, position INTEGER NOT NULL,
                    node TEXT NOT NULL, state TEXT NOT NULL, detail TEXT NOT NULL, updated_at BIGINT NOT NULL,
                    PRIMARY KEY (rollout, position))
                """,
                """
                CREATE TABLE promotions (
                    id TEXT PRIMARY KEY, release TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL,
                    requested_by TEXT NOT NULL, state TEXT NOT NULL, document TEXT NOT NULL,
                    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE approvals (
                    promotion TEXT NOT NULL REFERENCES promotions (id) ON DELETE CASCADE, approver TEXT NOT NULL,
                    decision TEXT NOT NULL, reason TEXT NOT NULL, created_at BIGINT NOT NULL,
                    PRIMARY KEY (promotion, approver))
                """,
                """
                CREATE TABLE join_tokens (
                    id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, environment TEXT NOT NULL,
                    site TEXT NOT NULL, node TEXT NOT NULL, expires_at BIGINT NOT NULL, used_at BIGINT,
                    created_by TEXT NOT NULL, created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE certificates (
                    serial TEXT PRIMARY KEY, environment TEXT NOT NULL, node TEXT NOT NULL,
                    fingerprint TEXT NOT NULL UNIQUE, not_after BIGINT NOT NULL, issued_at BIGINT NOT NULL,
                    revoked_at BIGINT)
                """,
                """
                CREATE TABLE secrets (
                    environment TEXT NOT NULL, name TEXT NOT NULL, ciphertext TEXT NOT NULL,
                    fingerprint TEXT NOT NULL, updated_at BIGINT NOT NULL, updated_by TEXT NOT NULL,
                    PRIMARY KEY (environment, name))
                """,
                """
                CREATE TABLE leases (
                    name TEXT PRIMARY KEY, holder TEXT NOT NULL, acquired_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE audit_log (
                    seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
                    environment TEXT NOT NULL, object TEXT NOT NULL, detail TEXT NOT NULL,
                    previous_hash TEXT NOT NULL, hash TEXT NOT NULL)
                """,
            ]),
        Migration(
            version: 2, summary: "an anchor for the audit log's newest entry, so a removed tail is detected",
            statements: [
                "CREATE TABLE audit_head (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)",
                """
                INSERT INTO audit_head (id, seq, hash)
                SELECT 1, COALESCE(MAX(seq), 0),
                    COALESCE((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), '')
                FROM audit_log
                """,
                "CREATE INDEX audit_log_by_environment ON audit_log (environment, seq)",
            ]),
        Migration(
            version: 3,
            summary: "operators: API tokens (hashes only) and their roles per environment; each rollout step's "
                + "target and previous desired state",
            statements: [
                """
                CREATE TABLE operators (
                    name TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, roles TEXT NOT NULL,
                    created_by TEXT NOT NULL, created_at BIGINT NOT NULL, revoked_at BIGINT)
                """,
                "ALTER TABLE rollout_steps ADD COLUMN target TEXT",
                "ALTER TABLE rollout_steps ADD COLUMN previous TEXT",
            ]),
        Migration(
            version: 4,
            summary: "when each node last reported an instance that was not running healthy, for promotion soak",
            statements: ["ALTER TABLE node_reports ADD COLUMN unhealthy_at BIGINT"]),
        Migration(
            version: 5,
            summary: "rollout steps keep only what they give their node; where each step stands lives in the "
                + "rollout's document alone",
            statements: [
                "ALTER TABLE rollout_steps DROP COLUMN state",
                "ALTER TABLE rollout_steps DROP COLUMN detail",
                "ALTER TABLE rollout_steps DROP COLUMN updated_at",
            ]),
        Migration(
            version: 6,
            summary: "each environment's policy as the server enforces it, and a change waiting for a second "
                + "approver; emergency changes; node certificates found by node",
            statements: [
                """
                CREATE TABLE environment_policies (
                    environment TEXT PRIMARY KEY, document TEXT, digest TEXT, recorded_by TEXT, approved_by TEXT,
                    recorded_at BIGINT, proposed_document TEXT, proposed_digest TEXT, proposed_by TEXT,
                    proposed_at BIGINT)
                """,
                "CREATE INDEX certificates_by_node ON certificates (environment, node)",
                "ALTER TABLE promotions ADD COLUMN emergency TEXT",
            ]),
        Migration(
            version: 7,
            summary: "secrets held by the orchestrator: a version, how the value came about, an optional site; "
                + "operators whose role waits for a second admin",
            statements: [
                "ALTER TABLE operators ADD COLUMN awaiting_approval INTEGER NOT NULL DEFAULT 0",
                "ALTER TABLE operators ADD COLUMN approved_by TEXT",
                "ALTER TABLE operators ADD COLUMN approved_at BIGINT",
                "ALTER TABLE secrets ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
                "ALTER TABLE secrets ADD COLUMN kind TEXT NOT NULL DEFAULT 'value'",
                "ALTER TABLE secrets ADD COLUMN site TEXT",
            ]),
        Migration(
            version: 8,
            summary: "how the orchestrator pushes to a node that cannot call out, as an admin registered it",
            statements: ["ALTER TABLE nodes ADD COLUMN push TEXT"]),
        Migration(
            version: 9,
            summary: "each node's health history: the states of its instances whenever they change",
            statements: [
                "ALTER TABLE node_reports ADD COLUMN health TEXT",
                """
                CREATE TABLE health_history (
                    environment TEXT NOT NULL, node TEXT NOT NULL, at BIGINT NOT NULL, health TEXT NOT NULL)
                """,
                "CREATE INDEX health_history_by_node ON health_history (environment, node, at)",
            ]),
        Migration(
            version: 10,
            summary: "the orchestrator's identity (its CA and release-signing key, sealed with the key-encryption "
                + "key), shared by every server of the store",
            statements: [
                """
                CREATE TABLE orchestrator_identity (
                    id INTEGER PRIMARY KEY CHECK (id = 1), ca_certificate TEXT NOT NULL, ca_key TEXT NOT NULL,
                    signing_key TEXT NOT NULL, created_by TEXT NOT NULL, created_at BIGINT NOT NULL)
                """
            ]),
        Migration(
            version: 11,
            summary: "artifacts kept in a shared store, in chunks, so every server hands out what any one took in; "
                + "and the servers of the store with the address agents reach each by",
            statements: [
                """
                CREATE TABLE artifacts (
                    sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, chunks INTEGER NOT NULL, stored_by TEXT NOT NULL,
                    stored_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE artifact_chunks (
                    sha256 TEXT NOT NULL, seq INTEGER NOT NULL, bytes TEXT NOT NULL, PRIMARY KEY (sha256, seq))
                """,
                "CREATE TABLE servers (id TEXT PRIMARY KEY, url TEXT NOT NULL, seen_at BIGINT NOT NULL)",
            ]),
    ]

    package static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Brings the schema to `target` (default: the latest) in one transaction: all or nothing.
    /// Concurrent openers of one PostgreSQL database wait for each other on an advisory lock.
    static func migrate(_ connection: any SQLConnection, to target: Int = latestVersion, now: Int) throws {
        try connection.executeScript(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)")
        try connection.transaction {
            if connection.dialect == .postgres {
                // The number is arbitrary but fixed: "stellwerk schema" as an advisory-lock key.
                try connection.run("SELECT pg_advisory_xact_lock(7335843121)")
            }
            let current = try version(connection)
            guard current <= latestVersion else {
                throw StoreError(
                    .schemaTooNew,
                    "the store has schema version \(current), but this stellwerk knows versions up to "
                        + "\(latestVersion); upgrade stellwerk before using this store")
            }
            for migration in migrations where migration.version > current && migration.version <= target {
                for statement in migration.statements { try connection.executeScript(statement) }
                try connection.run(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    .integer(Int64(migration.version)), .integer(Int64(now)))
            }
        }
    }

    /// Refuses a store whose schema is not this stellwerk's, saying what to run.
    static func requireCurrent(_ connection: any SQLConnection, location: StoreLocation) throws {
        let current = try version(connection)
        if current < latestVersion {
            throw StoreError(
                .schemaTooOld,
                "the store \(location) has schema version \(current), this stellwerk needs \(latestVersion); "
                    + "run `stellwerk store migrate` (or start `stellwerk server`, which migrates) and back it up first"
            )
        }
        if current > latestVersion {
            throw StoreError(
                .schemaTooNew,
                "the store has schema version \(current), but this stellwerk knows versions up to "
                    + "\(latestVersion); upgrade stellwerk before using this store")
        }
    }

    /// The schema version; 0 for a database no stellwerk has set up yet.
    static func version(_ connection: any SQLConnection) throws(StoreError) -> Int {
        let tables =
            connection.dialect == .postgres
            ? "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
            : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        guard (try connection.query(tables).first?.integer(0) ?? 0) > 0 else { return 0 }
        return try connection.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").first?.integer(0) ?? 0
    }
}
