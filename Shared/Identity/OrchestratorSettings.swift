/// Where the agent's orchestrator is and how to trust what it sends.
package struct OrchestratorSettings: Codable, Sendable, Hashable {
    /// The server's base URL, such as `https://stellwerk.example:8443`.
    package var url: String
    package var environment: String
    package var site: String
    package var node: String
    /// The orchestrator's Ed25519 release-signing public key, base64.
    package var signingKey: String

    package init(url: String, environment: String, site: String, node: String, signingKey: String) {
        self.url = url
        self.environment = environment
        self.site = site
        self.node = node
        self.signingKey = signingKey
    }
}
