import Model
import StellwerkAPI
import TestSupport
import Testing

/// `ssh:` in site files (issue #20): how `stellwerk node bootstrap` reaches a server, a node's own
/// settings over its site's, and a clear error at file:line:column for each bad value.
@Suite struct SSHSettingsTests {
    static let key = "SHA256:Rh7Ae8TATx9CWtDorNQiD0VSW7YXitqNttyIk36y/es"
    static let bastionKey = "SHA256:4apL8vZQKSwNHRQicWB/PI8gOITl7t8s57SJ39YUcNY"

    /// The alpha site with `site` as its `ssh:` and `node` as its node's.
    static func files(site: String? = nil, node: String? = nil) throws -> [String: String] {
        var files = try Fixtures.files(
            changing: FixturePath.alpha, "address: 127.0.1.1",
            to: "address: 127.0.1.1" + (node.map { "\n    ssh: \($0)" } ?? ""))
        if let site { files[FixturePath.alpha]! += "ssh: \(site)\n" }
        return files
    }

    @Test func aNodesSettings_comeOverItsSites() throws {
        let files = try Self.files(
            site:
                "{user: deploy, port: 2222, jump: \"ssh://jump@bastion.example\", jump_host_key: \"\(Self.bastionKey)\"}",
            node: "{host_key: \"\(Self.key)\", prefix: /srv/stellwerk}")
        let workspace = try Fixtures.load(files)
        let site = try #require(workspace.environments["sandbox"]?.sites.first { $0.name.value == "alpha" })
        let settings = site.ssh(for: try #require(site.nodes.first))
        #expect(settings.user?.value == "deploy")
        #expect(settings.port?.value == 2222)
        #expect(settings.hostKey?.value == Self.key)
        #expect(settings.jump?.value == "ssh://jump@bastion.example")
        #expect(settings.jumpHostKey?.value == Self.bastionKey)
        #expect(settings.prefix?.value == "/srv/stellwerk")

        // A node with a jump host of its own does not take the site's bastion key for it.
        let own = try Fixtures.load(
            try Self.files(
                site: "{jump: \"ssh://jump@bastion.example\", jump_host_key: \"\(Self.bastionKey)\"}",
                node: "{jump: \"ssh://ops@other.example:2200\"}"))
        let ownSite = try #require(own.environments["sandbox"]?.sites.first { $0.name.value == "alpha" })
        let ownSettings = ownSite.ssh(for: try #require(ownSite.nodes.first))
        #expect(ownSettings.jump?.value == "ssh://ops@other.example:2200")
        #expect(ownSettings.jumpHostKey == nil)
    }

    @Test(arguments: [
        ("{host_key: \"SHA256:short\"}", "\"SHA256:short\"", "'SHA256:short' is not a host key fingerprint"),
        ("{user: \"Root Admin\"}", "\"Root Admin\"", "'Root Admin' is not a user name"),
        ("{port: 70000}", "70000", "port"),
        ("{jump: \"bastion.example\"}", "\"bastion.example\"", "the jump host bastion.example: give ssh://USER@HOST"),
        ("{jump_host_key: \"\(key)\"}", "\"\(key)\"", "jump_host_key without a jump host"),
        ("{prefix: /opt}", "/opt", "'/opt' cannot be the agent's folder"),
        ("{host: bastion}", "host", "host"),
    ])
    func badNodeSettings_areRefusedWhereTheyAre(_ settings: String, _ at: String, _ message: String) throws {
        let files = try Self.files(node: settings)
        let diagnostic = try onlyError(files)
        let position = try position(of: at, in: files[FixturePath.alpha])
        expect(diagnostic, file: FixturePath.alpha, line: position.line, column: position.column, message: message)
    }

    @Test func aHostKeyForAWholeSite_isRefused_sayingWhereItBelongs() throws {
        let files = try Self.files(site: "{host_key: \"\(Self.key)\"}")
        let diagnostic = try onlyError(files)
        let position = try position(of: "\"\(Self.key)\"", in: files[FixturePath.alpha])
        expect(
            diagnostic, file: FixturePath.alpha, line: position.line, column: position.column,
            message: "a host key belongs to one server, not to a site", hint: "under the ssh of the node")
    }

    @Test func aPushNode_needsItsHostKeyPinned_andATransportIsPullOrSSH() throws {
        let unpinned = try Fixtures.files(
            changing: FixturePath.alpha, "address: 127.0.1.1", to: "address: 127.0.1.1\n    transport: ssh")
        let diagnostic = try onlyError(unpinned)
        let at = try position(of: "ssh", in: unpinned[FixturePath.alpha])
        expect(
            diagnostic, file: FixturePath.alpha, line: at.line, column: at.column,
            message: "node 'alpha-1' is pushed to over SSH, but its host key is not pinned", hint: "host_key")

        let jumpUnpinned = try Fixtures.files(
            changing: FixturePath.alpha, "address: 127.0.1.1",
            to:
                "address: 127.0.1.1\n    transport: ssh\n    ssh: {host_key: \"\(Self.key)\", jump: \"ssh://j@bastion\"}"
        )
        #expect(
            try onlyError(jumpUnpinned).message
                == "node 'alpha-1' is pushed to through a jump host whose key is not pinned")

        let typo = try Fixtures.files(
            changing: FixturePath.alpha, "address: 127.0.1.1", to: "address: 127.0.1.1\n    transport: shh")
        let wrong = try onlyError(typo)
        #expect(wrong.message == "'shh' is not a transport")
        #expect(wrong.hint == "did you mean 'ssh'?")

        let pushed = try Fixtures.files(
            changing: FixturePath.alpha, "address: 127.0.1.1",
            to: "address: 127.0.1.1\n    transport: ssh\n    ssh: {host_key: \"\(Self.key)\", user: deploy}")
        let workspace = try Fixtures.load(pushed)
        let site = try #require(workspace.environments["sandbox"]?.sites.first { $0.name.value == "alpha" })
        let node = try #require(site.nodes.first)
        let target = try #require(site.pushTarget(for: node))
        #expect(
            target
                == PushTarget(
                    user: "deploy", host: "127.0.1.1", port: 22, hostKey: Self.key, prefix: "/var/lib/stellwerk"))
        #expect(target.problem == nil)
    }
}
