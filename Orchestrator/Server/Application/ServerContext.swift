package import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's storage, the channel (for the client certificate
/// the TLS handshake verified), and who is calling, filled in by ``AuthenticationMiddleware``.
package struct ServerContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// Who sent the request, as the credentials it carried say.
    var caller: Caller = .anonymous

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The address the request came from, as audit entries and limits name it.
    var clientAddress: String { channel.remoteAddress?.ipAddress ?? "unknown address" }

    /// JSON bodies are small unless an endpoint says otherwise; artifact uploads stream on their own.
    package var maxUploadSize: Int { 1 << 20 }
}

/// Who sent a request.
enum Caller: Sendable {
    /// No credentials: only endpoints open to anyone answer.
    case anonymous
    /// An operator, by API token.
    case `operator`(Operator)
    /// A node, by its client certificate.
    case agent(AgentIdentity)
    /// Credentials were sent but are not valid: what to answer an endpoint that needs them.
    case refused(APIError)
}
