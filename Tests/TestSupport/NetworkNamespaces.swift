import Foundation

/// Two network namespaces joined by a veth pair, made by a test for itself: a server in one, a node
/// in the other, each with an address on the link and nothing else, so traffic between them never
/// leaves the machine — and a test can cut the link and mend it. Needs root and `ip` (iproute2).
///
/// Addresses are 10.201.`block`.x/24: on this link only, and never asked for from the root
/// namespace (there they would go out through the default route).
package final class NetworkNamespaces: @unchecked Sendable {
    /// The namespaces: the server's and the node's.
    package let server: String
    package let node: String
    package let serverAddress: String
    package let nodePrefix: String
    private let nodeLink: String

    /// Whether this test process may make namespaces: it is root and has `ip`.
    package static var available: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: ip)
    }

    static let ip = "/usr/sbin/ip"

    /// Makes both namespaces; the node's side holds `10.201.block.1` to `.addresses`, the
    /// server's `10.201.block.254`. They are removed by ``remove()`` or when the test process ends.
    package init(block: Int, addresses: Int = 1) throws {
        guard Self.available else {
            throw TestServerError("network namespaces need root and /usr/sbin/ip (the iproute2 package)")
        }
        let tag = String(UUID().uuidString.lowercased().prefix(6))
        server = "stw-s-\(tag)"
        node = "stw-n-\(tag)"
        nodeLink = "stwn\(tag)"
        let serverLink = "stws\(tag)"
        nodePrefix = "10.201.\(block)"
        serverAddress = "\(nodePrefix).254"
        try Spawn.whenThisProcessEnds(
            "\(Self.ip) netns del \(server) 2>/dev/null; \(Self.ip) netns del \(node) 2>/dev/null")
        var commands = [
            ["netns", "add", server], ["netns", "add", node],
            ["link", "add", serverLink, "type", "veth", "peer", "name", nodeLink],
            ["link", "set", serverLink, "netns", server], ["link", "set", nodeLink, "netns", node],
            ["-n", server, "addr", "add", "\(serverAddress)/24", "dev", serverLink],
        ]
        for index in 1...max(1, addresses) {
            commands.append(["-n", node, "addr", "add", "\(nodePrefix).\(index)/24", "dev", nodeLink])
        }
        commands += [
            ["-n", server, "link", "set", "lo", "up"], ["-n", server, "link", "set", serverLink, "up"],
            ["-n", node, "link", "set", "lo", "up"], ["-n", node, "link", "set", nodeLink, "up"],
        ]
        for command in commands { try Self.run(command) }
    }

    /// The node's address number `index` (from 1).
    package func nodeAddress(_ index: Int) -> String { "\(nodePrefix).\(index)" }

    /// Cuts the link on the node's side: nothing gets through either way, and no connection is told.
    package func cut() throws { try Self.run(["-n", node, "link", "set", nodeLink, "down"]) }

    /// Mends the link again.
    package func mend() throws { try Self.run(["-n", node, "link", "set", nodeLink, "up"]) }

    /// Removes both namespaces (and with them the link).
    package func remove() {
        _ = try? Self.run(["netns", "del", server])
        _ = try? Self.run(["netns", "del", node])
    }

    /// `executable` with `arguments`, run inside `namespace`: the program and arguments to spawn.
    package static func inside(_ namespace: String, _ executable: String, _ arguments: [String]) -> (String, [String]) {
        (ip, ["netns", "exec", namespace, executable] + arguments)
    }

    private static func run(_ arguments: [String]) throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("stellwerk-ip-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: log) }
        let status = try Spawn.run(ip, arguments, standardOutput: log.path).status
        guard status == 0 else {
            let said = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw TestServerError("ip \(arguments.joined(separator: " ")) failed (\(status)): \(said)")
        }
    }
}
