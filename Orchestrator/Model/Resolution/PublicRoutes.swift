/// One address citizens use, as a site's proxy serves it: `https://host:port/path` forwarded to the
/// service's instances.
package struct ResolvedRoute: Sendable, Hashable {
    package var service: String
    package var host: String
    package var port: Int
    /// Empty for the host's root, otherwise a prefix such as `/sensoren` (no slash at the end).
    package var path: String
    /// The instances' `address:port`, one per node that runs the service.
    package var upstreams: [String]
    package var maxBodyBytes: Int
    package var requestsPerSecond: Int

    package init(
        service: String, host: String, port: Int, path: String, upstreams: [String], maxBodyBytes: Int,
        requestsPerSecond: Int
    ) {
        self.service = service
        self.host = host
        self.port = port
        self.path = path
        self.upstreams = upstreams
        self.maxBodyBytes = maxBodyBytes
        self.requestsPerSecond = requestsPerSecond
    }

    /// The address as citizens write it.
    package var url: String {
        "https://\(host)\(port == 443 ? "" : ":\(port)")\(path)/"
    }
}

/// The address a public service's url parameter holds, taken apart for the proxy.
///
/// Stricter than a URL: what it yields is written into the proxy's config, so host and path may hold
/// only characters that cannot end a directive or open a block there.
struct PublicAddress: Equatable {
    var scheme: String
    var host: String
    var port: Int?
    var path: String

    static func parse(_ text: String) -> PublicAddress? {
        guard let separator = text.range(of: "://") else { return nil }
        let scheme = String(text[..<separator.lowerBound]).lowercased()
        let rest = text[separator.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        while path.hasSuffix("/") { path.removeLast() }
        let hostPart: Substring
        var port: Int?
        if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else {
                return nil
            }
            port = number
        } else {
            hostPart = authority
        }
        let host = hostPart.lowercased()
        let hostCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789.-")
        let pathCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/")
        guard !host.isEmpty, host.count <= 253, host.allSatisfy(hostCharacters.contains),
            !host.hasPrefix("."), !host.hasPrefix("-"), path.allSatisfy(pathCharacters.contains),
            !path.contains("//"), !path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." })
        else { return nil }
        return PublicAddress(scheme: scheme, host: host, port: port, path: path)
    }
}

/// A site's routes in nginx's syntax, for `{{ proxy.servers }}` inside the proxy's `http` block.
///
/// Per host one HTTPS server with a location per route, one plain-HTTP server that sends GET and
/// HEAD to HTTPS and refuses the rest (a redirected POST would have sent its body in the clear
/// already, and would be sent again), and a default server that answers hosts it does not know
/// with 421 instead of some other host's pages.
enum NginxServers {
    static func render(
        _ routes: [ResolvedRoute], site: String, address: String, httpsPort: Int, httpPort: Int
    )
        -> String
    {
        var lines = ["# The public routes of site \(site), rendered by Stellwerk's planner."]
        for route in routes {
            // A zone per route: a reader's requests to one service do not use up another's allowance.
            lines.append(
                "limit_req_zone $binary_remote_addr zone=\(upstreamName(route)):1m rate=\(route.requestsPerSecond)r/s;")
        }
        for route in routes {
            lines.append("upstream \(upstreamName(route)) {")
            for upstream in route.upstreams { lines.append("    server \(upstream);") }
            lines.append("    keepalive 8;")
            lines.append("}")
        }
        lines.append("server {")
        lines.append("    listen \(address):\(httpsPort) ssl http2 default_server;")
        lines.append("    return 421;")
        lines.append("}")
        let hosts = Array(Set(routes.map(\.host))).sorted()
        if !hosts.isEmpty {
            let portSuffix = httpsPort == 443 ? "" : ":\(httpsPort)"
            lines.append("server {")
            lines.append("    listen \(address):\(httpPort);")
            lines.append("    server_name \(hosts.joined(separator: " "));")
            lines.append("    location / {")
            lines.append("        if ($request_method !~ ^(GET|HEAD)$) { return 403; }")
            lines.append("        return 301 https://$host\(portSuffix)$request_uri;")
            lines.append("    }")
            lines.append("}")
        }
        for host in hosts {
            lines.append("server {")
            lines.append("    listen \(address):\(httpsPort) ssl http2;")
            lines.append("    server_name \(host);")
            lines.append("    add_header Strict-Transport-Security \"max-age=31536000\" always;")
            lines.append("    error_page 502 503 504 @unavailable;")
            lines.append("    location @unavailable {")
            lines.append("        default_type text/html;")
            lines.append("        return 502 '\(unavailablePage)';")
            lines.append("    }")
            for route in routes.filter({ $0.host == host }).sorted(by: { $0.path < $1.path }) {
                if !route.path.isEmpty {
                    lines.append("    location = \(route.path) { return 301 \(route.path)/$is_args$args; }")
                }
                lines.append("    location \(route.path)/ {")
                lines.append(
                    "        limit_req zone=\(upstreamName(route)) burst=\(route.requestsPerSecond * 2) nodelay;"
                )
                lines.append("        client_max_body_size \(route.maxBodyBytes);")
                // Up to 1 MiB in memory; a larger body waits in a file until the service takes it.
                lines.append("        client_body_buffer_size \(min(route.maxBodyBytes, 1 << 20));")
                // The prefix is the proxy's business: the service sees its own paths.
                lines.append("        proxy_pass http://\(upstreamName(route))/;")
                lines.append("    }")
            }
            lines.append("}")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func upstreamName(_ route: ResolvedRoute) -> String {
        "service_" + route.service.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }

    /// What a reader sees while a service is down (or not yet up): a page, at once, not a hang.
    private static let unavailablePage =
        "<!doctype html><html lang=\"de\"><meta charset=\"utf-8\"><title>Dienst nicht erreichbar</title>"
        + "<h1>Dieser Dienst ist gerade nicht erreichbar</h1><p>Bitte versuchen Sie es in einigen Minuten erneut.</p>"
        + "<p lang=\"en\">This service is unavailable at the moment; please try again in a few minutes.</p></html>"
}
