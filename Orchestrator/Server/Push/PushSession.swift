import Foundation
import SSHTransport
import StellwerkAPI

/// One push to a node that cannot call out: over SSH (its pinned host key, through its jump host),
/// the release artifacts it lacks are uploaded — content-addressed, continued where a broken upload
/// ended — and `stellwerk-agent apply --desired -` converges it to the state handed over the
/// channel, whose JSON report comes back the same way.
struct PushSession {
    let state: NodeDesiredState
    let serial: Int
    let target: PushTarget
    /// The orchestrator's SSH key.
    let key: URL
    /// The orchestrator's release-signing public key, base64: the node trusts releases it signed.
    let signingKey: String
    let artifactFolder: URL
    let secrets: DeliveredSecrets?

    func push() async throws -> NodeReport {
        let address = SSHTarget(user: target.user, host: target.host, port: target.port)
        var jump: JumpHost?
        if let bastion = target.jump {
            jump = JumpHost(try SSHTarget(parsing: bastion), trust: .fingerprint(target.jumpHostKey ?? ""))
        }
        let ssh = try await SSHConnection.open(
            address, trust: .fingerprint(target.hostKey), credentials: .keyFile(key), jump: jump)
        do {
            let report = try await converge(over: ssh)
            await ssh.close()
            return report
        } catch {
            await ssh.close()
            throw error
        }
    }

    private func converge(over ssh: SSHConnection) async throws -> NodeReport {
        let sudo = try await ssh.rootPrefix()
        let prefix = target.prefix
        // The agent's folders, the key it checks releases with, and the artifacts it has.
        let listing = try await run(
            ssh,
            "\(sudo)sh -c 'test -x \(prefix)/bin/stellwerk-agent || { echo \"no agent at \(prefix)/bin\" >&2; exit 3; }; "
                + "mkdir -p \(prefix)/artifacts \(prefix)/data && chmod 700 \(prefix) && "
                + "printf %s \(signingKey) > \(prefix)/orchestrator.pub && ls \(prefix)/artifacts'",
            what: "preparing the node (bootstrap it first with `stellwerk node bootstrap`)")
        let present = Set(listing.split(separator: "\n").map(String.init))
        let needed = Set(state.instances.compactMap(\.artifact.sha256)).sorted()
        // A digest names a file here and there: nothing but 64 hex digits may reach a path.
        for sha256 in needed where !Hex.isSHA256(sha256) {
            throw SSHError("the state names an artifact '\(sha256.prefix(80))' that is not a SHA-256")
        }
        var folder: String?
        for sha256 in needed where !present.contains("\(sha256).tar") {
            let file = artifactFolder.appendingPathComponent(sha256)
            // Not kept here (an artifact the node fetches from its own URL): the agent says so.
            guard FileManager.default.fileExists(atPath: file.path) else { continue }
            if folder == nil {
                // The node's own folder (a name: checked when it was planned), as bootstrap's is.
                guard Names.isValid(state.node) else { throw SSHError("'\(state.node)' is not a node name") }
                folder = try await run(
                    ssh,
                    "umask 077 && mkdir -p .stellwerk-upload/push-\(state.node) && cd .stellwerk-upload/push-\(state.node) && pwd",
                    what: "making a folder for uploads")
            }
            let upload = "\(folder!)/\(sha256).tar"
            try await ssh.upload(file, to: upload, mode: 0o600, digest: sha256)
            // Checked before it goes in place: a broken one would be listed as present next time.
            _ = try await run(
                ssh,
                "if [ \"$(sha256sum \(upload.shellQuoted) | cut -d' ' -f1)\" = \(sha256) ]; then "
                    + "\(sudo)mv \(upload.shellQuoted) \(prefix)/artifacts/\(sha256).tar; "
                    + "else rm -f \(upload.shellQuoted); echo 'the upload arrived damaged' >&2; exit 1; fi",
                what: "putting the artifact \(sha256.prefix(12)) in place")
        }
        let pushed = try WireJSON.encoder().encode(PushedState(serial: serial, state: state, secrets: secrets))
        let output = try await ssh.run(
            "\(sudo)\(prefix)/bin/stellwerk-agent apply --desired - --data \(prefix)/data "
                + "--orchestrator-key \(prefix)/orchestrator.pub --artifacts \(prefix)/artifacts",
            input: pushed)
        // Exit status 1 is a report too: an instance failed, and the report says which and why.
        guard var report = try? WireJSON.decoder().decode(NodeReport.self, from: Data(output.standardOutput.utf8))
        else {
            throw SSHError(
                "\(ssh.target): stellwerk-agent apply gave no report (exit \(output.status)): "
                    + output.standardError.trimmingCharacters(in: .whitespacesAndNewlines).suffix(500))
        }
        guard report.node == state.node, report.environment == state.environment else {
            throw SSHError("\(ssh.target): the agent there reported for \(report.node) in \(report.environment)")
        }
        report.desiredSerial = serial
        return report
    }

    private func run(_ ssh: SSHConnection, _ command: String, what: String) async throws -> String {
        let output = try await ssh.run(command)
        guard output.status == 0 else {
            throw SSHError(
                "\(ssh.target): \(what) failed (exit \(output.status)): "
                    + output.standardError.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
