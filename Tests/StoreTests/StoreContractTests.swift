import Database
import Foundation
import Model
import Planner
import StellwerkAPI
import TestSupport
import Testing

@testable import Store

/// One contract, run unchanged against SQLite and PostgreSQL.
@Suite struct StoreContractTests {
    private func withStore(_ kind: StoreKind, _ body: (StateStore, StoreFixture) async throws -> Void) async throws {
        let fixture = try await StoreFixture.make(kind)
        let store = try await fixture.open()
        defer { store.close() }
        try await body(store, fixture)
    }

    // MARK: Schema

    @Test(arguments: StoreKind.allCases)
    func open_onAnEmptyDatabase_migratesToTheLatestSchema(kind: StoreKind) async throws {
        try await withStore(kind) { store, fixture in
            #expect(try await store.schemaVersion() == StoreSchema.latestVersion)
            store.close()
            // Opening again changes nothing and keeps working.
            let again = try await fixture.open()
            defer { again.close() }
            #expect(try await again.schemaVersion() == StoreSchema.latestVersion)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func open_whenTheSchemaIsNewerThanKnown_refusesWithAClearMessage(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        try await fixture.open().close()
        try await fixture.tamper("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)")
        await #expect {
            try await fixture.open()
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .schemaTooNew && error?.message.contains("schema version 99") == true
                && error?.message.contains("upgrade stellwerk") == true
        }
    }

    @Test(arguments: StoreKind.allCases)
    func open_atTheFirstSchemaVersion_isMigratedForwardKeepingData(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let old = try await fixture.open(schemaVersion: 1)
        #expect(try await old.schemaVersion() == 1)
        old.close()
        try await fixture.tamper(
            """
            INSERT INTO environments (name, serial, updated_at) VALUES ('sandbox', 3, 0);
            INSERT INTO audit_log (seq, at, actor, action, environment, object, detail, previous_hash, hash)
            VALUES (1, 0, 'operator:anna', 'desired-state.write', 'sandbox', 'sandbox', 'serial 2 → 3', '',
                '\(AuditEntry.hash(sequence: 1, at: Date(timeIntervalSince1970: 0), actor: "operator:anna", action: "desired-state.write", environment: "sandbox", object: "sandbox", detail: "serial 2 → 3", previousHash: ""))')
            """)
        let store = try await fixture.open()
        defer { store.close() }
        #expect(try await store.schemaVersion() == StoreSchema.latestVersion)
        #expect(try await store.serial(environment: "sandbox") == 3)
        #expect(try await store.verifyAudit().isIntact)
        try await store.audit(AuditEvent(actor: "operator:ben", action: "check", object: "x"))
        let entries = try await store.auditEntries()
        #expect(entries.map(\.sequence) == [1, 2])
        #expect(try await store.verifyAudit() == AuditVerification(entries: 2, problems: []))
    }

    // MARK: Desired state and serials

    @Test(arguments: StoreKind.allCases)
    func desiredState_whenWrittenWithTheCurrentSerial_bumpsItAndReadsBack(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            #expect(try await store.serial(environment: "sandbox") == 0)
            let states = [
                StoreSamples.desired("n1", services: ["catalog", "portal"]),
                StoreSamples.desired("n2", services: ["sensors"]),
            ]
            let serial = try await store.writeDesiredStates(
                states, environment: "sandbox", expectedSerial: 0, actor: "operator:anna")
            #expect(serial == 1)
            #expect(try await store.serial(environment: "sandbox") == 1)
            #expect(try await store.desiredStates(environment: "sandbox") == states)
            #expect(try await store.desiredState(environment: "sandbox", node: "n2", newerThan: -1)?.serial == 1)
            #expect(try await store.serial(environment: "live") == 0)
            // A long-poll gets the document only when it is news to its agent.
            let news = try await store.desiredState(environment: "sandbox", node: "n2", newerThan: 0)
            #expect(news?.serial == 1 && news?.state == states[1])
            let known = try await store.desiredState(environment: "sandbox", node: "n2", newerThan: 1)
            #expect(known?.serial == 1 && known?.state == nil)
            #expect(try await store.desiredState(environment: "sandbox", node: "n9", newerThan: 0) == nil)
            // The database narrows the rows down to the nodes asked for.
            #expect(
                try await store.desiredStatesByNode(environment: "sandbox", only: ["n2", "n9"]).keys.sorted() == ["n2"])
            #expect(try await store.desiredStatesByNode(environment: "sandbox", only: []).isEmpty)
            let written = try await store.desiredStateWrites(environment: "sandbox", after: 0)
            #expect(written.map(\.node).sorted() == ["n1", "n2"] && written.allSatisfy { $0.serial == 1 })
            #expect(try await store.desiredStateWrites(environment: "sandbox", after: 1).isEmpty)

            // A node whose desired state becomes empty loses its entry.
            let next = try await store.writeDesiredStates(
                [StoreSamples.desired("n2", services: [])], environment: "sandbox", expectedSerial: 1,
                actor: "operator:anna")
            #expect(next == 2)
            #expect(try await store.desiredStates(environment: "sandbox").map(\.node) == ["n1"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func desiredState_whenWrittenWithAStaleSerial_isRefusedAndChangesNothing(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let first = [StoreSamples.desired("n1", services: ["catalog"])]
            _ = try await store.writeDesiredStates(
                first, environment: "sandbox", expectedSerial: 0, actor: "operator:anna")
            await #expect {
                try await store.writeDesiredStates(
                    [StoreSamples.desired("n1", services: ["portal"])], environment: "sandbox", expectedSerial: 0,
                    actor: "operator:ben")
            } throws: { error in
                let error = error as? StoreError
                return error?.code == .staleSerial && error?.message.contains("serial 1") == true
                    && error?.message.contains("plan again") == true
            }
            #expect(try await store.desiredStates(environment: "sandbox") == first)
            #expect(try await store.serial(environment: "sandbox") == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func desiredState_whenTwoWritersRace_exactlyOneWins(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let first = try await fixture.open()
        let second = try await fixture.open()
        defer {
            first.close()
            second.close()
        }
        for round in 0..<10 {
            async let a = Result(catching: {
                try await first.writeDesiredStates(
                    [StoreSamples.desired("n1", services: ["catalog"])], environment: "sandbox", expectedSerial: round,
                    actor: "operator:a")
            })
            async let b = Result(catching: {
                try await second.writeDesiredStates(
                    [StoreSamples.desired("n1", services: ["portal"])], environment: "sandbox", expectedSerial: round,
                    actor: "operator:b")
            })
            let results = await [a, b]
            let wins = results.filter { (try? $0.get()) == round + 1 }.count
            #expect(wins == 1, "round \(round): \(results)")
            for case .failure(let error) in results {
                #expect((error as? StoreError)?.code == .staleSerial, "\(error)")
            }
        }
        #expect(try await first.serial(environment: "sandbox") == 10)
    }

    @Test(arguments: StoreKind.allCases)
    func apply_ofASavedPlan_writesItsDesiredStateAndRefusesItOnceStale(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let workspace = try Fixtures.load(Fixtures.files())
            let environment = try EnvironmentResolver(workspace: workspace).resolve("sandbox")
            let plan = Planner(release: nil).plan(
                environment, revision: workspace.revision, recorded: try await store.snapshot(environment: "sandbox"))
            #expect(plan.serial == 0)

            let serial = try await store.apply(plan, actor: "operator:anna")
            #expect(serial == 1)
            #expect(try await store.desiredStates(environment: "sandbox").map(\.node) == ["alpha-1", "beta-1"])

            await #expect {
                try await store.apply(plan, actor: "operator:anna")
            } throws: { error in
                (error as? StoreError)?.code == .staleSerial
                    && (error as? StoreError)?.message.hasPrefix(
                        "the plan is stale: the state of sandbox is at serial 1") == true
            }
            let audit = try await store.auditEntries(environment: "sandbox")
            #expect(audit.map(\.action) == ["desired-state.write"])
            #expect(audit.first?.actor == "operator:anna")
        }
    }

    // MARK: Reports and snapshots

    @Test(arguments: StoreKind.allCases)
    func snapshot_afterAgentsReportTheirDesiredState_makesTheNextPlanEmpty(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let workspace = try Fixtures.load(Fixtures.files())
            let environment = try EnvironmentResolver(workspace: workspace).resolve("sandbox")
            let planner = Planner(release: nil)
            try await store.putSecret(
                SecretRecord(
                    environment: "sandbox", name: "alpha-token", ciphertext: "c2VhbGVk", fingerprint: "fp-1",
                    updatedAt: StoreSamples.start, updatedBy: "operator:anna"))
            let plan = planner.plan(
                environment, revision: workspace.revision, recorded: try await store.snapshot(environment: "sandbox"))
            #expect(plan.warnings.allSatisfy { !$0.contains("alpha-token") })
            _ = try await store.apply(plan, actor: "operator:anna")
            for site in environment.sites {
                for node in site.nodes {
                    try await store.upsertNode(
                        NodeRecord(
                            environment: "sandbox", name: node.name, site: site.name, address: node.address,
                            labels: node.labels),
                        actor: "operator:anna")
                }
            }
            for state in try await store.desiredStates(environment: "sandbox") {
                let report = NodeReport(
                    node: state.node, environment: "sandbox", desiredSerial: 1,
                    instances: state.instances.map {
                        InstanceReport(spec: $0.reported, state: .running, health: "ok", lastError: nil, drift: [])
                    })
                try await store.recordReport(report, at: StoreSamples.start)
            }
            let snapshot = try await store.snapshot(environment: "sandbox")
            #expect(snapshot.serial == 1)
            #expect(snapshot.secrets == ["alpha-token": "fp-1"])
            #expect(snapshot.nodes["beta-1"]?.site == "beta")
            #expect(snapshot.nodes["beta-1"]?.address == "127.0.2.1")
            let next = planner.plan(environment, revision: workspace.revision, recorded: snapshot)
            #expect(next.isEmpty)
            #expect(next.serial == 1)
            let nodes = try await store.nodes(environment: "sandbox")
            #expect(nodes.map(\.connection) == [.connected, .connected])
            #expect(nodes.first?.lastSeen == StoreSamples.start)
            let reports = try await store.reports(environment: "sandbox")
            #expect(reports["alpha-1"]?.report.instances.map(\.state) == [.running, .running])
            // The database narrows the rows down to the nodes asked for.
            #expect(
                try await store.reports(environment: "sandbox", only: ["beta-1", "gamma-9"]).keys.sorted() == ["beta-1"]
            )
            #expect(try await store.nodes(environment: "sandbox", only: ["alpha-1"]).map(\.name) == ["alpha-1"])
            #expect(try await store.nodes(only: ["alpha-1", "beta-1"]).map(\.name) == ["alpha-1", "beta-1"])
            // The snapshot carries each reported spec whole, in service order.
            for state in try await store.desiredStates(environment: "sandbox") {
                #expect(
                    snapshot.nodes[state.node]?.instances
                        == state.instances.map(\.reported).sorted { $0.service < $1.service })
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func nodes_notSeenForAWhile_areMarkedDisconnected(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            for (name, seen) in [("n1", 0.0), ("n2", 300.0)] {
                try await store.upsertNode(
                    NodeRecord(
                        environment: "live", name: name, site: "s", address: "127.0.8.\(name.count)",
                        labels: ["role": "app"]),
                    actor: "operator:anna")
                try await store.recordReport(
                    NodeReport(node: name, environment: "live", desiredSerial: nil, instances: []),
                    at: StoreSamples.start.addingTimeInterval(seen))
            }
            let lost = try await store.markDisconnected(
                environment: "live", notSeenSince: StoreSamples.start.addingTimeInterval(120))
            #expect(lost == ["n1"])
            #expect(try await store.nodes(environment: "live").map(\.connection) == [.disconnected, .connected])
            #expect(try await store.lastUnhealthy(environment: "live").isEmpty)

            // Back from its silence, a healthy report still starts a soak over: n1's return counts
            // as a hiccup, n2's next report does not.
            let back = StoreSamples.start.addingTimeInterval(600)
            for name in ["n1", "n2"] {
                try await store.recordReport(
                    NodeReport(node: name, environment: "live", desiredSerial: nil, instances: []), at: back)
            }
            #expect(try await store.lastUnhealthy(environment: "live") == ["n1": back])
            #expect(try await store.nodes(environment: "live").map(\.connection) == [.connected, .connected])
            // One node read on its own is the same record as in the list; another environment's is not.
            let listed = try await store.nodes(environment: "live")
            #expect(try await store.node(environment: "live", name: "n2") == listed.last)
            #expect(try await store.node(environment: "sandbox", name: "n2") == nil)
            #expect(try await store.node(environment: "live", name: "n3") == nil)
        }
    }

    /// A node's health history has a line per change of its instances' states, not per report, the
    /// newest first and at most 200; removing the node removes it.
    @Test(arguments: StoreKind.allCases)
    func healthHistory_keepsEachChange_once(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let workspace = try Fixtures.load(Fixtures.files())
            let environment = try EnvironmentResolver(workspace: workspace).resolve("sandbox")
            let plan = Planner(release: nil).plan(
                environment, revision: workspace.revision, recorded: try await store.snapshot(environment: "sandbox"))
            _ = try await store.apply(plan, actor: "operator:anna")
            let desired = try #require(try await store.desiredStates(environment: "sandbox").first)
            func report(_ state: InstanceReport.State, at seconds: Double) async throws {
                try await store.recordReport(
                    NodeReport(
                        node: desired.node, environment: "sandbox", desiredSerial: 1,
                        instances: desired.instances.map {
                            InstanceReport(spec: $0.reported, state: state, health: nil, lastError: nil, drift: [])
                        }), at: StoreSamples.start.addingTimeInterval(seconds))
            }
            for (state, seconds) in [
                (InstanceReport.State.starting, 0.0), (.running, 5), (.running, 10), (.unhealthy, 15), (.unhealthy, 20),
            ] {
                try await report(state, at: seconds)
            }
            let history = try await store.healthHistory(environment: "sandbox", node: desired.node)
            #expect(history.map(\.at) == [15, 5, 0].map { StoreSamples.start.addingTimeInterval($0) })
            #expect(history.first?.states.map(\.state) == desired.instances.map { _ in "unhealthy" })
            #expect(history.first?.states.map(\.service) == desired.instances.map(\.service).sorted())
            for index in 0..<210 {
                try await report(index.isMultiple(of: 2) ? .running : .stopped, at: 100 + Double(index))
            }
            #expect(try await store.healthHistory(environment: "sandbox", node: desired.node, limit: 1000).count == 200)
        }
    }

    // MARK: Leases

    @Test(arguments: StoreKind.allCases)
    func lease_isExclusiveUntilItExpiresOrIsReleased(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = StoreSamples.start
            let held = try await store.acquireLease("rollout/sandbox", holder: "orchestrator-a", for: 30, at: t0)
            #expect(held?.holder == "orchestrator-a")
            #expect(held?.expiresAt == t0.addingTimeInterval(30))
            #expect(
                try await store.acquireLease(
                    "rollout/sandbox", holder: "orchestrator-b", for: 30, at: t0.addingTimeInterval(10)) == nil)

            // The holder renews; the other still cannot take it.
            let renewed = try await store.renewLease(
                "rollout/sandbox", holder: "orchestrator-a", for: 30, at: t0.addingTimeInterval(20))
            #expect(renewed?.expiresAt == t0.addingTimeInterval(50))
            #expect(renewed?.acquiredAt == t0)
            #expect(
                try await store.renewLease(
                    "rollout/sandbox", holder: "orchestrator-b", for: 30, at: t0.addingTimeInterval(20)) == nil)
            #expect(
                try await store.acquireLease(
                    "rollout/sandbox", holder: "orchestrator-b", for: 30, at: t0.addingTimeInterval(49)) == nil)

            // Expired: the holder can no longer renew, the other takes it.
            #expect(
                try await store.renewLease(
                    "rollout/sandbox", holder: "orchestrator-a", for: 30, at: t0.addingTimeInterval(51)) == nil)
            let taken = try await store.acquireLease(
                "rollout/sandbox", holder: "orchestrator-b", for: 30, at: t0.addingTimeInterval(51))
            #expect(taken?.holder == "orchestrator-b")
            #expect(taken?.acquiredAt == t0.addingTimeInterval(51))

            // Release: only by the holder.
            #expect(try await store.releaseLease("rollout/sandbox", holder: "orchestrator-a") == false)
            #expect(try await store.releaseLease("rollout/sandbox", holder: "orchestrator-b") == true)
            #expect(
                try await store.acquireLease(
                    "rollout/sandbox", holder: "orchestrator-a", for: 30, at: t0.addingTimeInterval(52)) != nil)
            #expect(try await store.leases().map(\.name) == ["rollout/sandbox"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func artifact_countsAsStoredOnlyWithEveryChunk_andStoringAChunkAgainChangesNothing(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let sha = String(repeating: "ab", count: 32)
            let chunks = [Data([1, 2, 3]), Data([4, 5]), Data([6])]
            try await store.storeArtifactChunk(sha, seq: 0, bytes: chunks[0])
            try await store.storeArtifactChunk(sha, seq: 1, bytes: chunks[1])
            // A server that stopped halfway left two of three: not an artifact anyone hands out.
            await #expect(throws: StoreError.self) {
                try await store.completeArtifact(sha, size: 6, chunks: 3, by: "server-a")
            }
            #expect(try await store.storedArtifact(sha) == nil)
            // Another server stores the same artifact from the start: the same rows, and then it is whole.
            for (seq, bytes) in chunks.enumerated() { try await store.storeArtifactChunk(sha, seq: seq, bytes: bytes) }
            try await store.completeArtifact(sha, size: 6, chunks: 3, by: "server-b")
            try await store.completeArtifact(sha, size: 6, chunks: 3, by: "server-a")
            #expect(try await store.storedArtifact(sha) == StoredArtifact(sha256: sha, size: 6, chunks: 3))
            #expect(try await store.artifactChunk(sha, seq: 1) == chunks[1])
            #expect(try await store.artifactChunk(sha, seq: 3) == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func servers_areListedWhileTheyAnnounceThemselves_andNotOnceWithdrawn(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = StoreSamples.start
            try await store.announceServer("server-a", url: "https://a.example:8443", at: t0)
            try await store.announceServer("server-b", url: "https://b.example:8443", at: t0.addingTimeInterval(10))
            #expect(
                try await store.servers(seenSince: t0).map(\.url) == [
                    "https://a.example:8443", "https://b.example:8443",
                ])
            // A not heard of since: left out; it comes back when it speaks again, at its new address.
            #expect(try await store.servers(seenSince: t0.addingTimeInterval(5)).map(\.id) == ["server-b"])
            try await store.announceServer("server-a", url: "https://a2.example:8443", at: t0.addingTimeInterval(20))
            #expect(
                try await store.servers(seenSince: t0.addingTimeInterval(5)).map(\.url) == [
                    "https://a2.example:8443", "https://b.example:8443",
                ])
            try await store.withdrawServer("server-b")
            #expect(try await store.servers(seenSince: t0).map(\.id) == ["server-a"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func lease_whenTwoClientsContendConcurrently_neverHasTwoHolders(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let first = try await fixture.open()
        let second = try await fixture.open()
        defer {
            first.close()
            second.close()
        }
        for round in 0..<20 {
            let name = "leader-\(round)"
            let now = StoreSamples.start.addingTimeInterval(Double(round))
            async let a = first.acquireLease(name, holder: "a", for: 15, at: now)
            async let b = second.acquireLease(name, holder: "b", for: 15, at: now)
            let winners = try await [a, b].compactMap { $0?.holder }
            #expect(winners.count == 1, "round \(round): \(winners)")
            let stored = try await first.leases().first { $0.name == name }
            #expect(stored?.holder == winners.first)
        }
        // Many attempts at once on one name, from both clients: one holder throughout.
        try await withThrowingTaskGroup(of: String?.self) { group in
            for index in 0..<40 {
                let store = index.isMultiple(of: 2) ? first : second
                group.addTask {
                    try await store.acquireLease("busy", holder: "h\(index)", for: 60, at: StoreSamples.start)?.holder
                }
            }
            var winners: [String] = []
            for try await winner in group { if let winner { winners.append(winner) } }
            #expect(winners.count == 1, "\(winners)")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func breakingALock_removesItWhoeverHoldsItAndIsAudited(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            _ = try await store.acquireLease("rollout/live", holder: "orchestrator-a", for: 600, at: StoreSamples.start)
            let broken = try await store.breakLease(
                "rollout/live", actor: "operator:anna", at: StoreSamples.start.addingTimeInterval(5))
            #expect(broken.holder == "orchestrator-a")
            #expect(try await store.leases().isEmpty)
            let entry = try #require(try await store.auditEntries().last)
            #expect(entry.action == "lock.break")
            #expect(entry.actor == "operator:anna")
            #expect(entry.object == "rollout/live")
            #expect(entry.detail.hasPrefix("was held by orchestrator-a"))
            await #expect {
                try await store.breakLease("rollout/live", actor: "operator:anna")
            } throws: { ($0 as? StoreError)?.code == .notFound }
        }
    }

    // MARK: Audit log

    private func writeSomeHistory(_ store: StateStore) async throws {
        for index in 0..<5 {
            try await store.audit(
                AuditEvent(
                    actor: "operator:anna", action: "test.step", environment: "sandbox", object: "o\(index)",
                    detail: "step \(index)"),
                at: StoreSamples.start.addingTimeInterval(Double(index)))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func audit_whenUntouched_verifies(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            #expect(try await store.verifyAudit() == AuditVerification(entries: 0, problems: []))
            try await writeSomeHistory(store)
            #expect(try await store.verifyAudit() == AuditVerification(entries: 5, problems: []))
            #expect(try await store.auditEntries(limit: 2).map(\.sequence) == [4, 5])
            #expect(try await store.auditEntries(environment: "live").isEmpty)
        }
    }

    @Test(arguments: [
        (StoreKind.sqlite, "UPDATE audit_log SET detail = 'step 9' WHERE seq = 3", "entry 3 was modified"),
        (StoreKind.postgres, "UPDATE audit_log SET detail = 'step 9' WHERE seq = 3", "entry 3 was modified"),
        (StoreKind.sqlite, "UPDATE audit_log SET actor = 'operator:mallory' WHERE seq = 1", "entry 1 was modified"),
        (StoreKind.postgres, "UPDATE audit_log SET actor = 'operator:mallory' WHERE seq = 1", "entry 1 was modified"),
        (StoreKind.sqlite, "DELETE FROM audit_log WHERE seq = 2", "entry 2 is missing"),
        (StoreKind.postgres, "DELETE FROM audit_log WHERE seq = 2", "entry 2 is missing"),
        (StoreKind.sqlite, "DELETE FROM audit_log WHERE seq = 5", "the newest entries were removed"),
        (StoreKind.postgres, "DELETE FROM audit_log WHERE seq = 5", "the newest entries were removed"),
        (
            StoreKind.sqlite,
            "UPDATE audit_log SET seq = 100 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 100",
            "entry 2 was modified"
        ),
        (
            StoreKind.postgres,
            "UPDATE audit_log SET seq = 100 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 100",
            "entry 2 was modified"
        ),
    ])
    func audit_whenEditedBehindTheStoresBack_namesTheEntry(
        kind: StoreKind, tampering: String, expected: String
    ) async throws {
        try await withStore(kind) { store, fixture in
            try await writeSomeHistory(store)
            try await fixture.tamper(tampering)
            let verification = try await store.verifyAudit()
            #expect(!verification.isIntact)
            #expect(verification.problems.first?.contains(expected) == true, "\(verification.problems)")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func audit_whenAnEntryIsReplacedWithAWellHashedForgery_detectsTheBrokenLink(kind: StoreKind) async throws {
        try await withStore(kind) { store, fixture in
            try await writeSomeHistory(store)
            // A forger who recomputes entry 3's own hash still cannot make entry 4 point at it.
            let at = StoreSamples.start.addingTimeInterval(2)
            let previous = try #require(try await store.auditEntries().first { $0.sequence == 2 }).hash
            let forged = AuditEntry.hash(
                sequence: 3, at: at, actor: "operator:mallory", action: "test.step", environment: "sandbox",
                object: "o2",
                detail: "step 2", previousHash: previous)
            try await fixture.tamper(
                "UPDATE audit_log SET actor = 'operator:mallory', hash = '\(forged)' WHERE seq = 3")
            let problems = try await store.verifyAudit().problems
            #expect(problems == ["entry 4 does not follow entry 3: entries were reordered or replaced"])
        }
    }

    // MARK: Releases, tokens, certificates, secrets

    @Test(arguments: StoreKind.allCases)
    func releases_areImmutable(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let release = ReleaseManifest(
                id: "r-1", version: "2026.11.1", revision: "abc",
                components: [
                    "datenplattform": ComponentArtifact(
                        sha256: String(repeating: "b", count: 64), size: 10, migrations: ["0001"])
                ])
            try await store.storeRelease(release, actor: "operator:anna")
            try await store.storeRelease(release, actor: "operator:anna")
            #expect(try await store.release(id: "r-1") == release)
            var changed = release
            changed.version = "2026.11.2"
            await #expect {
                try await store.storeRelease(changed, actor: "operator:anna")
            } throws: { ($0 as? StoreError)?.code == .conflict }
            #expect(try await store.releases() == [release])
            #expect(try await store.auditEntries().filter { $0.action == "release.create" }.count == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func joinToken_isSingleUseAndExpires_andEveryRefusalIsAudited(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = StoreSamples.start
            for (id, node) in [("tok-1", "kl-sbx-1"), ("tok-2", "kl-sbx-2")] {
                try await store.createJoinToken(
                    JoinTokenRecord(
                        id: id, tokenHash: "hash-\(id)", environment: "sandbox", site: "kaiserslautern", node: node,
                        expiresAt: t0.addingTimeInterval(3600), usedAt: nil, createdBy: "operator:anna", createdAt: t0),
                    actor: "operator:anna")
            }
            let redeemed = try await store.redeemJoinToken(hash: "hash-tok-1", at: t0.addingTimeInterval(60))
            #expect(redeemed.node == "kl-sbx-1")
            #expect(redeemed.usedAt == t0.addingTimeInterval(60))

            for (hash, at, message) in [
                ("hash-tok-1", 120.0, "the join token was used already (tok-1, node kl-sbx-1)"),
                ("hash-tok-2", 3601.0, "the join token expired (tok-2, node kl-sbx-2)"),
                ("hash-nope", 10.0, "the join token is not known"),
            ] {
                await #expect {
                    try await store.redeemJoinToken(hash: hash, at: t0.addingTimeInterval(at))
                } throws: { ($0 as? StoreError)?.message == message }
            }
            // Refusals are the server's to audit, a minute's repeats in one entry (RefusalAudit): one
            // entry each here would let anyone grow the store.
            let actions = try await store.auditEntries().map(\.action)
            #expect(actions == ["token.create", "token.create", "token.redeem"])
            let tokens = try await store.joinTokens(environment: "sandbox")
            #expect(Set(tokens.map(\.tokenHash)) == ["hash-tok-1", "hash-tok-2"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func certificates_areFoundByFingerprintAndBindTheirNode(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.upsertNode(
                NodeRecord(
                    environment: "sandbox", name: "kl-sbx-1", site: "kaiserslautern", address: "127.0.1.1", labels: [:]),
                actor: "operator:anna")
            let certificate = CertificateRecord(
                serial: "01", environment: "sandbox", node: "kl-sbx-1", fingerprint: "fp-cert",
                notAfter: StoreSamples.start.addingTimeInterval(86400),
                issuedAt: StoreSamples.start, revokedAt: nil)
            try await store.recordCertificate(certificate, actor: "orchestrator")
            #expect(try await store.certificate(fingerprint: "fp-cert") == certificate)
            #expect(try await store.certificate(fingerprint: "other") == nil)
            #expect(try await store.nodes(environment: "sandbox").first?.certificateFingerprint == "fp-cert")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func secrets_keepOnlyCiphertextAndNeverLogTheirValue(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let secret = SecretRecord(
                environment: "live", name: "catalog-admin-token", ciphertext: "Y2lwaGVydGV4dA==", fingerprint: "fp-a",
                updatedAt: StoreSamples.start, updatedBy: "operator:anna", site: "kusel")
            #expect(try await store.putSecret(secret).version == 1)
            var rotated = secret
            rotated.ciphertext = "bmV3"
            rotated.fingerprint = "fp-b"
            rotated.version = 2
            #expect(try await store.putSecret(rotated, change: .rotate) == rotated)
            #expect(try await store.secret(environment: "live", name: "catalog-admin-token") == rotated)
            #expect(try await store.secret(environment: "sandbox", name: "catalog-admin-token") == nil)
            #expect(try await store.secrets(environment: "live").map(\.name) == ["catalog-admin-token"])

            // Generating takes a free name only; rotating needs one that exists.
            await #expect(throws: StoreError.self) { try await store.putSecret(secret, change: .generate) }
            var other = secret
            other.name = "missing"
            await #expect(throws: StoreError.self) { try await store.putSecret(other, change: .rotate) }
            #expect(try await store.secret(environment: "live", name: "catalog-admin-token")?.version == 2)
            // Set again without a site: the site limit stays.
            var again = rotated
            again.site = nil
            let stored = try await store.putSecret(again)
            #expect(stored.version == 3)
            #expect(stored.site == "kusel")

            // A new key-encryption key: new ciphertext, same version and fingerprint.
            // Only over the ciphertext it replaces: one changed meanwhile stays.
            try await store.resealSecrets(
                [("live", "catalog-admin-token", "b3RoZXI=", "bm90LXRoaXM=")], actor: "orchestrator")
            #expect(try await store.secret(environment: "live", name: "catalog-admin-token")?.ciphertext == "bmV3")
            try await store.resealSecrets(
                [("live", "catalog-admin-token", "bmV3", "cmVzZWFsZWQ=")], actor: "orchestrator")
            let resealed = try await store.secret(environment: "live", name: "catalog-admin-token")
            #expect(resealed?.ciphertext == "cmVzZWFsZWQ=")
            #expect(resealed?.version == 3)
            #expect(resealed?.fingerprint == "fp-b")

            try await store.deleteSecret(environment: "live", name: "catalog-admin-token", actor: "operator:anna")
            #expect(try await store.allSecrets().isEmpty)
            await #expect(throws: StoreError.self) {
                try await store.deleteSecret(environment: "live", name: "catalog-admin-token", actor: "operator:anna")
            }
            let entries = try await store.auditEntries()
            #expect(
                entries.map { "\($0.action) \($0.detail)" } == [
                    "secret.set version 1, value, site kusel", "secret.rotate version 2, value, site kusel",
                    "secret.set version 3, value, site kusel",
                    "secrets.reseal 1 sealed again with the current key-encryption key", "secret.delete version 3",
                ])
            #expect(entries.allSatisfy { !$0.detail.contains("Y2lw") && !$0.detail.contains("bmV3") })
        }
    }

    // MARK: Rollouts and promotions

    @Test(arguments: StoreKind.allCases)
    func rollouts_keepTheirDocumentTargetsAndStateChanges(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = StoreSamples.start
            let rollout = RolloutRecord(
                id: "ro-1", environment: "sandbox", release: "r-1", serial: 1, state: .running, document: "{}",
                createdAt: t0, updatedAt: t0)
            func state(_ node: String, release: String) -> NodeDesiredState {
                NodeDesiredState(node: node, site: "s", environment: "sandbox", address: "127.0.0.1", instances: [])
            }
            try await store.createRollout(
                rollout,
                targets: [
                    RolloutTarget(node: "n1", target: state("n1", release: "r-1"), previous: nil),
                    RolloutTarget(
                        node: "n2", target: state("n2", release: "r-1"), previous: state("n2", release: "r-0")),
                ], actor: "operator:anna")
            try await store.updateRollout(
                id: "ro-1", state: .running, document: #"{"steps": 2}"#, actor: "orchestrator",
                at: t0.addingTimeInterval(5))
            try await store.updateRollout(
                id: "ro-1", state: .succeeded, actor: "orchestrator", at: t0.addingTimeInterval(9))
            let stored = try #require(try await store.rollout(id: "ro-1"))
            #expect(stored.state == .succeeded)
            #expect(stored.document == #"{"steps": 2}"#, "where the steps stand lives in the document alone")
            #expect(stored.updatedAt == t0.addingTimeInterval(9))
            let targets = try await store.rolloutTargets(id: "ro-1")
            #expect(targets.keys.sorted() == [0, 1])
            #expect(targets[0]?.node == "n1" && targets[0]?.previous == nil)
            #expect(targets[1]?.previous?.node == "n2")
            #expect(try await store.rolloutTargets(id: "ro-1", positions: [1]).keys.sorted() == [1])
            #expect(try await store.rollouts(environment: "sandbox").map(\.id) == ["ro-1"])
            #expect(try await store.auditEntries().map(\.action) == ["rollout.start", "rollout.succeeded"])
            await #expect {
                try await store.updateRollout(id: "nope", state: .succeeded, actor: "orchestrator")
            } throws: { ($0 as? StoreError)?.code == .notFound }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func stateColumns_holdingAValueThisVersionDoesNotKnow_areRefusedWithAClearError(kind: StoreKind) async throws {
        try await withStore(kind) { store, fixture in
            let t0 = StoreSamples.start
            try await store.createRollout(
                RolloutRecord(
                    id: "ro-2", environment: "sandbox", release: "r-1", serial: 1, state: .running, document: "{}",
                    createdAt: t0, updatedAt: t0), targets: [], actor: "operator:anna")
            try await fixture.tamper("UPDATE rollouts SET state = 'teleporting' WHERE id = 'ro-2'")
            await #expect {
                _ = try await store.rollout(id: "ro-2")
            } throws: { error in
                let message = (error as? StoreError)?.message ?? ""
                return message.contains("'teleporting'") && message.contains("rollout state")
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func promotions_refuseTheRequestersOwnApproval(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = StoreSamples.start
            try await store.createPromotion(
                PromotionRecord(
                    id: "pr-1", release: "r-1", source: "sandbox", target: "live", requestedBy: "operator:anna",
                    state: .waiting, document: "{}", createdAt: t0, updatedAt: t0))
            await #expect {
                try await store.recordApproval(
                    ApprovalRecord(
                        promotion: "pr-1", approver: "operator:anna", decision: .approve, reason: "", createdAt: t0))
            } throws: { ($0 as? StoreError)?.message.contains("cannot also decide on it") == true }
            try await store.recordApproval(
                ApprovalRecord(
                    promotion: "pr-1", approver: "operator:ben", decision: .approve, reason: "looks good",
                    createdAt: t0))
            let stored = try #require(try await store.promotion(id: "pr-1"))
            #expect(stored.approvals.map(\.approver) == ["operator:ben"])
            #expect(
                try await store.auditEntries(environment: "live").map(\.action) == [
                    "promotion.request", "promotion.approve",
                ])
        }
    }

    /// Four eyes with a sock puppet (issue #18): an approver the requester created, directly or
    /// through an operator they created, or anyone made an operator after the request, does not count
    /// as a second person.
    @Test(arguments: StoreKind.allCases)
    func promotions_refuseApproversTheRequesterMade_orMadeAfterTheRequest(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = StoreSamples.start
            for (name, creator, at) in [
                ("anna", "server", -60.0), ("bob", "user:anna", -30), ("carl", "user:bob", -20),
                ("erik", "user:admin", -10), ("dora", "user:admin", 30),
            ] {
                try await store.createOperator(
                    OperatorRecord(
                        name: name, tokenHash: "hash-\(name)", roles: ["*": .admin], createdBy: creator,
                        createdAt: t0.addingTimeInterval(at)))
            }
            try await store.createPromotion(
                PromotionRecord(
                    id: "pr-1", release: "r-1", source: "sandbox", target: "live", requestedBy: "anna",
                    state: .waiting, document: "{}", createdAt: t0, updatedAt: t0))
            for (approver, reason) in [
                ("bob", "bob was created by anna, who requested it"),
                ("carl", "carl was created by an operator that anna, who requested it, created"),
                ("dora", "dora became an operator after the promotion was requested"),
            ] {
                await #expect {
                    try await store.recordApproval(
                        ApprovalRecord(
                            promotion: "pr-1", approver: approver, decision: .approve, reason: "", createdAt: t0))
                } throws: { error in
                    (error as? StoreError)?.message == "\(approver) cannot decide on promotion pr-1: \(reason)"
                }
            }
            try await store.recordApproval(
                ApprovalRecord(promotion: "pr-1", approver: "erik", decision: .approve, reason: "", createdAt: t0))
            #expect(try #require(try await store.promotion(id: "pr-1")).approvals.map(\.approver) == ["erik"])
        }
    }

    /// Environment policies on both databases: a proposal waits, the same four-eyes rules as for
    /// promotions hold, an approval names the digest it read, and approving records and clears it.
    @Test(arguments: StoreKind.allCases)
    func policies_waitForASecondApprover_whoMustBeASecondPerson(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = StoreSamples.start
            for (name, creator, at) in [
                ("anna", "server", -60.0), ("bob", "user:anna", -30), ("erik", "user:admin", -10),
                ("dora", "user:admin", 30),
            ] {
                try await store.createOperator(
                    OperatorRecord(
                        name: name, tokenHash: "hash-\(name)", roles: ["*": .approver], createdBy: creator,
                        createdAt: t0.addingTimeInterval(at)))
            }
            #expect(try await store.policy(environment: "live") == nil)
            try await store.recordPolicy(
                environment: "sandbox",
                PolicyRecord.Entry(document: "{}", digest: "d-sandbox", by: "anna", approvedBy: nil, at: t0),
                replacing: nil, actor: "user:anna", detail: "first")
            #expect(try await store.policy(environment: "sandbox")?.recorded?.digest == "d-sandbox")
            // Recorded at once only over the policy the caller judged: one that changed meanwhile stays.
            await #expect {
                try await store.recordPolicy(
                    environment: "sandbox",
                    PolicyRecord.Entry(document: "{}", digest: "d-late", by: "bob", approvedBy: nil, at: t0),
                    replacing: nil, actor: "user:bob", detail: "late")
            } throws: { error in
                (error as? StoreError)?.message
                    == "the policy of sandbox changed meanwhile; look at it again with `stellwerk policy show --env sandbox`"
            }
            #expect(try await store.policy(environment: "sandbox")?.recorded?.digest == "d-sandbox")
            let proposal = PolicyRecord.Entry(
                document: #"{"a":1}"#, digest: "d-1", by: "anna", approvedBy: nil, at: t0)
            try await store.proposePolicy(environment: "live", proposal, actor: "user:anna", detail: "first")
            let waiting = try #require(try await store.policy(environment: "live"))
            #expect(waiting.recorded == nil)
            #expect(waiting.proposed == proposal)
            for (approver, digest, message) in [
                ("anna", "d-1", "anna proposed the policy change of live and cannot also approve it"),
                (
                    "bob", "d-1",
                    "bob cannot approve the policy change of live: bob was created by anna, who requested it"
                ),
                (
                    "dora", "d-1",
                    "dora cannot approve the policy change of live: dora became an operator after the policy change was requested"
                ),
                (
                    "erik", "d-2",
                    "the policy change of live waiting now has digest d-1, not d-2: it was proposed again; read it with `stellwerk policy show --env live` and approve that"
                ),
            ] {
                await #expect {
                    try await store.approvePolicy(
                        environment: "live", digest: digest, approver: approver, actor: "user:\(approver)", at: t0)
                } throws: { error in
                    (error as? StoreError)?.message == message
                }
            }
            try await store.approvePolicy(
                environment: "live", digest: "d-1", approver: "erik", actor: "user:erik", at: t0.addingTimeInterval(5))
            let recorded = try #require(try await store.policy(environment: "live"))
            #expect(recorded.proposed == nil)
            #expect(recorded.recorded?.digest == "d-1")
            #expect(recorded.recorded?.by == "anna")
            #expect(recorded.recorded?.approvedBy == "erik")
            #expect(
                try await store.auditEntries(environment: "live").map(\.action) == ["policy.propose", "policy.approve"])
        }
    }
}

/// TLS to PostgreSQL, when the URL asks for it.
@Suite struct PostgresTLSTests {
    @Test(.enabled(if: PostgresServer.shouldRun))
    func postgresStore_withVerifyFull_connectsOverTLSAndRefusesAServerItCannotVerify() async throws {
        let server = try await PostgresServer.shared()
        let url = try await server.createDatabase()
        let verified = try await StateStore.open(
            .postgres(url: url + "?sslmode=verify-full&sslrootcert=\(server.certificateAuthority)"), connections: 1)
        defer { verified.close() }
        let encrypted = try await verified.pool.withConnection { connection in
            try connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first?.text(0)
        }
        #expect(encrypted == "t")

        // A CA that did not sign the server's certificate: the connection is refused, with the reason.
        let otherCA = try Fixtures.temporaryFolder("stellwerk-ca").appendingPathComponent("other.crt").path
        let status = try await offloaded {
            try Spawn.run(
                "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                    "-subj", "/CN=other", "-keyout", otherCA + ".key", "-out", otherCA,
                ]
            ).status
        }
        #expect(status == 0)
        await #expect {
            try await StateStore.open(
                .postgres(url: url + "?sslmode=verify-full&sslrootcert=\(otherCA)"), connections: 1)
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .unavailable && error?.message.contains("certificate verify failed") == true
        }
    }
}
