import Foundation
import Model
import TestSupport
import Testing

/// A site's proxy: the shipped proxy blueprint in front of the fixture's `api`, whose blueprint says
/// how it is reached (`public:`). What the planner renders for nginx, and the addresses it refuses.
@Suite struct PublicRouteTests {
    static func proxiedFiles() throws -> [String: String] { try Fixtures.proxiedFiles() }

    @Test func aSitesProxy_servesEachPublicAddress_andNginxGetsItsRoutes() throws {
        let workspace = try Fixtures.load(try Self.proxiedFiles())
        let sandbox = try EnvironmentResolver(workspace: workspace).resolve("sandbox")
        let alpha = try #require(sandbox.sites.first { $0.name == "alpha" })
        #expect(
            alpha.routes == [
                ResolvedRoute(
                    service: "api", host: "api.alpha.example", port: 443, path: "", upstreams: ["127.0.1.1:9001"],
                    maxBodyBytes: 2048, requestsPerSecond: 7)
            ])
        #expect(alpha.routes.first?.url == "https://api.alpha.example/")
        // beta has no proxy: its addresses stay what they were, strings.
        #expect(sandbox.sites.first { $0.name == "beta" }?.routes == [])

        let proxy = try #require(alpha.nodes.first?.instances.first { $0.service == "proxy" })
        let nginx = try #require(proxy.configFiles.first { $0.path == "nginx.conf" }).content
        for line in [
            "listen 127.0.1.1:443 ssl http2 default_server;", "return 421;", "listen 127.0.1.1:80;",
            "if ($request_method !~ ^(GET|HEAD)$) { return 403; }", "return 301 https://$host$request_uri;",
            "server_name api.alpha.example;", "add_header Strict-Transport-Security",
            "limit_req_zone $binary_remote_addr zone=service_api:1m rate=7r/s;",
            "limit_req zone=service_api burst=14 nodelay;", "client_max_body_size 2048;",
            "server 127.0.1.1:9001;", "proxy_pass http://service_api/;",
            "log_format without_client '$time_iso8601 $host \"$request_method $uri\"",
        ] {
            #expect(nginx.contains(line), "no '\(line)' in:\n\(nginx)")
        }
        #expect(!nginx.contains("$remote_addr "), "the access log names the client")
        #expect(proxy.configFiles.first { $0.path == "tls/key.pem" }?.content == "{{secret:alpha-proxy-key}}")
        #expect(proxy.configFiles.first { $0.path == "tls/key.pem" }?.mode == 0o600)
        #expect(proxy.ports == ["https": 443, "http": 80])
    }

    @Test(arguments: [
        ("http://api.alpha.example", "and site 'alpha's proxy serves HTTPS only"),
        ("https://api.alpha.example:8443", "on port 8443, and site 'alpha's proxy listens for HTTPS on 443"),
        ("https://api.alpha.example/a;b", "the proxy cannot serve 'https://api.alpha.example/a;b'"),
        ("https://api.alpha.example/a/../b", "the proxy cannot serve"),
    ])
    func addressesTheProxyCannotServe_areRefusedAtTheSiteLine(url: String, message: String) throws {
        let files = try Fixtures.files(
            changing: FixturePath.alpha, "public_url: https://api.alpha.example", to: "public_url: \(url)",
            in: try Self.proxiedFiles())
        let diagnostic = try onlyError(files)
        let at = try position(of: "public_url: \(url)", in: files[FixturePath.alpha])
        expect(diagnostic, file: FixturePath.alpha, line: at.line, column: at.column, message: message)
    }

    @Test func anAddressServedTwice_isRefusedWhereTheSecondIsWritten() throws {
        var files = try Self.proxiedFiles()
        files[FixturePath.beta] = Fixtures.site("beta", node: "beta-1", address: "127.0.2.1")
        files = try Fixtures.files(
            changing: FixturePath.beta, "public_url: https://api.beta.example",
            to: "public_url: https://api.alpha.example/", in: files)
        files = try Fixtures.files(
            changing: FixturePath.beta, "services:\n",
            to:
                "services:\n  proxy:\n    parameters:\n      certificate: {secret: c}\n      certificate_key: {secret: k}\n",
            in: files)
        let diagnostic = try onlyError(files)
        let at = try position(of: "public_url: https://api.alpha.example/", in: files[FixturePath.beta])
        expect(
            diagnostic, file: FixturePath.beta, line: at.line,
            message:
                "https://api.alpha.example:443/ is served twice: by service 'api' at site 'alpha' and by service 'api' at site 'beta'"
        )
    }

    @Test func aSecondProxyAtASite_isRefused() throws {
        let files = try Fixtures.files(
            changing: FixturePath.alpha, "  web:\n",
            to: """
                  edge:
                    blueprint: proxy
                    parameters:
                      https_port: 8443
                      http_port: 8080
                      certificate: {secret: c}
                      certificate_key: {secret: k}
                  web:

                """, in: try Self.proxiedFiles())
        let diagnostic = try onlyError(files)
        let at = try position(of: "  edge:", in: files[FixturePath.alpha])
        expect(
            diagnostic, file: FixturePath.alpha, line: at.line,
            message: "site 'alpha' runs a second proxy, 'edge', beside 'proxy'")
    }

    @Test(arguments: [
        ("  port: http\n  max_body", "  port: web\n  max_body", "port: web", "names the port 'web', which"),
        ("  url: public_url\n", "  url: token\n", "url: token", "is of type secret, not url"),
        ("  url: public_url\n", "  url: address\n", "url: address", "names the parameter 'address', which"),
        ("  rate: 7\n", "  rate: 0\n", "rate: 0", "rate"),
        ("  max_body: 2048\n", "  max_body: 2147483648\n", "max_body: 2147483648", "max_body"),
        (
            "url: {{ param.public_url }}", "url: {{ proxy.servers }}", "{{ proxy.servers }}",
            "is for a proxy's blueprint"
        ),
    ])
    func blueprintsThatMisdescribeTheirRoute_areRefusedInTheBlueprint(
        old: String, new: String, at needle: String, message: String
    ) throws {
        let files = try Fixtures.files(changing: FixturePath.api, old, to: new, in: try Self.proxiedFiles())
        let diagnostic = try onlyError(files, in: FixturePath.api)
        #expect(diagnostic.message.contains(message), "\(diagnostic)")
        let at = try position(of: needle, in: files[FixturePath.api])
        #expect(diagnostic.location.line == at.line, "\(diagnostic)")
    }
}
