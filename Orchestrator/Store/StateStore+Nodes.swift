import Database
package import Foundation
package import StellwerkAPI

extension StateStore {
    /// Records a node or updates what is known about it, keeping its certificate and last contact.
    package func upsertNode(_ node: NodeRecord, actor: String, at now: Date = Date()) async throws {
        let labels = try Self.encode(node.labels)
        try await transaction { connection in
            let existing = try connection.query(
                "SELECT site, address, labels FROM nodes WHERE environment = $1 AND name = $2",
                .text(node.environment), .text(node.name)
            ).first
            try connection.run(
                """
                INSERT INTO nodes (environment, name, site, address, labels, certificate_fingerprint, last_seen, connection)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (environment, name) DO UPDATE SET site = excluded.site, address = excluded.address,
                    labels = excluded.labels,
                    certificate_fingerprint = COALESCE(excluded.certificate_fingerprint, nodes.certificate_fingerprint),
                    last_seen = COALESCE(excluded.last_seen, nodes.last_seen),
                    connection = excluded.connection,
                    push = CASE WHEN excluded.certificate_fingerprint IS NULL THEN nodes.push END
                """, .text(node.environment), .text(node.name), .text(node.site), .text(node.address), .text(labels),
                SQLValue(node.certificateFingerprint), SQLValue(node.lastSeen.map(Self.milliseconds)),
                .text(node.connection.rawValue))
            if existing?.text(0) != node.site || existing?.text(1) != node.address || existing?.text(2) != labels {
                _ = try Self.appendAudit(
                    AuditEvent(
                        actor: actor, action: existing == nil ? "node.add" : "node.update",
                        environment: node.environment,
                        object: node.name, detail: "site \(node.site), address \(node.address)"),
                    at: now, on: connection)
            }
        }
    }

    /// Registers how the orchestrator pushes to a node that cannot call out (an admin's act, audited):
    /// the node is added (pending until a push reaches it) or its registration replaced. A node that
    /// joins with a certificate later is a pull node again: joining clears it.
    package func registerPush(
        environment: String, node: String, site: String, target: PushTarget, actor: String, at now: Date = Date()
    ) async throws {
        let document = try Self.encode(target)
        try await transaction { connection in
            try connection.run(
                """
                INSERT INTO nodes (environment, name, site, address, labels, connection, push)
                VALUES ($1, $2, $3, $4, '{}', 'pending', $5)
                ON CONFLICT (environment, name) DO UPDATE SET site = excluded.site, address = excluded.address,
                    push = excluded.push
                """, .text(environment), .text(node), .text(site), .text(target.host), .text(document))
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: actor, action: "node.push-register", environment: environment, object: node,
                    detail: "ssh://\(target.user)@\(target.host):\(target.port), host key \(target.hostKey)"
                        + (target.jump.map { " through \($0)" } ?? "") + ", prefix \(target.prefix)"),
                at: now, on: connection)
        }
    }

    /// Every registered push target, by `environment/node`.
    package func pushTargets() async throws -> [String: PushTarget] {
        try await read { connection in
            var targets: [String: PushTarget] = [:]
            for row in try connection.query("SELECT environment, name, push FROM nodes WHERE push IS NOT NULL") {
                targets["\(row.text(0))/\(row.text(1))"] = try Self.decode(
                    PushTarget.self, row.text(2), what: "push target")
            }
            return targets
        }
    }

    /// Takes a node out for good: its certificates revoked, its record, desired state and last report
    /// gone, its unused join tokens spent, and the environment's serial moved on (plans that still
    /// name it are stale). Refused while its desired state gives it instances — a rollout removes them
    /// first — and, unless `force`, while it still reports running any. Returns the serials revoked.
    package func removeNode(
        environment: String, node: String, force: Bool, actor: String, at now: Date = Date()
    ) async throws -> [String] {
        try await transaction { connection in
            let (environmentValue, nodeValue) = (SQLValue.text(environment), SQLValue.text(node))
            let known =
                !(try connection.query(
                    "SELECT 1 FROM nodes WHERE environment = $1 AND name = $2", environmentValue, nodeValue
                ).isEmpty)
            let desired = try connection.query(
                "SELECT document FROM desired_states WHERE environment = $1 AND node = $2", environmentValue, nodeValue
            ).first.map { try Self.decode(NodeDesiredState.self, $0.text(0), what: "desired state") }
            guard known || desired != nil else {
                throw StoreError(.notFound, "there is no node \(node) in \(environment)")
            }
            if let services = desired?.instances.map(\.service).sorted(), !services.isEmpty {
                throw StoreError(
                    .conflict,
                    "\(node) still has \(services.joined(separator: ", ")) in its desired state: take it out of its site file and apply (or promote) first, so that a rollout removes them"
                )
            }
            let running =
                try connection.query(
                    "SELECT document FROM node_reports WHERE environment = $1 AND node = $2", environmentValue,
                    nodeValue
                ).first.map { try Self.decode(NodeReport.self, $0.text(0), what: "node report") }?.instances.map(
                    \.spec.service
                ).sorted() ?? []
            if !running.isEmpty, !force {
                throw StoreError(
                    .conflict,
                    "\(node) still reports running \(running.joined(separator: ", ")); wait until it has removed them, or remove it with --force when the node is gone for good"
                )
            }
            let serials = try Self.revokeCertificates(
                of: environment, node, except: nil, action: "certificate.revoke", actor: actor, at: now,
                on: connection)
            let time = SQLValue.integer(Int64(Self.milliseconds(now)))
            for table in [
                "nodes WHERE environment = $1 AND name = $2", "node_reports WHERE environment = $1 AND node = $2",
                "health_history WHERE environment = $1 AND node = $2",
            ] {
                try connection.run("DELETE FROM " + table, environmentValue, nodeValue)
            }
            try connection.run(
                "UPDATE join_tokens SET used_at = $3 WHERE environment = $1 AND node = $2 AND used_at IS NULL",
                environmentValue, nodeValue, time)
            try connection.run(
                "UPDATE environments SET serial = serial + 1, updated_at = $2 WHERE name = $1", environmentValue, time)
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: actor, action: "node.remove", environment: environment, object: node,
                    detail: running.isEmpty
                        ? "it ran nothing" : "forced: it still reported running \(running.joined(separator: ", "))"),
                at: now, on: connection)
            return serials
        }
    }

    private static let nodeColumns =
        "SELECT environment, name, site, address, labels, certificate_fingerprint, last_seen, connection FROM nodes"

    /// One node; nil when the environment has none of that name. What every agent's request asks
    /// about its own node: reading them all there made each wave of a rollout cost nodes² rows.
    package func node(environment: String, name: String) async throws -> NodeRecord? {
        try await read { connection in
            try connection.query(
                Self.nodeColumns + " WHERE environment = $1 AND name = $2", .text(environment), .text(name)
            ).first.map(Self.nodeRecord)
        }
    }

    /// Nodes of an environment (or all), sorted by environment and name.
    ///
    /// - Parameter only: just these nodes of the environment (the rollout engine reads a wave's).
    package func nodes(environment: String? = nil, only: Set<String>? = nil) async throws -> [NodeRecord] {
        try await read { connection in
            var sql = Self.nodeColumns
            var parameters = Self.filter(&sql, environment: environment)
            if let only {
                sql +=
                    (parameters.isEmpty ? " WHERE name" : " AND name") + connection.dialect.isIn(parameters.count + 1)
                parameters.append(.list(only))
            }
            return try connection.execute(sql + " ORDER BY environment, name", parameters).map(Self.nodeRecord)
        }
    }

    private static func nodeRecord(_ row: SQLRow) throws -> NodeRecord {
        NodeRecord(
            environment: row.text(0), name: row.text(1), site: row.text(2), address: row.text(3),
            labels: try decode([String: String].self, row.text(4), what: "node labels"),
            certificateFingerprint: row.optionalText(5), lastSeen: row.optionalInteger(6).map(date),
            connection: NodeRecord.Connection(rawValue: row.text(7)) ?? .pending)
    }

    /// The site a node joined for (its join token's); nil for a node that never joined.
    package func site(ofNode node: String, environment: String) async throws -> String? {
        try await read { connection in
            try connection.query(
                "SELECT site FROM nodes WHERE environment = $1 AND name = $2", .text(environment), .text(node)
            ).first?.text(0)
        }
    }

    /// Marks the nodes not seen since `cutoff` as disconnected; returns their names.
    package func markDisconnected(environment: String, notSeenSince cutoff: Date) async throws -> [String] {
        try await transaction { connection in
            try connection.query(
                """
                UPDATE nodes SET connection = 'disconnected'
                WHERE environment = $1 AND connection = 'connected' AND (last_seen IS NULL OR last_seen < $2)
                RETURNING name
                """, .text(environment), .integer(Int64(Self.milliseconds(cutoff)))
            ).map { $0.text(0) }.sorted()
        }
    }

    // MARK: Reports

    /// Stores what a node reported and marks it connected and seen now.
    ///
    /// Reports that arrive together are written in one transaction; this returns once this one is committed.
    package func recordReport(_ report: NodeReport, at now: Date = Date()) async throws {
        try await reports.submit(
            environment: report.environment, node: report.node, document: try Self.encode(report),
            healthy: report.instances.allSatisfy { $0.state == .running },
            health: report.instances.map { "\($0.spec.service)=\($0.state.rawValue)" }.sorted().joined(separator: ","),
            at: Self.milliseconds(now))
    }

    /// A node's health history, newest first: when the states of its instances changed, and to what
    /// (`[(service, state)]`, by service).
    package func healthHistory(
        environment: String, node: String, limit: Int = 50
    ) async throws -> [(at: Date, states: [(service: String, state: String)])] {
        try await read { connection in
            try connection.query(
                "SELECT at, health FROM health_history WHERE environment = $1 AND node = $2 ORDER BY at DESC LIMIT "
                    + String(min(max(limit, 1), ReportBatcher.historyLimit)), .text(environment), .text(node)
            ).map { row in
                let states = row.text(1).split(separator: ",").compactMap { pair -> (String, String)? in
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
                }
                return (Self.date(row.integer(0)), states)
            }
        }
    }

    /// When each node of `environment` last reported an instance that was not running healthy.
    package func lastUnhealthy(environment: String) async throws -> [String: Date] {
        try await read { connection in
            var result: [String: Date] = [:]
            for row in try connection.query(
                "SELECT node, unhealthy_at FROM node_reports WHERE environment = $1 AND unhealthy_at IS NOT NULL",
                .text(environment))
            {
                result[row.text(0)] = Self.date(row.integer(1))
            }
            return result
        }
    }

    /// The last report of each node of the environment, with when it arrived, by node name.
    ///
    /// - Parameter only: just these nodes' reports (the rollout engine reads those in flight).
    package func reports(
        environment: String, only: Set<String>? = nil
    ) async throws -> [String: (report: NodeReport, at: Date)] {
        try await read { connection in
            var result: [String: (report: NodeReport, at: Date)] = [:]
            for row in try connection.query(
                "SELECT node, reported_at, document FROM node_reports WHERE environment = $1", .text(environment),
                narrowing: "node", to: only.map { .list($0) })
            {
                result[row.text(0)] = (
                    try Self.decode(NodeReport.self, row.text(2), what: "node report"), Self.date(row.integer(1))
                )
            }
            return result
        }
    }

    /// The recorded actual state the planner compares against: the serial, what every node last
    /// reported running, and the fingerprints of the environment's secrets — read in one transaction,
    /// so they belong together.
    package func snapshot(environment: String) async throws -> StateSnapshot {
        try Self.decode(
            StateSnapshot.self, try await snapshotJSON(environment: environment).joined(), what: "state snapshot")
    }

    /// ``snapshot(environment:)`` as the JSON of a ``StateSnapshot``, in pieces (one per node) for a
    /// response to send as they are. The database picks each report's instance specs out of its stored
    /// document: 10,000 reports are neither decoded nor encoded again (that took seconds and hundreds
    /// of megabytes), and their order is the decoder's to restore.
    package func snapshotJSON(environment: String) async throws -> [String] {
        try await transaction { connection in
            let serial =
                try connection.query("SELECT serial FROM environments WHERE name = $1", .text(environment)).first?
                .integer(0) ?? 0
            // Where a node is: as it joined, else as its desired state places it.
            let specs =
                connection.dialect == .postgres
                ? """
                COALESCE(n.site, d.document::jsonb->>'site', ''), COALESCE(n.address, d.document::jsonb->>'address', ''),
                COALESCE((SELECT jsonb_agg(i->'spec') FROM jsonb_array_elements(r.document::jsonb->'instances') i),
                    '[]'::jsonb)::text
                """
                : """
                COALESCE(n.site, json_extract(d.document, '$.site'), ''),
                COALESCE(n.address, json_extract(d.document, '$.address'), ''),
                (SELECT json_group_array(json(json_extract(i.value, '$.spec'))) FROM json_each(r.document, '$.instances') i)
                """
            var pieces = ["{\"environment\":\(jsonQuoted(environment)),\"nodes\":{"]
            for row in try connection.query(
                """
                SELECT r.node, \(specs) FROM node_reports r
                LEFT JOIN nodes n ON n.environment = r.environment AND n.name = r.node
                LEFT JOIN desired_states d ON d.environment = r.environment AND d.node = r.node
                WHERE r.environment = $1
                """, .text(environment))
            {
                pieces.append(
                    (pieces.count == 1 ? "" : ",") + jsonQuoted(row.text(0)) + ":{\"address\":"
                        + jsonQuoted(row.text(2))
                        + ",\"instances\":" + row.text(3) + ",\"site\":" + jsonQuoted(row.text(1)) + "}")
            }
            let secrets = try connection.query(
                "SELECT name, fingerprint FROM secrets WHERE environment = $1", .text(environment)
            ).map { jsonQuoted($0.text(0)) + ":" + jsonQuoted($0.text(1)) }
            pieces.append("},\"secrets\":{" + secrets.joined(separator: ",") + "},\"serial\":\(serial)}")
            return pieces
        }
    }
}
