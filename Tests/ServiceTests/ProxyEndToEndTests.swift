import Foundation
import TestSupport
import Testing

/// The shipped proxy blueprint as the planner renders it for a site, run by the real nginx from the
/// Debian package on loopback in front of a real catalog, and asked by curl and ckanapi as citizens'
/// and municipalities' clients would: HTTPS with the site's certificate, plain HTTP only sending
/// readers on, the route's limits, and a page instead of a hang when the service behind it is down.
/// With `CI=true` a missing nginx or Python client is a failure.
@Suite(.serialized) struct ProxyEndToEndTests {
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"
    static let available = NginxProxy.isInstalled

    @Test(.enabled(if: available || required, "nginx is not installed (scripts/install-packages)"))
    func aSitesProxy_servesHTTPS_sendsPlainHTTPOn_limits_andSaysWhenTheServiceIsDown() async throws {
        try #require(Self.available, "nginx is missing: scripts/install-packages installs it")
        let address = "127.0.52.70"
        let catalog = try await CatalogProcess(host: address, seed: false)
        defer { catalog.stop() }
        try await catalog.start()
        let (httpsPort, httpPort) = (try FreePort.find(host: address), try FreePort.find(host: address))
        let proxy = try await NginxProxy(
            try Fixtures.proxiedFiles(httpsPort: httpsPort, httpPort: httpPort, address: address, apiPort: catalog.port)
        )
        defer { proxy.stop() }
        let https = "https://api.alpha.example:\(httpsPort)"
        let resolve = ["--resolve", "api.alpha.example:\(httpsPort):\(address)", "--cacert", proxy.authorityFile.path]
        try await waitUntil("nginx answers on \(httpsPort)") {
            (try? await Curl.run(resolve + [https + "/health"]))?.status == 200
        }

        // HTTPS with the site's certificate, HSTS, and the service's own answer.
        let answer = try await Curl.run(resolve + ["-i", https + "/api/3/action/package_search?q=pegel"])
        #expect(answer.status == 200)
        #expect(answer.body.lowercased().contains("strict-transport-security: max-age=31536000"), "\(answer.body)")
        #expect(answer.body.contains("\"success\": true") || answer.body.contains("\"success\":true"), "\(answer.body)")
        #expect(!answer.body.contains("nginx/"), "the proxy names its version")
        // TLS 1.1 and older are refused.
        let old = try await Curl.run(resolve + ["--tlsv1.1", "--tls-max", "1.1", https + "/health"])
        #expect(old.status == 0 && old.exitStatus != 0, "TLS 1.1 was accepted: \(old)")
        // A host the site does not serve gets 421, not the first site's pages.
        let stranger = try await Curl.run([
            "--resolve", "fremd.example:\(httpsPort):\(address)", "-k", "https://fremd.example:\(httpsPort)/health",
        ])
        #expect(stranger.status == 421)

        // Plain HTTP: GET and HEAD are sent to HTTPS; a POST is refused, not redirected, and never
        // reaches the catalog.
        let plain = "http://api.alpha.example:\(httpPort)"
        let plainResolve = ["--resolve", "api.alpha.example:\(httpPort):\(address)"]
        let redirected = try await Curl.run(plainResolve + ["-i", plain + "/api/3/action/package_search?q=pegel"])
        #expect(redirected.status == 301)
        #expect(
            redirected.body.contains("Location: \(https)/api/3/action/package_search?q=pegel"), "\(redirected.body)")
        let organization = #"{"name": "klartext", "title": "Klartext"}"#
        let posted = try await Curl.run(
            plainResolve + [
                "-X", "POST", "-H", "Authorization: \(catalog.token)", "-H", "Content-Type: application/json",
                "--data", organization, plain + "/api/3/action/organization_create",
            ])
        #expect(posted.status == 403)
        let shown = try await catalog.get("/api/3/action/organization_show?id=klartext")
        #expect(shown.status == 404, "the POST over plain HTTP reached the catalog")

        // The route's limit on bodies: over 2 KiB gets 413, and the catalog never sees it.
        let large = proxy.folder.appendingPathComponent("large.json")
        try Data(#"{"name": "gross", "title": "\#(String(repeating: "x", count: 4096))"}"#.utf8).write(to: large)
        let tooLarge = try await Curl.run(
            resolve + [
                "-X", "POST", "-H", "Authorization: \(catalog.token)", "-H", "Content-Type: application/json",
                "--data-binary", "@\(large.path)", https + "/api/3/action/organization_create",
            ])
        #expect(tooLarge.status == 413)
        #expect(try await catalog.get("/api/3/action/organization_show?id=gross").status == 404)

        // The catalog down: the proxy's page at once, in German and English.
        catalog.stopProcess()
        let started = ContinuousClock.now
        let down = try await Curl.run(resolve + ["-i", https + "/api/3/action/package_search"])
        #expect(down.status == 502)
        #expect(down.body.contains("Dieser Dienst ist gerade nicht erreichbar"), "\(down.body)")
        #expect(down.body.contains("This service is unavailable"))
        #expect(ContinuousClock.now - started < .seconds(10), "the proxy hung on a service that is down")

        // The route's rate: more than 7 requests a second (burst 14) from one client get 429. One
        // curl asks 40 times at once, so a slow machine cannot spread them out.
        let burst = try await Curl.run(
            resolve + ["--parallel", "--parallel-max", "40"]
                + (0..<40).flatMap { ["-o", "/dev/null", https + "/health?n=\($0)"] }, writeOut: "%{http_code}\n")
        let statuses = burst.writtenOut.split(separator: "\n").compactMap { Int($0) }
        #expect(statuses.count == 40 && statuses.contains(429), "\(statuses)")
        #expect(statuses.allSatisfy { $0 == 502 || $0 == 429 }, "\(statuses)")

        // The access log shows requests and outcomes, never the client's address nor a query.
        let log = try String(contentsOfFile: proxy.accessLog, encoding: .utf8)
        #expect(log.contains("api.alpha.example \"GET /api/3/action/package_search\" 200"), "\(log)")
        #expect(log.contains("\"POST /api/3/action/organization_create\" 413"), "\(log)")
        #expect(!log.contains("127.0.0.1") && !log.contains(address), "the access log names the client: \(log)")
        #expect(!log.contains("q=pegel"), "the access log keeps query strings: \(log)")
    }

    /// ckanapi, as municipalities' tools use it, against the catalog under a path, over HTTPS through
    /// the proxy, trusting the site's CA (as `REQUESTS_CA_BUNDLE` makes it). The address is the
    /// proxy's IP address, which the certificate names: Python finds no made-up host name here.
    @Test(
        .enabled(
            if: (available && CatalogInteropTests.available) || required, "nginx or the Python clients are missing"))
    func ckanapi_overHTTPS_throughTheProxy_underAPath() async throws {
        try #require(Self.available, "nginx is missing: scripts/install-packages installs it")
        try #require(CatalogInteropTests.available, "the Python clients are missing: run scripts/python-clients")
        let address = "127.0.52.71"
        let catalog = try await CatalogProcess(host: address, seed: false)
        defer { catalog.stop() }
        try await catalog.start()
        let httpsPort = try FreePort.find(host: address)
        // A rate ckanapi's many quick calls stay under.
        let proxy = try await NginxProxy(
            try Fixtures.proxiedFiles(
                httpsPort: httpsPort, httpPort: try FreePort.find(host: address), address: address,
                apiPort: catalog.port, host: address, path: "/katalog", rate: 1000))
        defer { proxy.stop() }
        let base = "https://\(address):\(httpsPort)/katalog"
        try await waitUntil("nginx answers on \(httpsPort)") {
            (try? await Curl.run(["--cacert", proxy.authorityFile.path, base + "/health"]))?.status == 200
        }
        let output = proxy.folder.appendingPathComponent("ckanapi.out").path
        let status = try await offloaded {
            try Spawn.run(
                CatalogInteropTests.python.path,
                [
                    Fixtures.repositoryRoot.appendingPathComponent("Tests/Interop/ckanapi_catalog.py").path,
                    base, catalog.token,
                ],
                environment: ["REQUESTS_CA_BUNDLE": proxy.authorityFile.path], standardOutput: output
            ).status
        }
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(printed)")
        #expect(printed.hasSuffix("ok\n"), "\(printed)")
    }
}
