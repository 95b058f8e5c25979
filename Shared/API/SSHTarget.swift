/// An SSH server to reach: `ssh://USER@HOST[:PORT]`, with an IPv6 address in brackets
/// (`ssh://root@[2001:db8::1]:2222`). Site files name servers and jump hosts this way, and the SSH
/// transport connects to them.
package struct SSHTarget: Sendable, Hashable, CustomStringConvertible {
    package var user: String
    package var host: String
    package var port: Int

    package init(user: String, host: String, port: Int = 22) {
        self.user = user
        self.host = host
        self.port = port
    }

    /// Reads `ssh://USER@HOST[:PORT]`; anything else is an error that shows the form.
    package init(parsing text: String) throws(SSHTargetError) {
        let form = "give ssh://USER@HOST or ssh://USER@HOST:PORT"
        guard text.hasPrefix("ssh://") else { throw SSHTargetError("\(text): \(form)") }
        let rest = text.dropFirst("ssh://".count)
        guard let at = rest.firstIndex(of: "@"), at != rest.startIndex else { throw SSHTargetError("\(text): \(form)") }
        user = String(rest[..<at])
        var address = rest[rest.index(after: at)...]
        var portText: Substring?
        if address.hasPrefix("[") {
            guard let close = address.firstIndex(of: "]") else { throw SSHTargetError("\(text): \(form)") }
            let after = address[address.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw SSHTargetError("\(text): \(form)") }
                portText = after.dropFirst()
            }
            address = address[address.index(after: address.startIndex)..<close]
            guard address.contains(":") else { throw SSHTargetError("\(text): brackets are for IPv6 addresses") }
        } else if let colon = address.firstIndex(of: ":") {
            portText = address[address.index(after: colon)...]
            address = address[..<colon]
        }
        port = 22
        if let portText {
            // At most five digits before converting: a longer number must not trap.
            guard portText.count <= 5, portText.allSatisfy(\.isASCII), let number = Int(portText),
                (1...65535).contains(number)
            else { throw SSHTargetError("\(text): the port must be a number from 1 to 65535") }
            port = number
        }
        host = String(address)
        let forbidden: (Character) -> Bool = { $0 == "/" || $0 == "@" || $0 == "'" || $0.isWhitespace || $0.isNewline }
        guard !host.isEmpty, !user.isEmpty, !user.contains(where: { forbidden($0) || $0 == ":" }),
            !host.contains(where: forbidden)
        else { throw SSHTargetError("\(text): \(form)") }
    }

    package var description: String {
        let shown = host.contains(":") ? "[\(host)]" : host
        return "ssh://\(user)@\(shown)\(port == 22 ? "" : ":\(port)")"
    }

    /// How OpenSSH names the server in known_hosts: `HOST`, or `[HOST]:PORT` off port 22.
    package var knownHostsName: String { port == 22 ? host : "[\(host)]:\(port)" }

    /// Whether `text` is a host key fingerprint as `ssh-keygen -lf` prints it: `SHA256:` and 43
    /// characters of unpadded base64.
    package static func isFingerprint(_ text: String) -> Bool {
        guard text.hasPrefix("SHA256:") else { return false }
        let digest = text.dropFirst("SHA256:".count)
        return digest.count == 43
            && digest.unicodeScalars.allSatisfy {
                ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "+"
                    || $0 == "/"
            }
    }
}

extension SSHTarget {
    /// Whether `text` is a POSIX login name as `useradd` takes it.
    package static func isUserName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.unicodeScalars.count <= 32,
            ("a"..."z").contains(first) || first == "_"
        else { return false }
        return text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
    }

    /// Whether `path` may be the agent's folder on a server: absolute, two levels deep at least, plain
    /// path characters only (it goes into shell commands and a systemd unit), no `..`.
    package static func isPlainPrefix(_ path: String) -> Bool {
        let plain = path.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || "._/-".unicodeScalars.contains($0)
        }
        let segments = path.split(separator: "/")
        return path.hasPrefix("/") && segments.count >= 2 && plain && !segments.contains("..")
    }
}

extension String {
    /// This text in single quotes for a POSIX shell, a quote inside closed and escaped.
    package var shellQuoted: String {
        "'" + split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}

extension PushTarget {
    /// What makes this target unusable, or nil: the orchestrator checks a target from a plan again
    /// before its values go into commands on the node.
    package var problem: String? {
        if !SSHTarget.isUserName(user) { return "'\(user)' is not a user name" }
        if !SSHTarget.isPlainPrefix(prefix) { return "'\(prefix)' cannot be the agent's folder" }
        if !(1...65535).contains(port) { return "port \(port) is not from 1 to 65535" }
        if host.isEmpty || host.contains(where: { $0.isWhitespace || "'\"@/\\".contains($0) }) {
            return "'\(host)' is not a host"
        }
        if !SSHTarget.isFingerprint(hostKey) { return "its host key is not pinned as SHA256:…" }
        if let jump {
            guard (try? SSHTarget(parsing: jump)) != nil else { return "the jump host \(jump) is not ssh://USER@HOST" }
            if !SSHTarget.isFingerprint(jumpHostKey ?? "") { return "the jump host's key is not pinned as SHA256:…" }
        }
        return nil
    }
}

/// An `ssh://` address that is not one, with the form to use.
package struct SSHTargetError: Error, CustomStringConvertible, Sendable {
    package let description: String
    package init(_ description: String) { self.description = description }
}
