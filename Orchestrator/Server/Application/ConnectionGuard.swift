import Foundation
package import HummingbirdCore
import HummingbirdTLS
package import Logging
import NIOCore
package import NIOSSL
import NIOTLS
import Synchronization

/// Keeps one client from taking the server's connections: at most `perClient` open connections from
/// one address, and a TLS handshake that must finish within `handshakeTimeout`. A connection over the
/// cap is closed at once; refusals are logged once a minute per address, not once per connection.
package final class ConnectionGuard: Sendable {
    package struct Limits: Sendable {
        package var perClient: Int
        package var handshakeTimeout: Duration

        /// 256 connections per address (every agent of a site behind one NAT address fits) and 10 s
        /// for a handshake.
        package init(perClient: Int = 256, handshakeTimeout: Duration = .seconds(10)) {
            self.perClient = perClient
            self.handshakeTimeout = handshakeTimeout
        }
    }

    package let limits: Limits
    private let logger: Logger
    private struct State {
        var open: [String: Int] = [:]
        /// When refusals from an address were last logged.
        var logged: [String: ContinuousClock.Instant] = [:]
    }
    private let state = Mutex(State())

    package init(limits: Limits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// Counts a new connection from `address`; false when the address is at its cap.
    func admit(_ address: String) -> Bool {
        let (admitted, log) = state.withLock { state -> (Bool, Bool) in
            let open = state.open[address, default: 0]
            guard open >= limits.perClient else {
                state.open[address] = open + 1
                return (true, false)
            }
            let now = ContinuousClock.now
            if let last = state.logged[address], now - last < .seconds(60) { return (false, false) }
            state.logged[address] = now
            return (false, true)
        }
        if log {
            logger.warning(
                "server: \(address) holds \(limits.perClient) connections, the most one client may; closing its new ones (logged once a minute)"
            )
        }
        return admitted
    }

    func release(_ address: String) {
        state.withLock { state in
            let open = state.open[address, default: 1] - 1
            state.open[address] = open > 0 ? open : nil
        }
    }

    /// Connections open from `address` now.
    package func openConnections(from address: String) -> Int { state.withLock { $0.open[address, default: 0] } }

    /// Builds the server's child channels: TLS over HTTP/1 as before, with this guard in front.
    package func server(tls: TLSConfiguration, idleTimeout: Duration) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            GuardedChannel(
                base: try TLSChannel(
                    HTTP1Channel(
                        responder: responder, configuration: .init(idleTimeout: .nanoseconds(idleTimeout.nanoseconds))),
                    tlsConfiguration: tls),
                guard: self)
        }
    }

    /// Raises the soft limit of open files to the hard one, and returns how many connections the
    /// server may hold so that the store, logs and artifacts always have descriptors left.
    package static func connectionCeiling() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let descriptors = Int(clamping: min(limit.rlim_cur, 1 << 20))
        return max(descriptors - 256, 64)
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// A child channel that is first admitted by the guard, then set up as `base` (TLS, HTTP/1), with a
/// timer that closes it when its TLS handshake has not finished in time.
struct GuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let `guard`: ConnectionGuard

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        guard self.guard.admit(address) else {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ChannelError.inputClosed)
        }
        let guardRef = self.guard
        channel.closeFuture.whenComplete { _ in guardRef.release(address) }
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let ssl = try channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
            try channel.pipeline.syncOperations.addHandler(
                HandshakeDeadline(timeout: guardRef.limits.handshakeTimeout), position: .after(ssl))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension GuardedChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}

/// Closes the connection unless the TLS handshake completes within `timeout`.
final class HandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    let timeout: Duration
    private var timer: Scheduled<Void>?

    init(timeout: Duration) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted? = event as? TLSUserEvent {
            timer?.cancel()
            timer = nil
        }
        context.fireUserInboundEventTriggered(event)
    }
}
