package import FoundationEssentials
import Glibc
package import StellwerkAPI

/// Writes an instance's config files into its release folder, filling in `{{secret:NAME}}` markers.
/// Files holding a secret are written 0600 (or stricter, as the plan says); secret values never
/// appear in logs or errors.
package enum RenderConfig {
    /// Writes every file of `spec` under `folder`; a marker whose secret is not given is an error that
    /// names the secret, not its value.
    ///
    /// - Returns: the SHA-256 of each file as written, by path, to notice later edits (drift).
    @discardableResult
    package static func render(
        _ spec: InstanceSpec, into folder: URL, secrets: [String: String], refused: [String: String] = [:]
    ) throws(AgentError)
        -> [String: String]
    {
        var written: [String: String] = [:]
        for file in spec.configFiles {
            guard !file.path.hasPrefix("/"), !file.path.split(separator: "/").contains("..") else {
                throw AgentError("the config file '\(file.path)' would leave the release folder")
            }
            var content = ""
            var rest = Substring(file.content)
            while let open = rest.firstRange(of: "{{secret:"), let close = rest[open.upperBound...].firstRange(of: "}}")
            {
                let marker = rest[open.upperBound..<close.lowerBound].split(separator: "|", maxSplits: 1)
                let name = String(marker.first ?? "")
                guard let value = secrets[name] else {
                    if let reason = refused[name] {
                        throw AgentError("the secret '\(name)' that \(file.path) needs was not delivered: \(reason)")
                    }
                    throw AgentError("the secret '\(name)' that \(file.path) needs was not delivered to this node")
                }
                content += rest[..<open.lowerBound]
                switch marker.count > 1 ? String(marker[1]) : nil {
                case nil: content += value
                case "mosquitto_password": content += MosquittoPassword.hash(value, label: name)
                case let filter?:
                    throw AgentError("\(file.path) asks for the filter '\(filter)', which this agent does not know")
                }
                rest = rest[close.upperBound...]
            }
            content += rest
            let target = folder.appendingPathComponent(file.path)
            do {
                try FileManager.default.createDirectory(
                    at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                let temporary = target.deletingLastPathComponent().appendingPathComponent(
                    ".\(target.lastPathComponent).new")
                try? FileManager.default.removeItem(at: temporary)
                // Created with its final mode, so a secret is never readable by others, not even briefly.
                guard
                    FileManager.default.createFile(
                        atPath: temporary.path, contents: Data(content.utf8), attributes: [.posixPermissions: file.mode]
                    )
                else { throw AgentError("cannot write \(file.path)") }
                guard rename(temporary.path, target.path) == 0 else {
                    throw AgentError("cannot put \(file.path) in place: \(String(cString: strerror(errno)))")
                }
                written[file.path] = Drift.digest(Data(content.utf8))
            } catch let error as AgentError {
                throw error
            } catch {
                throw AgentError("writing the config file \(file.path): \(error)")
            }
        }
        return written
    }
}

/// An agent operation failed; the message says what was being done.
package struct AgentError: Error, Sendable, CustomStringConvertible {
    package var description: String
    /// Whether trying again later may succeed with nothing changed (the orchestrator was away while an
    /// artifact downloaded), as opposed to a refusal that stays one (a bad signature, a failing health).
    package var isTransient: Bool

    package init(_ description: String, transient: Bool = false) {
        self.description = description
        self.isTransient = transient
    }

    /// Adds what was being done: "installing catalog r-1 on kl-sbx-1: …".
    package func context(_ doing: String) -> AgentError {
        AgentError("\(doing): \(description)", transient: isTransient)
    }
}
