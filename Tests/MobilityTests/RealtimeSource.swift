import Foundation
import Hummingbird
import Logging
import Synchronization

/// A GTFS-Realtime producer for a test: a real HTTP server on a loopback address of the test's own
/// that answers `/rt.pb` with whatever body the test sets (a FeedMessage, or something that is not
/// one).
final class RealtimeSource: Sendable {
    let host: String
    private let body = Mutex<Data>(Data())
    private let port = Mutex<Int>(0)
    private let task = Mutex<Task<Void, any Error>?>(nil)

    init(host: String) { self.host = host }

    var url: String { "http://\(host):\(port.withLock { $0 })/rt.pb" }

    func serve(_ data: Data) { body.withLock { $0 = data } }

    func start() async throws {
        let router = Router()
        router.get("/rt.pb") { [self] _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/x-protobuf"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.body.withLock { $0 })))
        }
        let running = AsyncStream<Int>.makeStream()
        let application = Application(
            router: router, configuration: .init(address: .hostname(host, port: 0)),
            onServerRunning: { channel in running.continuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "realtime-source"))
        task.withLock { $0 = Task { try await application.runService(gracefulShutdownSignals: []) } }
        for await bound in running.stream {
            port.withLock { $0 = bound }
            break
        }
    }

    func stop() { task.withLock { $0?.cancel() } }
}
