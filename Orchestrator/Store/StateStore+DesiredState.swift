import Database
package import Foundation
package import StellwerkAPI

extension StateStore {
    /// The environment's state serial: 0 until desired state is first written.
    package func serial(environment: String) async throws -> Int {
        try await read { connection in
            try connection.query("SELECT serial FROM environments WHERE name = $1", .text(environment)).first?.integer(
                0)
                ?? 0
        }
    }

    /// Every environment's serial, by name.
    package func serials() async throws -> [String: Int] {
        try await read { connection in
            Dictionary(
                try connection.query("SELECT name, serial FROM environments").map { ($0.text(0), $0.integer(1)) },
                uniquingKeysWith: max)
        }
    }

    /// The nodes whose desired state was written after serial `after`, with the serial each is at: what
    /// another server changed since this one last looked. A removed state leaves no row.
    package func desiredStateWrites(environment: String, after: Int) async throws -> [(node: String, serial: Int)] {
        try await read { connection in
            try connection.query(
                "SELECT node, serial FROM desired_states WHERE environment = $1 AND serial > $2", .text(environment),
                .integer(Int64(after))
            ).map { ($0.text(0), $0.integer(1)) }
        }
    }

    /// Every node's desired state in the environment, sorted by node name.
    package func desiredStates(environment: String) async throws -> [NodeDesiredState] {
        try await read { connection in
            try connection.query(
                "SELECT document FROM desired_states WHERE environment = $1 ORDER BY node", .text(environment)
            ).map { try Self.decode(NodeDesiredState.self, $0.text(0), what: "desired state") }
        }
    }

    /// Desired states with the serial each was written at, by node name; `only` decodes just those
    /// nodes (a rollout wave), the rest of the environment is skipped.
    package func desiredStatesByNode(
        environment: String, only: Set<String>? = nil
    ) async throws -> [String: (serial: Int, state: NodeDesiredState)] {
        try await read { connection in
            var result: [String: (serial: Int, state: NodeDesiredState)] = [:]
            for row in try connection.query(
                "SELECT node, serial, document FROM desired_states WHERE environment = $1", .text(environment),
                narrowing: "node", to: only.map { .list($0) })
            {
                result[row.text(0)] = (
                    row.integer(1), try Self.decode(NodeDesiredState.self, row.text(2), what: "desired state")
                )
            }
            return result
        }
    }

    /// Every desired state the orchestrator pushes over SSH (`transport: ssh`), in every environment,
    /// with the serial it was written at.
    package func pushedDesiredStates() async throws -> [(serial: Int, state: NodeDesiredState)] {
        try await read { connection in
            // The text test only narrows the rows down; the decoded state decides.
            try connection.query(
                "SELECT serial, document FROM desired_states WHERE document LIKE '%\"push\"%' ORDER BY environment, node"
            ).compactMap { row in
                // One state that cannot be read (the rollout engine says so) stops no other's push.
                guard let state = try? Self.decode(NodeDesiredState.self, row.text(1), what: "desired state"),
                    state.push != nil
                else { return nil }
                return (row.integer(0), state)
            }
        }
    }

    /// The serial of the node's desired state, with the state itself only when that serial is past
    /// `known`; nil when the node has none. Every long-poll asks this whenever its environment's
    /// state changes: the document is read and decoded only for the agents it is news to.
    package func desiredState(
        environment: String, node: String, newerThan known: Int
    ) async throws -> (serial: Int, state: NodeDesiredState?)? {
        try await read { connection in
            guard
                let row = try connection.query(
                    """
                    SELECT serial, CASE WHEN serial > $3 THEN document END FROM desired_states
                    WHERE environment = $1 AND node = $2
                    """, .text(environment), .text(node), .integer(Int64(known))
                ).first
            else { return nil }
            return (
                row.integer(0),
                try row.optionalText(1).map { try Self.decode(NodeDesiredState.self, $0, what: "desired state") }
            )
        }
    }

    /// Replaces the desired state of the given nodes (a node with no instances has its entry removed)
    /// and bumps the environment's serial, but only if the serial is still `expectedSerial`.
    ///
    /// - Returns: the new serial.
    /// - Throws: ``StoreError`` with code `staleSerial` when someone else changed the state first.
    package func writeDesiredStates(
        _ states: [NodeDesiredState], environment: String, expectedSerial: Int, actor: String, at now: Date = Date()
    ) async throws -> Int {
        for state in states where state.environment != environment {
            throw StoreError(
                .conflict, "node \(state.node) belongs to environment \(state.environment), not \(environment)")
        }
        let documents = try states.map { ($0.node, try Self.encode($0), $0.instances.isEmpty) }
        return try await transaction { connection in
            let nowValue = SQLValue.integer(Int64(Self.milliseconds(now)))
            try connection.run(
                "INSERT INTO environments (name, serial, updated_at) VALUES ($1, 0, $2) ON CONFLICT (name) DO NOTHING",
                .text(environment), nowValue)
            let current =
                try connection.query(
                    "SELECT serial FROM environments WHERE name = $1" + connection.dialect.forUpdate, .text(environment)
                ).first?.integer(0) ?? 0
            guard current == expectedSerial else {
                throw StoreError(
                    .staleSerial,
                    "the state of \(environment) is at serial \(current), but this change was planned at serial "
                        + "\(expectedSerial); plan again and review the new plan")
            }
            let serial = current + 1
            for (node, document, isEmpty) in documents {
                if isEmpty {
                    try connection.run(
                        "DELETE FROM desired_states WHERE environment = $1 AND node = $2", .text(environment),
                        .text(node))
                } else {
                    try connection.run(
                        """
                        INSERT INTO desired_states (environment, node, serial, document) VALUES ($1, $2, $3, $4)
                        ON CONFLICT (environment, node) DO UPDATE SET serial = excluded.serial, document = excluded.document
                        """, .text(environment), .text(node), .integer(Int64(serial)), .text(document))
                }
            }
            try connection.run(
                "UPDATE environments SET serial = $2, updated_at = $3 WHERE name = $1", .text(environment),
                .integer(Int64(serial)), nowValue)
            _ = try Self.appendAudit(
                AuditEvent(
                    actor: actor, action: "desired-state.write", environment: environment, object: environment,
                    detail: "serial \(current) → \(serial), \(documents.count) node(s)"),
                at: now, on: connection)
            return serial
        }
    }

    /// Writes the desired state a plan carries, refusing a plan computed from an older serial.
    package func apply(_ plan: Plan, actor: String, at now: Date = Date()) async throws -> Int {
        let states = plan.sites.flatMap { $0.nodes.map(\.desired) }
        do {
            return try await writeDesiredStates(
                states, environment: plan.environment, expectedSerial: plan.serial, actor: actor, at: now)
        } catch let error as StoreError where error.code == .staleSerial {
            throw StoreError(.staleSerial, "the plan is stale: \(error.message)")
        }
    }
}
