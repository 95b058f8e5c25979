import Foundation
import Identity
import OrchestratorClient
import StellwerkAPI
import TestSupport
import Testing

/// Secrets held by the orchestrator, with a real server, agents and services on loopback: set and
/// generated through the CLI, delivered only to the nodes that use them, rendered into their config
/// and nowhere else, rotated with a restart of exactly the instances that use them, and the key file
/// and a tampered store refused with the secret named.
@Suite(.serialized) struct SecretEndToEndTests {
    @Test func secrets_reachOnlyTheConfigsThatUseThem_andNothingElse() async throws {
        let cluster = try LocalCluster(block: 53, secrets: ["a": "a-token", "b": "b-token"])
        defer { cluster.tearDown() }
        try await cluster.start()
        let release = try await cluster.release(version: "1")

        // Nothing held yet: the plan names each reference the orchestrator cannot fill, where it is.
        let plan = try await cluster.stellwerk(["plan", "--env", "e2e", "--release", release])
        #expect(plan.status == 1)
        for (site, line, name) in [("a", 9, "a-token"), ("b", 7, "b-token")] {
            #expect(
                plan.standardError.contains(
                    "Environments/e2e/sites/\(site).yaml:\(line):38: error: the orchestrator holds no secret '\(name)' for e2e"
                ), "\(plan.standardError)")
        }
        #expect(plan.standardError.contains("stellwerk secret set a-token --env e2e --stdin"))
        let early = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", release])
        #expect(early.status == 1)
        #expect(try await cluster.adminConnection().send(.rollouts(environment: "e2e")).isEmpty)

        // Bad values are refused before anything is stored.
        let valueFolder = try Fixtures.temporaryFolder("stellwerk-secret-value")
        defer { try? FileManager.default.removeItem(at: valueFolder) }
        let empty = valueFolder.appendingPathComponent("empty")
        try Data("\n".utf8).write(to: empty)
        let large = valueFolder.appendingPathComponent("large")
        try Data(repeating: 0x61, count: 65_537).write(to: large)
        for (arguments, input, message) in [
            ([String](), nil as String?, "give the value with --from-file FILE or --stdin"),
            (["--stdin"], empty.path, "the value is empty"),
            (["--from-file", large.path], nil, "a secret may have at most 65536 bytes"),
        ] {
            let refused = try await cluster.stellwerk(
                ["secret", "set", "a-token", "--env", "e2e"] + arguments, standardInput: input)
            #expect(refused.status == 1)
            #expect(refused.standardError.contains(message), "\(refused.standardError)")
        }
        let api = try cluster.adminConnection()
        let tooLarge = try await api.exchange(
            .put, "/v1/environments/e2e/secrets/a-token",
            body: try JSONEncoder().encode(SecretValueRequest(value: String(repeating: "a", count: 65_537))))
        #expect(tooLarge.status == 400)
        #expect(String(decoding: tooLarge.body, as: UTF8.self).contains("at most 65536"))
        let badName = try await api.exchange(
            .put, "/v1/environments/e2e/secrets/Bad.Name",
            body: try JSONEncoder().encode(SecretValueRequest(value: "x")))
        #expect(badName.status == 400)
        #expect(try await api.send(.secrets("e2e")).isEmpty)

        // A planted value for site a from standard input, a generated one for site b.
        let planted = "planted-" + UUID().uuidString
        let valueFile = valueFolder.appendingPathComponent("value")
        try Data((planted + "\n").utf8).write(to: valueFile)
        let set = try await cluster.stellwerk(
            ["secret", "set", "a-token", "--env", "e2e", "--site", "a", "--stdin"], standardInput: valueFile.path)
        #expect(set.status == 0, "\(set.standardError)")
        #expect(set.standardOutput.contains("Secret a-token of e2e is at version 1"), "\(set.standardOutput)")
        try FileManager.default.removeItem(at: valueFile)
        let generated = try await cluster.stellwerk(["secret", "generate", "b-token", "--env", "e2e"])
        #expect(generated.status == 0, "\(generated.standardError)")
        let again = try await cluster.stellwerk(["secret", "generate", "b-token", "--env", "e2e"])
        #expect(again.status == 1)
        #expect(again.standardError.contains("exists in e2e already"), "\(again.standardError)")

        // The server checks a plan's secrets too: one it does not hold, one changed since the plan.
        let saved = try await cluster.stellwerk(["plan", "--env", "e2e", "--release", release, "--json"])
        #expect(saved.status == 0, "\(saved.standardError)")
        // A node's site is the one it joined for: a plan that moves n3 into site a is refused.
        var moved = try WireJSON.decoder().decode(Plan.self, from: Data(saved.standardOutput.utf8))
        for site in moved.sites.indices {
            for node in moved.sites[site].nodes.indices where moved.sites[site].nodes[node].node == "n3" {
                moved.sites[site].nodes[node].desired.site = "a"
            }
        }
        let spoofed = try await api.exchange(
            .post, Endpoints.startRollout.path, body: try WireJSON.encoder().encode(ApplyRequest(plan: moved)))
        #expect(spoofed.status == 409)
        #expect(
            String(decoding: spoofed.body, as: UTF8.self).contains(
                "n3 joined for the site b, but the plan places it in a"))
        let deleted = try await cluster.stellwerk(["secret", "delete", "b-token", "--env", "e2e"])
        #expect(deleted.status == 0, "\(deleted.standardError)")
        let notHeld = try await api.exchange(
            .post, Endpoints.startRollout.path, body: Data(#"{"plan": \#(saved.standardOutput)}"#.utf8))
        #expect(notHeld.status == 409)
        #expect(
            String(decoding: notHeld.body, as: UTF8.self).contains(
                "web on n3 uses the secret 'b-token', which the orchestrator does not hold for e2e"))
        #expect(try await cluster.stellwerk(["secret", "generate", "b-token", "--env", "e2e"]).status == 0)
        let changedSince = try await api.exchange(
            .post, Endpoints.startRollout.path, body: Data(#"{"plan": \#(saved.standardOutput)}"#.utf8))
        #expect(changedSince.status == 409)
        #expect(try errorCode(changedSince.body) == .stalePlan)
        #expect(try await api.send(.rollouts(environment: "e2e")).isEmpty)

        let applied = try await cluster.stellwerk(["apply", "--env", "e2e", "--release", release])
        #expect(applied.status == 0, "\(applied.standardOutput)\(applied.standardError)")
        let http = try OrchestratorConnection(
            url: "", authority: try String(contentsOf: cluster.authorityFile, encoding: .utf8))
        defer { Task { await http.shutdown() } }
        func rendered(_ node: String) async throws -> String {
            let reply = try await http.exchange(.get, "http://\(cluster.addresses[node]!):\(cluster.servicePort)/file")
            return String(decoding: reply.body, as: UTF8.self)
        }
        #expect(try await rendered("n1") == "token=\(planted)")
        #expect(try await rendered("n2") == "token=\(planted)")
        let siteB = try await rendered("n3")
        #expect(siteB.hasPrefix("token=") && siteB.count > 40 && !siteB.contains(planted), "\(siteB)")

        // Listed by name, version and use; never a value.
        let listed = try await cluster.stellwerk(["secret", "list", "--env", "e2e", "--json"])
        let secrets = try WireJSON.decoder().decode([SecretView].self, from: Data(listed.standardOutput.utf8))
        #expect(secrets.map(\.name) == ["a-token", "b-token"])
        #expect(secrets[0].usedBy == ["a/n1/web", "a/n2/web"])
        #expect(secrets[0].site == "a")
        #expect(secrets[1].usedBy == ["b/n3/web"])
        #expect(secrets[1].kind == .token)
        #expect(!listed.standardOutput.contains(planted))
        let table = try await cluster.stellwerk(["secret", "list", "--env", "e2e"])
        #expect(table.standardOutput.contains("a-token"), "\(table.standardOutput)")
        let deleteUsed = try await cluster.stellwerk(["secret", "delete", "a-token", "--env", "e2e"])
        #expect(deleteUsed.status == 1)
        #expect(deleteUsed.standardError.contains("is used by a/n1/web, a/n2/web"), "\(deleteUsed.standardError)")
        // This server does not reveal values (only `stellwerk up`'s does).
        let shown = try await cluster.stellwerk(["secret", "show", "a-token", "--env", "e2e"])
        #expect(shown.status == 1)
        #expect(shown.standardError.contains("does not reveal secret values"), "\(shown.standardError)")

        // Rotating b-token restarts n3's instance only, with the new value.
        let pids = Dictionary(
            uniqueKeysWithValues: ["n1", "n2", "n3"].map {
                ($0, PromotionEndToEndTests.servicePID(address: cluster.addresses[$0]!))
            })
        let rotated = try await cluster.stellwerk(["secret", "rotate", "b-token", "--env", "e2e"])
        #expect(rotated.status == 0, "\(rotated.standardError)")
        #expect(rotated.standardOutput.contains("version 2"), "\(rotated.standardOutput)")
        // Until a plan with it is applied, n3 is not given the new value (its state names the old one).
        let n3 = try cluster.agentConnection("n3")
        let before = try #require(try await n3.send(.desiredState(known: -1, wait: 0)))
        let n3Identity = NodeIdentity(folder: cluster.data(of: "n3").appendingPathComponent("identity"))
        let withheld = try SecretSealing.open(
            try #require(before.secrets), with: try n3Identity.privateKey(), environment: "e2e", node: "n3",
            serial: before.serial)
        #expect(withheld.values.isEmpty)
        #expect(
            withheld.refused["b-token"]?.contains(
                "secret 'b-token' changed (version 2) after this node's desired state was written") == true)
        await n3.shutdown()
        let changed = try await cluster.stellwerk(["plan", "--env", "e2e", "--release", release, "--json"])
        #expect(changed.standardOutput.contains("\"secret\""), "\(changed.standardOutput)")
        let rendering = try await cluster.stellwerk(["plan", "--env", "e2e", "--release", release])
        #expect(rendering.standardOutput.contains("secret token changed"), "\(rendering.standardOutput)")
        // While its rollout runs, the secret stays as planned. n3's agent is stopped until the
        // rollout is paused, so the rollout is surely still running when the pause comes.
        cluster.stopAgent("n3")
        let started = try await api.exchange(
            .post, Endpoints.startRollout.path, body: Data(#"{"plan": \#(changed.standardOutput)}"#.utf8))
        #expect(started.status == 201, "\(String(decoding: started.body, as: UTF8.self))")
        let rollout = try WireJSON.decoder().decode(RolloutView.self, from: started.body)
        // Paused once its wave began; once its nodes finished it stays paused (not succeeded) until
        // resumed.
        try await cluster.waitFor("the rollout's wave to begin") {
            try await api.send(.rollout(rollout.id)).steps.contains { $0.state == .installing }
        }
        #expect(try await api.send(.pauseRollout(rollout.id)).state == .paused)
        try cluster.startAgent("n3")
        try await cluster.waitFor("the paused rollout's nodes to finish") {
            try await api.send(.rollout(rollout.id)).steps.allSatisfy { $0.state == .done }
        }
        #expect(try await api.send(.rollout(rollout.id)).state == .paused)
        let during = try await cluster.stellwerk(["secret", "rotate", "b-token", "--env", "e2e"])
        #expect(during.status == 1)
        #expect(
            during.standardError.contains(
                "rollout \(rollout.id) is paused in e2e; change secret 'b-token' once it ended"),
            "\(during.standardError)")
        // Resumed with nothing left to do, it may have ended by the time the answer is read.
        #expect([.running, .succeeded].contains(try await api.send(.resumeRollout(rollout.id)).state))
        try await cluster.waitFor("the rollout of the rotated secret to succeed") {
            try await api.send(.rollout(rollout.id)).state == .succeeded
        }
        let newSiteB = try await rendered("n3")
        #expect(newSiteB.hasPrefix("token=") && newSiteB != siteB)
        #expect(PromotionEndToEndTests.servicePID(address: cluster.addresses["n3"]!) != pids["n3"]!)
        #expect(PromotionEndToEndTests.servicePID(address: cluster.addresses["n1"]!) == pids["n1"]!)
        #expect(PromotionEndToEndTests.servicePID(address: cluster.addresses["n2"]!) == pids["n2"]!)

        // A restarted agent asks for its secrets again (it never saved them) and its service runs on.
        cluster.stopAgent("n1")
        try cluster.startAgent("n1")
        try await cluster.waitFor("n1's service to run again with its secret") {
            (try? await rendered("n1")) == "token=\(planted)"
        }

        // The planted value is in the rendered configs of site a and nowhere else: not in the store,
        // the agents' journals, desired states and reports, the logs, nor any command line.
        let leaks = Self.files(under: cluster.root).filter { file in
            guard let data = FileManager.default.contents(atPath: file.path) else { return false }
            return data.range(of: Data(planted.utf8)) != nil
        }
        #expect(leaks.allSatisfy { $0.lastPathComponent == "token.conf" }, "\(leaks.map(\.path))")
        #expect(Set(leaks.map { $0.path.components(separatedBy: "/nodes/")[1].prefix(2) }) == ["n1", "n2"])
        for file in leaks {
            let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file.path)")
        }
        #expect(Self.commandLinesContaining(planted).isEmpty)
        let audit = try await cluster.stellwerk(["audit", "list", "--env", "e2e", "--limit", "1000", "--json"])
        #expect(!audit.standardOutput.contains(planted))
        let actions = try WireJSON.decoder().decode([AuditEntryView].self, from: Data(audit.standardOutput.utf8))
            .filter { $0.action.hasPrefix("secret.") }.map { "\($0.action) \($0.object)" }
        #expect(
            actions == [
                "secret.set a-token", "secret.generate b-token", "secret.delete b-token", "secret.generate b-token",
                "secret.rotate b-token",
            ])

        // A ciphertext altered in the store: the server does not deliver it, and says which.
        try Self.tamper(secret: "b-token", in: cluster.root.appendingPathComponent("server/state.sqlite"))
        let afterTamper = try await api.send(.secrets("e2e"))
        #expect(afterTamper.first { $0.name == "b-token" }?.problem?.contains("fails its authentication") == true)
        #expect(afterTamper.first { $0.name == "a-token" }?.problem == nil)
        let agent = try cluster.agentConnection("n3")
        let delivered = try #require(try await agent.send(.desiredState(known: -1, wait: 0)))
        let identity = NodeIdentity(folder: cluster.data(of: "n3").appendingPathComponent("identity"))
        let opened = try SecretSealing.open(
            try #require(delivered.secrets), with: try identity.privateKey(), environment: "e2e", node: "n3",
            serial: delivered.serial)
        await agent.shutdown()
        #expect(opened.values.isEmpty)
        #expect(opened.refused["b-token"]?.contains("secret 'b-token' in e2e fails its authentication") == true)
        await api.shutdown()
    }

    @Test func keyFile_wrongModeOrAnotherKey_refusesToStart_andARotationSealsAgain() async throws {
        let cluster = try LocalCluster(block: 54, nodes: [LocalCluster.Node(name: "n1", site: "a")])
        defer { cluster.tearDown() }
        try await cluster.startServer()
        let generated = try await cluster.stellwerk([
            "secret", "generate", "spare", "--env", "e2e", "--kind", "password",
        ])
        #expect(generated.status == 0, "\(generated.standardError)")
        let before = try await cluster.adminConnection().send(.secrets("e2e"))
        cluster.stopServer()

        let data = cluster.root.appendingPathComponent("server")
        let key = data.appendingPathComponent("secrets.key")
        func start(_ options: [String]) async throws -> ProcessRunner.Result {
            try await ProcessRunner.run(
                "stellwerk", ["server", "--data", data.path, "--listen", "127.0.0.1:1"] + options)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key.path)
        let open = try await start([])
        #expect(open.status == 1)
        #expect(
            open.standardError.contains("is readable by others (mode 644); run `chmod 600"), "\(open.standardError)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key.path)

        let missing = try await start(["--secrets-key", cluster.root.appendingPathComponent("nope.key").path])
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("nope.key does not exist"), "\(missing.standardError)")

        let newKey = cluster.root.appendingPathComponent("new.key")
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
        try PrivateFiles.write(Data((Data(bytes).base64EncodedString() + "\n").utf8), to: newKey)
        let other = try await start(["--secrets-key", newKey.path])
        #expect(other.status == 1)
        // The store's keys are the first thing it cannot open: the orchestrator's own CA and signing key.
        #expect(
            other.standardError.contains(
                "the store holds the orchestrator's CA and signing key (kept by server-"), "\(other.standardError)")
        #expect(
            other.standardError.contains("sealed with a key-encryption key this server was not given"),
            "\(other.standardError)")

        // The rotation: the new key, the old one as previous; the secret keeps version and fingerprint.
        cluster.serverArguments = ["--secrets-key", newKey.path, "--previous-secrets-key", key.path]
        try await cluster.startServer()
        let log = try String(contentsOf: cluster.serverLog, encoding: .utf8)
        #expect(log.contains("Sealed 1 secrets again with the current key-encryption key"), "\(log)")
        let after = try await cluster.adminConnection().send(.secrets("e2e"))
        #expect(after.map(\.fingerprint) == before.map(\.fingerprint))
        #expect(after.map(\.version) == [1])
        #expect(after.first?.problem == nil)
        cluster.stopServer()
        // The old key alone no longer opens it.
        let old = try await start([])
        #expect(old.status == 1)
        #expect(
            old.standardError.contains("start every server of one store with the same --secrets-key file"),
            "\(old.standardError)")
    }

    /// Every regular file under `folder`, however deep.
    static func files(under folder: URL) -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        else { return [] }
        return walker.compactMap { $0 as? URL }.filter {
            (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true
        }
    }

    /// Processes whose command line holds `text`.
    static func commandLinesContaining(_ text: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return data.range(of: Data(text.utf8)) != nil
        }
    }

    /// Flips one byte of a secret's stored ciphertext, as someone with write access to the store might.
    static func tamper(secret: String, in store: URL) throws {
        let script = """
            import base64, sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            (text,) = db.execute("SELECT ciphertext FROM secrets WHERE name = ?", (sys.argv[2],)).fetchone()
            version, key, body = text.split(".")
            raw = bytearray(base64.b64decode(body))
            raw[len(raw) // 2] ^= 1
            db.execute("UPDATE secrets SET ciphertext = ? WHERE name = ?",
                       (".".join([version, key, base64.b64encode(bytes(raw)).decode()]), sys.argv[2]))
            db.commit()
            """
        let status = try Spawn.run("/usr/bin/python3", ["-c", script, store.path, secret]).status
        #expect(status == 0)
    }
}
