import Foundation
import OrchestratorClient
import StellwerkAPI
import TestSupport
import Testing

/// `stellwerk up --promote` as a user runs it: the built executable, in the foreground, until it says
/// it is ready; every URL it printed answers, the portals list the catalog's datasets, every instance
/// is healthy on one release; Ctrl-C stops everything it started.
@Suite(.serialized) struct LocalPlatformTests {
    @Test func up_promote_servesEveryPrintedURL_andCtrlC_leavesNoProcessBehind() async throws {
        let state = try Fixtures.temporaryFolder("stellwerk-up")
        defer { try? FileManager.default.removeItem(at: state) }
        let (up, printed) = try await Self.startUp(["--promote"], state: state)
        // A check that throws half-way must not leave the platform holding the ports of the tests after it.
        var interrupted = false
        defer {
            if !interrupted {
                kill(up, SIGINT)
                var status: Int32 = 0
                waitpid(up, &status, 0)
            }
        }
        let text = printed()
        #expect(text.contains("Stellwerk local platform is ready."), "\(text)")
        guard text.contains("Stellwerk local platform is ready.") else { return }

        // Every printed URL answers; both environments, every site.
        let urls = text.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("local-") else { return nil }
            return line.split(separator: " ").last.map(String.init)
        }
        #expect(urls.count == 36, "\(text)")
        for environment in ["local-sandbox", "local-live"] {
            let kusel = text.split(separator: "\n").filter { $0.hasPrefix(environment + " ") && $0.contains(" kusel ") }
            #expect(kusel.contains { $0.contains(" portal ") }, "\(environment)")
            #expect(kusel.contains { $0.contains(" SensorThings API ") }, "\(environment)")
            #expect(kusel.contains { $0.contains(" MQTT broker ") }, "\(environment)")
            #expect(kusel.contains { $0.contains(" water-level chart ") }, "\(environment)")
            #expect(kusel.contains { $0.hasSuffix(":8443/grafiken/dashboards/pegel") }, "\(environment)")
            let kaiserslautern = text.split(separator: "\n").filter {
                $0.hasPrefix(environment + " ") && $0.contains(" kaiserslautern ")
            }
            #expect(kaiserslautern.contains { $0.hasSuffix(":8443/grafiken/dashboards/cluster") }, "\(environment)")
        }
        // Every service's address is HTTPS through its site's proxy, signed by the local CA `up` names.
        let authority = state.appendingPathComponent("https-ca/ca.pem")
        #expect(text.contains("HTTPS certificates are signed by the local CA \(authority.path)"), "\(text)")
        #expect(urls.allSatisfy { $0.hasPrefix("https://") || $0.hasPrefix("mqtt://") }, "\(urls)")
        let web = try OrchestratorConnection(url: "", authority: try String(contentsOf: authority, encoding: .utf8))
        // Plain HTTP through the same client; the base address is empty, so each call names the whole URL.
        let http = try OrchestratorConnection(
            url: "",
            authority: try String(contentsOf: state.appendingPathComponent("server/ca/ca.pem"), encoding: .utf8))
        // The console, with where the local approver's sign-in token is (not a terminal: not the token).
        let console = try #require(
            text.split(separator: "\n").first { $0.hasPrefix("Console: ") }?.split(separator: " ").dropFirst().first)
        #expect(text.contains("sign in as zweite-person (approver in local-live) with the token in "), "\(text)")
        #expect(!text.contains("swo_"), "no operator token in the output")
        let signIn = try await http.exchange(.get, String(console) + "/sign-in")
        #expect(signIn.status == 200 && signIn.text.contains("<h1>Anmelden</h1>"), "\(console)")
        for url in urls {
            if url.hasPrefix("mqtt://") {
                // The site's sensor service logged in at its broker (the password file the agent
                // rendered from the secret) and publishes there.
                let host = url.dropFirst("mqtt://".count).split(separator: ":")[0]
                let deadline = ContinuousClock.now + .seconds(30)
                var metrics = ""
                while ContinuousClock.now < deadline && !metrics.contains("sensors_mqtt_connected 1") {
                    metrics = String(
                        decoding: try await http.exchange(.get, "http://\(host):8104/metrics").body, as: UTF8.self)
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(metrics.contains("sensors_mqtt_connected 1"), "\(url): \(metrics)")
                continue
            }
            let reply = try await web.exchange(.get, url)
            #expect(reply.status == 200, "\(url)")
            #expect(reply.header("Strict-Transport-Security") == "max-age=31536000", "\(url)")
            if url.hasSuffix("/api/3/action/package_search") {
                // The seed's ten, and the mobility service's two once it has registered them (it does
                // so on its own time, not before `up` says ready).
                let body = String(decoding: reply.body, as: UTF8.self)
                #expect(body.contains("\"count\":10") || body.contains("\"count\":12"), "\(url)")
            }
            if url.hasSuffix("/sensoren/v1.1") {
                #expect(String(decoding: reply.body, as: UTF8.self).contains("\"name\":\"Things\""), "\(url)")
                // The site's synthetic gauges were loaded, with readings up to now.
                let stations = try await web.exchange(
                    .get,
                    url.replacingOccurrences(of: "/v1.1", with: "/pegelonline/v2/stations.json")
                        + "?includeCurrentMeasurement=true")
                let text = String(decoding: stations.body, as: UTF8.self)
                #expect(text.contains("\"currentMeasurement\""), "\(url): \(text)")
                #expect(
                    text.contains(url.contains(".2:") ? "\"LAUTERECKEN\"" : "\"KAISERSLAUTERN\""), "\(url): \(text)")
            }
            if url.contains("/grafiken/datastreams/") {
                // The chart of Kusel's first synthetic gauge, drawn from its sensor service.
                let page = String(decoding: reply.body, as: UTF8.self)
                #expect(page.contains("<svg") && page.contains("Wasserstand") && page.contains("Messwerte"), "\(url)")
            }
            if url.contains("/grafiken/dashboards/") {
                // Every panel drawn from the seeded gauges; the cluster's overview reads Kusel's too.
                let page = String(decoding: reply.body, as: UTF8.self)
                #expect(page.contains("<h2") && !page.contains("nicht erreichbar"), "\(url): \(page)")
                #expect(!page.contains("nicht gefunden") && !page.contains("Nicht erreichbar"), "\(url)")
                if url.contains(".2:8443/grafiken/dashboards/pegel") {
                    // Kusel's dataset, named by its title in the catalog at Kaiserslautern.
                    #expect(page.contains(">Datensatz: Pegelmessstellen im Landkreis Kusel</a>"), "\(url)")
                }
                if url.hasSuffix("/cluster") {
                    #expect(page.contains("LAUTERECKEN") || page.contains("Lauterecken"), "\(url)")
                }
                if url.hasSuffix("/mobilitaet") {
                    // Free spaces and counts, kept in the sensor service by the mobility service.
                    #expect(page.contains(" Plätze") && page.contains("Fahrräder je Stunde"), "\(url): \(page)")
                }
            }
            if url.hasSuffix(":8443/") {
                // Each site's portal searches its own organisation's datasets, the cluster's one click away.
                let own = String(decoding: try await web.exchange(.get, url + "dataset").body, as: UTF8.self)
                let organisation = url.contains(".2:") ? "Landkreis Kusel" : "Stadt Kaiserslautern"
                #expect(own.contains("Suchen in: <strong aria-current=\"true\">\(organisation)</strong>"), "\(url)")
                let portal = String(
                    decoding: try await web.exchange(.get, url + "dataset?scope=all").body, as: UTF8.self)
                #expect(
                    portal.contains("10 Datensätze gefunden") || portal.contains("12 Datensätze gefunden"), "\(url)")
                // The home page shows the site's gauge map, and Kusel's sensor dataset its chart, both
                // drawn by the site's own visualization service.
                var images = Self.images(in: String(decoding: reply.body, as: UTF8.self))
                if url.contains(".2:") {
                    let dataset = try await web.exchange(.get, url + "dataset/pegelmessstellen-kusel")
                    let found = Self.images(in: String(decoding: dataset.body, as: UTF8.self))
                    #expect(
                        found.contains { $0.hasSuffix(":8443/grafiken/dashboards/pegel/panel/kusel.svg") }, "\(found)")
                    images += found
                }
                #expect(images.contains { $0.hasSuffix(":8443/grafiken/overview.svg") }, "\(url): \(images)")
                // Kusel's logo comes from the portal itself (`/static/logo.svg`), the rest from elsewhere.
                #expect(images.contains("/static/logo.svg") == url.contains(".2:"), "\(url): \(images)")
                for image in images {
                    let answer = try await web.exchange(
                        .get, image.hasPrefix("/") ? String(url.dropLast()) + image : image)
                    let body = String(decoding: answer.body, as: UTF8.self)
                    #expect(answer.status == 200 && body.hasPrefix("<svg"), "\(image)")
                }
            }
        }
        await http.shutdown()
        await web.shutdown()

        // The orchestrator sees every instance healthy, on one release.
        let environment = try String(contentsOf: state.appendingPathComponent("env.sh"), encoding: .utf8)
        var variables: [String: String] = [:]
        for line in environment.split(separator: "\n") where line.hasPrefix("export ") {
            let pair = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { variables[pair[0]] = pair[1] }
        }
        let status = try await ProcessRunner.run("stellwerk", ["status", "--json"], environment: variables)
        #expect(status.status == 0, "\(status.standardError)")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let document = try decoder.decode(StatusDocument.self, from: Data(status.standardOutput.utf8))
        let instances = document.environments.flatMap { $0.nodes.flatMap(\.instances) }
        #expect(instances.count == 24)
        #expect(Set(instances.map(\.release)).count == 1)
        #expect(instances.allSatisfy { $0.state == .running }, "\(instances.map(\.state))")

        // The catalog's write token is the orchestrator's secret, read back as the summary says; the
        // catalog takes it, and nothing in the state folder but the rendered configs holds it.
        #expect(text.contains("stellwerk secret show catalog-admin-token --env local-sandbox"), "\(text)")
        let shown = try await ProcessRunner.run(
            "stellwerk", ["secret", "show", "catalog-admin-token", "--env", "local-sandbox"], environment: variables)
        #expect(shown.status == 0, "\(shown.standardError)")
        let writeToken = shown.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(writeToken.count >= 40)
        let catalogAPI = try #require(
            urls.first { $0.hasPrefix("http") && $0.hasSuffix("/api/3/action/package_search") }
        )
        .replacingOccurrences(of: "package_search", with: "organization_create")
        let catalog = try OrchestratorConnection(
            url: "", authority: try String(contentsOf: authority, encoding: .utf8))
        let organization = Data(#"{"name": "schreibprobe", "title": "Schreibprobe"}"#.utf8)
        let anonymous = try await catalog.exchange(.post, catalogAPI, body: organization)
        #expect(anonymous.status == 403)
        let created = try await catalog.exchange(
            .post, catalogAPI, body: organization, headers: [("Authorization", writeToken)])
        #expect(created.status == 200, "\(String(decoding: created.body, as: UTF8.self))")
        await catalog.shutdown()
        let holders = SecretEndToEndTests.files(under: state).filter { file in
            FileManager.default.contents(atPath: file.path)?.range(of: Data(writeToken.utf8)) != nil
        }
        // Only the configurations of the services that use it: the catalog's, and the mobility
        // service's, which lists its datasets in the catalog.
        #expect(
            holders.allSatisfy { ["catalog.yaml", "mobility.yaml"].contains($0.lastPathComponent) },
            "\(holders.map(\.path))")
        #expect(!holders.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: state.appendingPathComponent("secrets.json").path))

        // Ctrl-C: everything it started stops; nothing works in the state folder any more.
        kill(up, SIGINT)
        interrupted = true
        let exitStatus = try await offloaded {
            var exitStatus: Int32 = 0
            waitpid(up, &exitStatus, 0)
            return exitStatus
        }
        // Exited (not killed by the signal) with the shell's code for an interrupted program.
        #expect(exitStatus & 0x7f == 0 && (exitStatus >> 8) & 0xff == 130, "wait status \(exitStatus)")
        let left = try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap { Int32($0) }.filter { pid in
            let commandLine =
                FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map {
                    String(decoding: $0.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
                } ?? ""
            let cwd = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) ?? ""
            // This test's own watcher (which would interrupt `up` if the test process died) does not count.
            if commandLine.contains("kill -0 \(getpid())") { return false }
            return commandLine.contains(state.path) || cwd.hasPrefix(state.path)
        }
        #expect(left.isEmpty, "processes left behind: \(left)")
        // Every agent and the 24 services they had started (with a proxy at each of the four sites),
        // counted for the operator.
        #expect(
            printed().contains("Stopped the orchestrator, ") && printed().contains(" agents and 24 services."),
            "\(printed())")
    }

    /// The addresses of a page's `<img>` elements.
    static func images(in page: String) -> [String] {
        page.components(separatedBy: "<img src=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }

    @Test func down_fromAnotherTerminal_endsTheWaitingUp() async throws {
        let state = try Fixtures.temporaryFolder("stellwerk-up-down")
        defer { try? FileManager.default.removeItem(at: state) }
        let (up, printed) = try await Self.startUp([], state: state)
        try #require(printed().contains("Stellwerk local platform is ready."), "\(printed())")

        let down = try await ProcessRunner.run("stellwerk", ["down", "--state", state.path])
        #expect(down.status == 0, "\(down.standardError)")
        let deadline = ContinuousClock.now + .seconds(60)
        var status: Int32 = 0
        var ended = false
        while !ended, ContinuousClock.now < deadline {
            ended = waitpid(up, &status, WNOHANG) == up
            if !ended { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(ended, "stellwerk up still waits after stellwerk down")
        #expect(status == 0)
        #expect(printed().contains("The local platform was stopped; leaving."), "\(printed())")
    }

    /// Starts `stellwerk up` in the foreground as a user would, and waits until it says it is ready
    /// (or has ended); returns its process and what it has printed so far.
    static func startUp(_ arguments: [String], state: URL) async throws -> (pid_t, @Sendable () -> String) {
        let output = state.appendingPathExtension("out")
        let up = try Spawn.run(
            ProcessRunner.productsFolder.appendingPathComponent("stellwerk").path,
            ["up", "--state", state.path] + arguments, environment: ["NO_COLOR": "1"],
            directory: Fixtures.repositoryRoot.path, standardOutput: output.path, wait: false
        ).pid
        try Spawn.whenThisProcessEnds(
            "tr '\\0' ' ' < /proc/\(up)/cmdline 2>/dev/null | grep -qF '\(state.path)' && kill -INT \(up)")
        let printed: @Sendable () -> String = { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
        let deadline = ContinuousClock.now + .seconds(300)
        while !printed().contains("Stellwerk local platform is ready."), ContinuousClock.now < deadline {
            if kill(up, 0) != 0
                || (try? String(contentsOfFile: "/proc/\(up)/stat", encoding: .utf8))?.contains(") Z") == true
            {
                Issue.record("stellwerk up ended early: \(printed())")
                break
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        return (up, printed)
    }

    @Test func up_withAServicePortTaken_saysWhichOne_andStartsNothing() async throws {
        let state = try Fixtures.temporaryFolder("stellwerk-up-taken")
        // Someone else listens where the sandbox catalog of Kaiserslautern would.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(8101).bigEndian)
        inet_pton(AF_INET, "127.0.90.1", &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(bound == 0 && listen(listener, 1) == 0, "cannot listen on 127.0.90.1:8101")

        let up = try await ProcessRunner.run(
            "stellwerk", ["up", "--state", state.path, "--detach"], in: Fixtures.repositoryRoot)
        #expect(up.status == 1)
        #expect(
            up.standardError.contains("127.0.90.1:8101 (catalog on kl-local-sandbox) is taken by another program"),
            "\(up.standardError)")
        #expect(up.standardError.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: state.appendingPathComponent("processes.json").path))
    }
}
