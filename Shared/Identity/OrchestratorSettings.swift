import Crypto
import FoundationEssentials
import StellwerkAPI

/// Where the agent's orchestrator is and how to trust what it sends.
package struct OrchestratorSettings: Codable, Sendable, Hashable {
    /// The server's base URL, such as `https://stellwerk.example:8443`.
    package var url: String
    package var environment: String
    package var site: String
    package var node: String
    /// The orchestrator's Ed25519 release-signing public key, base64.
    package var signingKey: String
    /// Every server of the orchestrator, as the servers last said; the agent goes on with the next one
    /// when its server goes away. Nil (a file from before) or empty: `url` only.
    package var urls: [String]?

    package init(
        url: String, environment: String, site: String, node: String, signingKey: String, urls: [String]? = nil
    ) {
        self.url = url
        self.environment = environment
        self.site = site
        self.node = node
        self.signingKey = signingKey
        self.urls = urls
    }

    /// Names a list of servers in a few characters: the agent says which list it has, and hears of
    /// another at once.
    package static func digest(of urls: [String]) -> String {
        String(SHA256.hash(data: Data(urls.joined(separator: "\n").utf8)).lowercaseHex.prefix(16))
    }

    /// The servers to try, in order: the one the node joined through (the address its operator gave),
    /// then the others the servers named (only `https://` addresses).
    package var candidates: [String] {
        var candidates = [url]
        for other in urls ?? [] where other.hasPrefix("https://") && !candidates.contains(other) {
            candidates.append(other)
        }
        return candidates
    }
}
