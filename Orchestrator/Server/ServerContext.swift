package import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's storage plus the channel, so handlers can read
/// the client certificate the TLS handshake verified.
package struct ServerContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    let channel: any Channel

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// JSON bodies are small; artifact uploads stream past this limit on their own route.
    package var maxUploadSize: Int { 1 << 20 }
}
