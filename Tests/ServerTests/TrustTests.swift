import Foundation
import HTTPTransport
import Identity
import OrchestratorClient
import StellwerkAPI
import TestSupport
import Testing

/// What the orchestrator must not leave open (issue #18).
@Suite struct TrustTests {
    /// Node certificates that end when they should: a renewed certificate supersedes the one before
    /// once it is used, a node that joins anew leaves its old certificate behind at once, and an
    /// admin's revocation takes effect on the node's next request.
    @Test func renewal_supersedesOnFirstUse_rejoinAtOnce_andRevocationOnTheNextRequest() async throws {
        let cluster = try LocalCluster(block: 46, nodes: [LocalCluster.Node(name: "n1", site: "a")])
        defer { cluster.tearDown() }
        try await cluster.startServer()
        _ = try await cluster.join("n1", site: "a")
        let authority = try String(contentsOf: cluster.authorityFile, encoding: .utf8)
        let identity = NodeIdentity(folder: cluster.data(of: "n1").appendingPathComponent("identity"))
        let first = (
            try String(contentsOf: identity.certificateFile, encoding: .utf8),
            try String(contentsOf: identity.keyFile, encoding: .utf8)
        )
        func report(with certificate: (String, String)) async throws -> HTTPAnswer {
            let agent = try OrchestratorConnection(
                url: cluster.serverURL, authority: authority, clientCertificate: certificate)
            defer { Task { await agent.shutdown() } }
            return try await agent.exchange(
                .post, Endpoints.report.path,
                body: try JSONEncoder().encode(
                    NodeReport(node: "n1", environment: "e2e", desiredSerial: 0, instances: [])))
        }
        // Joined, but its agent has not reported: the status says so, not "connected".
        #expect(try await cluster.status().environments.first?.nodes.first?.connection == .joined)
        #expect(try await report(with: first).status == 204)
        #expect(try await cluster.status().environments.first?.nodes.first?.connection == .connected)
        let listed = try await nodes(cluster)
        #expect(listed.map(\.state) == [.valid])
        #expect(listed.first?.notAfter.map { $0.timeIntervalSinceNow > 29 * 86_400 } == true)

        // Renewal: the new certificate works, the old one too until the new one is first used.
        let (key, request) = try NodeIdentity.makeRequest()
        let renewing = try OrchestratorConnection(
            url: cluster.serverURL, authority: authority, clientCertificate: first)
        let renewed = try await renewing.send(.renewCertificate(RenewalRequest(certificateRequest: request)))
        await renewing.shutdown()
        let second = (renewed.certificate, key.pemRepresentation)
        #expect(try await report(with: first).status == 204, "an agent whose renewal answer was lost can go on")
        #expect(try await report(with: second).status == 204)
        let superseded = try await report(with: first)
        #expect(superseded.status == 403)
        #expect(try errorCode(superseded.body) == .forbidden)
        #expect(String(decoding: superseded.body, as: UTF8.self).contains("revoked or superseded"))

        // Joining anew (a lost disk, say): every earlier certificate is done at once.
        let token = try await cluster.stellwerk([
            "token", "create", "--env", "e2e", "--site", "a", "--node", "n1", "--ttl", "10m",
        ])
        let tokenFile = cluster.root.appendingPathComponent("n1-again.token")
        try Data(token.standardOutput.utf8).write(to: tokenFile)
        let again = cluster.root.appendingPathComponent("nodes/n1-again")
        let joined = try await ProcessRunner.run(
            "stellwerk-agent",
            [
                "join", cluster.serverURL, "--token-file", tokenFile.path, "--ca-fingerprint", cluster.fingerprint,
                "--data", again.path,
            ])
        #expect(joined.status == 0, "\(joined.standardError)")
        #expect(try await report(with: second).status == 403)
        let newIdentity = NodeIdentity(folder: again.appendingPathComponent("identity"))
        let third = (
            try String(contentsOf: newIdentity.certificateFile, encoding: .utf8),
            try String(contentsOf: newIdentity.keyFile, encoding: .utf8)
        )
        #expect(try await report(with: third).status == 204)
        #expect(try await nodes(cluster).map(\.state) == [.valid])

        // Revocation: only an admin of the environment; the very next request is refused.
        let created = try await cluster.stellwerk(["user", "create", "otto", "--role", "e2e=operator"])
        let operatorToken = created.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let notAllowed = try await cluster.stellwerk(["node", "revoke", "n1", "--env", "e2e"], token: operatorToken)
        #expect(notAllowed.status == 1)
        #expect(notAllowed.standardError.contains("may not administer"), "\(notAllowed.standardError)")
        #expect(try await report(with: third).status == 204)
        let unknown = try await cluster.stellwerk(["node", "revoke", "n9", "--env", "e2e"])
        #expect(unknown.status == 1)
        #expect(unknown.standardError.contains("there is no node n9 in e2e"), "\(unknown.standardError)")
        let revoked = try await cluster.stellwerk(["node", "revoke", "n1", "--env", "e2e"])
        #expect(revoked.status == 0, "\(revoked.standardError)")
        #expect(revoked.standardOutput.contains("It must join again"))
        #expect(try await report(with: third).status == 403)
        #expect(try await nodes(cluster).map(\.state) == [.revoked])
        let table = try await cluster.stellwerk(["node", "list", "--env", "e2e"])
        #expect(table.standardOutput.contains("revoked"), "\(table.standardOutput)")

        let audit = try await cluster.stellwerk(["audit", "list", "--json", "--limit", "100"])
        let actions = try WireJSON.decoder().decode([AuditEntryView].self, from: Data(audit.standardOutput.utf8))
            .filter { $0.action.hasPrefix("certificate.") }.map { "\($0.action) \($0.actor)" }
        #expect(
            actions == [
                "certificate.issue node:n1", "certificate.issue node:n1", "certificate.supersede node:n1",
                "certificate.issue node:n1", "certificate.supersede node:n1", "certificate.revoke user:admin",
            ], "\(actions)")
    }

    /// Short-lived certificates are renewed by the agent at two thirds of their life, even when the
    /// server is away at that moment: the agent asks again at its next look (a tenth of the
    /// lifetime), before the certificate expires.
    @Test func certificates_areRenewedInTime_evenWhenTheServerWasDownAtTheRenewalMoment() async throws {
        let cluster = try LocalCluster(block: 49, nodes: [LocalCluster.Node(name: "n1", site: "a")])
        defer { cluster.tearDown() }
        cluster.serverArguments = ["--node-certificate-lifetime", "90s"]
        try await cluster.startServer()
        _ = try await cluster.join("n1", site: "a")
        try cluster.startAgent("n1")
        let first = try #require(try await nodes(cluster).first)
        let identity = NodeIdentity(folder: cluster.data(of: "n1").appendingPathComponent("identity"))
        #expect(try !identity.renewalDue(), "a fresh certificate is not due for renewal")
        let joinedCertificate = try String(contentsOf: identity.certificateFile, encoding: .utf8)
        let issued = try #require(first.issuedAt)
        #expect(first.notAfter.map { (85...95).contains($0.timeIntervalSince(issued)) } == true)

        // Down from before the renewal moment (60 s) until after it.
        try await cluster.waitFor("the agent to report") { try await nodes(cluster).first?.connection == .connected }
        try await offloaded { cluster.stopServer() }  // a graceful stop waits for the agent's long-poll
        let agentLog = cluster.root.appendingPathComponent("n1.log")
        try await waitUntil("the agent tried to renew while the server was away", within: .seconds(120)) {
            ((try? String(contentsOf: agentLog, encoding: .utf8)) ?? "").contains(
                "renewing the node certificate failed")
        }
        let beforeRestart = try String(contentsOf: identity.certificateFile, encoding: .utf8)
        #expect(beforeRestart == joinedCertificate, "nothing renewed before the renewal moment")
        #expect(try identity.renewalDue(), "due while the server is away")
        try await cluster.startServer()
        try await cluster.waitFor("the agent to renew", seconds: 40) {
            guard let node = try await nodes(cluster).first else { return false }
            return node.serial != first.serial && node.connection == .connected
        }
        let renewed = try #require(try await nodes(cluster).first)
        #expect(try String(contentsOf: identity.certificateFile, encoding: .utf8) != beforeRestart)
        #expect(renewed.state == .valid, "\(renewed), now \(Date())")
        #expect(try #require(renewed.notAfter) > Date())
        let log = try String(contentsOf: cluster.root.appendingPathComponent("n1.log"), encoding: .utf8)
        #expect(log.contains("renewed the node certificate"), "\(log)")
    }

    /// The first admin token never lands in the server's log: standard output here is a file, so the
    /// token goes into a file only its user may read.
    @Test func firstAdminToken_goesIntoA0600File_notIntoTheLog() async throws {
        let cluster = try LocalCluster(block: 47, nodes: [LocalCluster.Node(name: "n1", site: "a")])
        defer { cluster.tearDown() }
        cluster.adminTokenFileOption = false
        try await cluster.startServer()
        let file = cluster.root.appendingPathComponent("server/admin.token")
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o777 } == 0o600)
        let log = try String(contentsOf: cluster.serverLog, encoding: .utf8)
        #expect(!log.contains(cluster.adminToken) && !log.contains("swo_"), "\(log)")
        #expect(log.contains("Its API token is in \(file.path) (mode 0600)"), "\(log)")
        let whoami = try await cluster.stellwerk(["status", "--env", "e2e"])
        #expect(whoami.status == 0, "\(whoami.standardError)")
    }

    /// Refusals are audited, floods are not stored: join attempts with made-up tokens from one address
    /// leave a few audit entries that account for every refusal, and past the limit of refusals
    /// (here 1 a minute, 3 at once) the address is told to wait; a node that joined with a valid token
    /// from the same address did not count.
    @Test func joinFlood_isRateLimited_andAuditedAsAFewEntries() async throws {
        let cluster = try LocalCluster(block: 48, nodes: [LocalCluster.Node(name: "n1", site: "a")])
        defer { cluster.tearDown() }
        cluster.serverArguments = ["--refused-joins-per-minute", "1"]
        try await cluster.startServer()
        _ = try await cluster.join("n1", site: "a")
        let anonymous = try OrchestratorConnection(
            url: cluster.serverURL, authority: try String(contentsOf: cluster.authorityFile, encoding: .utf8))
        let (_, request) = try NodeIdentity.makeRequest()
        var statuses: [Int] = []
        let started = Date()
        for attempt in 0..<12 {
            let answer = try await anonymous.exchange(
                .post, Endpoints.join.path,
                body: try JSONEncoder().encode(JoinRequest(token: "swj_guess-\(attempt)", certificateRequest: request)))
            statuses.append(answer.status)
        }
        // The bucket refills one a minute: on a slow machine a late try may be refused as 403 again.
        let refills = Int(Date().timeIntervalSince(started) / 60)
        await anonymous.shutdown()
        #expect(statuses.prefix(3) == [403, 403, 403], "\(statuses)")
        #expect(statuses.allSatisfy { $0 == 403 || $0 == 429 }, "\(statuses)")
        #expect(statuses.filter { $0 == 403 }.count <= 3 + refills, "\(statuses)")

        try await offloaded { cluster.stopServer() }  // a graceful stop writes the counts of the minute
        let audit = try await ProcessRunner.run(
            "stellwerk", ["audit", "list", "--json", "--store", "sqlite:\(cluster.root.path)/server/state.sqlite"])
        #expect(audit.status == 0, "\(audit.standardError)")
        let refused = try WireJSON.decoder().decode([AuditEntryView].self, from: Data(audit.standardOutput.utf8))
            .filter { $0.action == "request.refuse" }
        #expect(refused.allSatisfy { $0.actor == "anonymous@127.0.0.1" && $0.object == "POST /v1/join" })
        #expect(refused.count <= 8, "a few entries, not one a refusal: \(refused.map(\.detail))")
        #expect(refused.contains { $0.detail == "403: the join token is not known" })
        #expect(
            refused.contains { $0.detail.hasPrefix("429: too many refused join attempts from 127.0.0.1; try again in") }
        )
        // Every refusal is accounted for: a first entry counts one, "N more like this" counts N.
        for status in [403, 429] {
            let counted = refused.filter { $0.detail.hasPrefix("\(status): ") }.map { entry in
                let words = entry.detail.split(separator: " ")
                return words.count > 3 && words[2] == "more" ? Int(words[1]) ?? 0 : 1
            }.reduce(0, +)
            #expect(counted == statuses.filter { $0 == status }.count, "\(status): \(refused.map(\.detail))")
        }
    }

    /// Decommissioning: a node is removed only after a rollout took its instances away; then its
    /// certificate no longer works, the orchestrator forgets it, and plans that still named it are stale.
    @Test func nodeRemove_onlyAfterARolloutRemovedItsInstances_thenItsCertificateIsDone() async throws {
        let cluster = try LocalCluster(
            block: 52, nodes: [LocalCluster.Node(name: "n1", site: "a"), LocalCluster.Node(name: "n2", site: "b")])
        defer { cluster.tearDown() }
        try await cluster.start()
        let release = try await cluster.release(version: "1")
        let applied = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", release])
        #expect(applied.status == 0, "\(applied.standardOutput)\(applied.standardError)")

        let early = try await cluster.stellwerk(["node", "remove", "n2", "--env", "e2e", "--force"])
        #expect(early.status == 1)
        #expect(
            early.standardError.contains("n2 still has web in its desired state: take it out of its site file"),
            "\(early.standardError)")
        #expect(try await nodes(cluster).map(\.node) == ["n1", "n2"])

        // Taken out of the files and applied: the rollout removes its instance, then it can go.
        let saved = try await cluster.stellwerk(["plan", "--env", "e2e", "--release", release, "--json"])
        try FileManager.default.removeItem(
            at: cluster.workspace.appendingPathComponent("Environments/e2e/sites/b.yaml"))
        let removal = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", release])
        #expect(removal.status == 0, "\(removal.standardOutput)\(removal.standardError)")
        try await cluster.waitFor("n2 to report that it runs nothing", seconds: 60) {
            let status = try await cluster.status()
            return status.environments.first?.nodes.first { $0.node == "n2" }?.instances.isEmpty ?? false
        }
        let removed = try await cluster.stellwerk(["node", "remove", "n2", "--env", "e2e"])
        #expect(removed.status == 0, "\(removed.standardError)")
        #expect(try await nodes(cluster).map(\.node) == ["n1"])
        #expect(try await cluster.status().environments.first?.nodes.map(\.node) == ["n1"])
        let again = try await cluster.stellwerk(["node", "remove", "n2", "--env", "e2e"])
        #expect(again.status == 1)
        #expect(again.standardError.contains("there is no node n2 in e2e"), "\(again.standardError)")

        // Its certificate is done: the agent's next request is refused.
        let identity = NodeIdentity(folder: cluster.data(of: "n2").appendingPathComponent("identity"))
        let agent = try OrchestratorConnection(
            url: cluster.serverURL, authority: try String(contentsOf: cluster.authorityFile, encoding: .utf8),
            clientCertificate: (
                try String(contentsOf: identity.certificateFile, encoding: .utf8),
                try String(contentsOf: identity.keyFile, encoding: .utf8)
            ))
        let refused = try await agent.exchange(
            .post, Endpoints.report.path,
            body: try JSONEncoder().encode(NodeReport(node: "n2", environment: "e2e", desiredSerial: 0, instances: [])))
        await agent.shutdown()
        #expect(refused.status == 403)

        // A plan computed while n2 was still known is stale now.
        let stale = try await cluster.adminConnection().exchange(
            .post, Endpoints.startRollout.path, body: Data(#"{"plan": \#(saved.standardOutput)}"#.utf8))
        #expect(stale.status == 409)
        #expect(try errorCode(stale.body) == .stalePlan)
        let audit = try await cluster.stellwerk(["audit", "list", "--env", "e2e", "--limit", "1000", "--json"])
        let entries = try WireJSON.decoder().decode([AuditEntryView].self, from: Data(audit.standardOutput.utf8))
        let entry = try #require(entries.first { $0.action == "node.remove" })
        #expect(entry.object == "n2")
        #expect(entry.detail == "it ran nothing")
        #expect(entries.contains { $0.action == "certificate.revoke" && $0.object == "n2" })
    }

    /// Granting a role that may approve in live is a four-eyes change: the token works once a second
    /// admin approved the grant — not the admin who made it, nor anyone that admin made.
    @Test func governedGrants_waitForASecondAdmin_whoIsNoPuppetOfTheFirst() async throws {
        let cluster = try LocalCluster(
            block: 55,
            nodes: [
                LocalCluster.Node(name: "s1", site: "sa", environment: "sandbox"),
                LocalCluster.Node(name: "l1", site: "la", environment: "live"),
            ],
            environments: [
                "sandbox": "promotes_to: live\n" + LocalCluster.rolloutPolicy(),
                "live": LocalCluster.rolloutPolicy() + "\npromotion:\n  approvals: 1\n",
            ])
        defer { cluster.tearDown() }
        try await cluster.startServer()
        func created(_ name: String, _ role: String, by token: String? = nil) async throws -> (String, String) {
            let result = try await cluster.stellwerk(["user", "create", name, "--role", role], token: token)
            #expect(result.status == 0, "\(result.standardError)")
            return (result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines), result.standardError)
        }
        func signedIn(_ token: String) async throws -> ProcessRunner.Result {
            try await cluster.stellwerk(["promotion", "list"], token: token)
        }
        // Before live has a promotion source, the first admin grants alone.
        let (secondAdmin, _) = try await created("zweiter-admin", "*=admin")
        try await cluster.recordPolicies()

        let (gerd, said) = try await created("gerd", "live=approver", by: secondAdmin)
        #expect(said.contains("the token works once a second admin runs `stellwerk user approve gerd`"), "\(said)")
        let early = try await signedIn(gerd)
        #expect(early.status == 1)
        #expect(
            early.standardError.contains("wait for a second admin: `stellwerk user approve gerd`"),
            "\(early.standardError)")
        let (sina, quiet) = try await created("sina", "sandbox=approver", by: secondAdmin)
        #expect(!quiet.contains("second admin"))
        #expect(try await signedIn(sina).status == 0)
        let listed = try await cluster.stellwerk(["user", "list", "--json"])
        let users = try WireJSON.decoder().decode([UserView].self, from: Data(listed.standardOutput.utf8))
        #expect(users.first { $0.name == "gerd" }?.awaitingApproval == true)
        #expect(users.first { $0.name == "sina" }?.awaitingApproval == false)

        // Not the admin who granted it; a second admin does, and the token works from then on.
        let own = try await cluster.stellwerk(["user", "approve", "gerd"], token: secondAdmin)
        #expect(own.status == 1)
        #expect(
            own.standardError.contains("zweiter-admin granted gerd's roles and cannot also approve them"),
            "\(own.standardError)")
        let approved = try await cluster.stellwerk(["user", "approve", "gerd"])
        #expect(approved.status == 0, "\(approved.standardError)")
        #expect(try await signedIn(gerd).status == 0)
        let again = try await cluster.stellwerk(["user", "approve", "gerd"])
        #expect(again.status == 1)
        #expect(again.standardError.contains("gerd's roles wait for no approval"), "\(again.standardError)")

        // Nobody the granting admin made is a second person for their grants.
        let (puppetAdmin, _) = try await created("puppet-admin", "*=admin", by: secondAdmin)
        #expect(try await cluster.stellwerk(["user", "approve", "puppet-admin"]).status == 0)
        let (otto, _) = try await created("otto", "*=approver", by: secondAdmin)
        let byPuppet = try await cluster.stellwerk(["user", "approve", "otto"], token: puppetAdmin)
        #expect(byPuppet.status == 1)
        #expect(
            byPuppet.standardError.contains(
                "puppet-admin cannot approve otto's roles: puppet-admin was created by zweiter-admin, who requested it"),
            "\(byPuppet.standardError)")
        #expect(try await signedIn(otto).status == 1)
        // Every operator descends from the first admin: its grants wait for an admin it did not make,
        // so the admins it made grant, and it approves.
        _ = try await created("hans", "live=admin")
        let fromChild = try await cluster.stellwerk(["user", "approve", "hans"], token: secondAdmin)
        #expect(
            fromChild.standardError.contains("zweiter-admin was created by admin, who requested it"),
            "\(fromChild.standardError)")

        let audit = try await cluster.stellwerk(["audit", "list", "--limit", "1000", "--json"])
        let entries = try WireJSON.decoder().decode([AuditEntryView].self, from: Data(audit.standardOutput.utf8))
        #expect(entries.filter { $0.action == "user.approve" }.map(\.object) == ["gerd", "puppet-admin"])
        #expect(
            entries.contains {
                $0.action == "user.create" && $0.object == "gerd" && $0.detail.hasSuffix("waits for a second admin")
            })
    }

    private func nodes(_ cluster: LocalCluster) async throws -> [NodeCertificateView] {
        let listed = try await cluster.stellwerk(["node", "list", "--env", "e2e", "--json"])
        #expect(listed.status == 0, "\(listed.standardError)")
        return try WireJSON.decoder().decode([NodeCertificateView].self, from: Data(listed.standardOutput.utf8))
    }
}
