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
                    connection = excluded.connection
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

    /// Nodes of an environment (or all), sorted by environment and name.
    package func nodes(environment: String? = nil) async throws -> [NodeRecord] {
        try await read { connection in
            var sql = """
                SELECT environment, name, site, address, labels, certificate_fingerprint, last_seen, connection
                FROM nodes
                """
            let parameters = Self.filter(&sql, environment: environment)
            return try connection.execute(sql + " ORDER BY environment, name", parameters).map { row in
                NodeRecord(
                    environment: row.text(0), name: row.text(1), site: row.text(2), address: row.text(3),
                    labels: try Self.decode([String: String].self, row.text(4), what: "node labels"),
                    certificateFingerprint: row.optionalText(5), lastSeen: row.optionalInteger(6).map(Self.date),
                    connection: NodeRecord.Connection(rawValue: row.text(7)) ?? .pending)
            }
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
            healthy: report.instances.allSatisfy { $0.state == .running }, at: Self.milliseconds(now))
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
                "SELECT node, reported_at, document FROM node_reports WHERE environment = $1", .text(environment))
            where only?.contains(row.text(0)) ?? true {
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
        try await transaction { connection in
            let serial =
                try connection.query("SELECT serial FROM environments WHERE name = $1", .text(environment)).first?
                .integer(0) ?? 0
            var places: [String: (site: String, address: String)] = [:]
            for row in try connection.query(
                "SELECT name, site, address FROM nodes WHERE environment = $1", .text(environment))
            {
                places[row.text(0)] = (row.text(1), row.text(2))
            }
            for row in try connection.query(
                "SELECT node, document FROM desired_states WHERE environment = $1", .text(environment))
            where places[row.text(0)] == nil {
                let desired = try Self.decode(NodeDesiredState.self, row.text(1), what: "desired state")
                places[row.text(0)] = (desired.site, desired.address)
            }
            var nodes: [String: RecordedNode] = [:]
            for row in try connection.query(
                "SELECT node, document FROM node_reports WHERE environment = $1", .text(environment))
            {
                let report = try Self.decode(NodeReport.self, row.text(1), what: "node report")
                let place = places[row.text(0)] ?? ("", "")
                nodes[row.text(0)] = RecordedNode(
                    site: place.site, address: place.address,
                    instances: report.instances.map(\.spec).sorted { $0.service < $1.service })
            }
            var secrets: [String: String] = [:]
            for row in try connection.query(
                "SELECT name, fingerprint FROM secrets WHERE environment = $1", .text(environment))
            {
                secrets[row.text(0)] = row.text(1)
            }
            return StateSnapshot(serial: serial, environment: environment, nodes: nodes, secrets: secrets)
        }
    }
}
