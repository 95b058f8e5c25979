import CMosquitto
import Foundation
package import Logging
import Synchronization

/// One client of an MQTT broker (MQTT 3.1.1 through libmosquitto, the broker's own client library):
/// publishes at QoS 1 from an outbox that outlives the connection, subscribes to topics and hands
/// what arrives to `onMessage`, and reconnects with doubling back-off when the broker goes away.
///
/// libmosquitto is driven from one thread of the client's own (blocking calls stay off the event
/// loops), waiting in `poll` on the broker's socket and on a pipe that `publish` and `stop` write to.
/// A message leaves the outbox only when the broker acknowledged it; on a lost connection the
/// unacknowledged ones go back to the front of the outbox, and the next connection uses a fresh
/// libmosquitto instance, so the library never resends anything the outbox also resends. Delivery
/// is at least once: a message whose acknowledgement was lost with the connection is sent again.
package final class MQTTClient: Sendable {
    package struct Settings: Sendable {
        package var host: String
        package var port: Int
        /// Stays the same across restarts: with a persistent session the broker keeps what arrives
        /// for the subscriptions while the client is away.
        package var clientID: String
        package var username: String?
        package var password: String?
        package var keepAliveSeconds = 30
        /// Subscribed at QoS 1 after every connect.
        package var subscriptions: [String] = []
        /// Messages kept while the broker is away; past it the oldest are dropped and counted.
        package var outboxLimit = 50_000
        /// Messages sent and not yet acknowledged, at most.
        package var inFlightLimit = 256
        package var firstReconnectDelay = Duration.milliseconds(100)
        package var longestReconnectDelay = Duration.seconds(30)
        /// How long `stop` waits for the outbox to empty before it disconnects.
        package var drainTimeout = Duration.seconds(5)

        package init(host: String, port: Int, clientID: String, username: String? = nil, password: String? = nil) {
            self.host = host
            self.port = port
            self.clientID = clientID
            self.username = username
            self.password = password
        }
    }

    package struct Message: Sendable, Equatable {
        package var topic: String
        package var payload: [UInt8]

        package init(topic: String, payload: [UInt8]) {
            self.topic = topic
            self.payload = payload
        }
    }

    /// What the client did, for `/metrics` and tests.
    package struct Statistics: Sendable {
        package var connected = false
        package var connects = 0
        package var acknowledged = 0
        package var dropped = 0
        package var received = 0
        /// Subscriptions the broker granted, over all connections.
        package var granted = 0
        package var queued = 0
        /// Why the last connection attempt failed or the connection ended, for the log and tests.
        package var lastProblem: String?
    }

    private struct State {
        var outbox: [Message] = []
        /// Index of the outbox's first message: removing from the front is moving this on.
        var head = 0
        var inFlight: [Int32: Message] = [:]
        /// Whether the broker accepted the current connection (CONNACK 0).
        var accepted = false
        /// Set when the current connection ended, by a callback or a failed call.
        var lost = false
        var stopping = false
        var statistics = Statistics()

        var queuedCount: Int { outbox.count - head }

        mutating func takeFront() -> Message? {
            guard head < outbox.count else { return nil }
            let message = outbox[head]
            head += 1
            if head > 4096 && head * 2 > outbox.count {
                outbox.removeFirst(head)
                head = 0
            }
            return message
        }

        mutating func returnToFront(_ messages: [Message]) {
            outbox.replaceSubrange(0..<head, with: messages)
            head = 0
        }
    }

    private let settings: Settings
    private let logger: Logger
    private let onMessage: @Sendable (Message) -> Void
    private let state = Mutex(State())
    /// Read end and write end of the pipe that wakes the client's thread.
    private let wake: (read: Int32, write: Int32)
    private let finished = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let done = Mutex(false)

    package init(
        _ settings: Settings, logger: Logger, onMessage: @escaping @Sendable (Message) -> Void = { _ in }
    ) throws(MQTTError) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw MQTTError("cannot make a pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        self.wake = (fds[0], fds[1])
        self.settings = settings
        self.logger = logger
        self.onMessage = onMessage
        Self.initializeLibrary
    }

    deinit {
        close(wake.read)
        close(wake.write)
    }

    private static let initializeLibrary: Void = { _ = mosquitto_lib_init() }()

    /// Starts the client's thread; it connects, and keeps connecting, until `stop`.
    package func start() {
        // A write to a socket the broker closed must be an error, not the end of the process.
        signal(SIGPIPE, SIG_IGN)
        let thread = Thread { [self] in
            run()
            done.withLock { $0 = true }
            finished.withLock { continuation in
                continuation?.resume()
                continuation = nil
            }
        }
        thread.name = "mqtt"
        thread.start()
    }

    /// Queues messages for the broker; never waits. Past the outbox limit the oldest are dropped.
    package func publish(_ messages: [Message]) {
        guard !messages.isEmpty else { return }
        state.withLock { state in
            state.outbox += messages
            let excess = state.queuedCount - settings.outboxLimit
            if excess > 0 {
                state.head += excess
                state.statistics.dropped += excess
            }
        }
        wakeThread()
    }

    package var statistics: Statistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.queued = state.queuedCount + state.inFlight.count
            return statistics
        }
    }

    /// Sends what is queued (waiting at most the drain timeout), disconnects and ends the thread.
    package func stop() async {
        state.withLock { $0.stopping = true }
        wakeThread()
        await withCheckedContinuation { continuation in
            let alreadyDone = done.withLock { $0 }
            if alreadyDone {
                continuation.resume()
            } else {
                finished.withLock { $0 = continuation }
                // The thread may have ended between the two looks.
                if done.withLock({ $0 }) {
                    finished.withLock { pending in
                        pending?.resume()
                        pending = nil
                    }
                }
            }
        }
    }

    private func wakeThread() {
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
    }

    // MARK: The client's thread

    private func run() {
        var delay = settings.firstReconnectDelay
        while !state.withLock({ $0.stopping }) {
            let wasAccepted = connection()
            if state.withLock({ $0.stopping }) { break }
            if wasAccepted { delay = settings.firstReconnectDelay }
            wait(for: delay)
            delay = min(delay * 2, settings.longestReconnectDelay)
        }
    }

    /// One connection from connect to its end; true when the broker had accepted it.
    private func connection() -> Bool {
        guard let mosq = mosquitto_new(settings.clientID, false, Unmanaged.passUnretained(self).toOpaque()) else {
            note("libmosquitto could not make a client")
            return false
        }
        defer {
            mosquitto_destroy(mosq)
            state.withLock { state in
                let unacknowledged = state.inFlight.sorted { $0.key < $1.key }.map(\.value)
                state.inFlight = [:]
                state.returnToFront(unacknowledged)
                state.statistics.connected = false
                state.accepted = false
                state.lost = false
            }
        }
        _ = mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311)
        _ = mosquitto_max_inflight_messages_set(mosq, 0)
        if let username = settings.username {
            _ = mosquitto_username_pw_set(mosq, username, settings.password)
        }
        mosquitto_connect_callback_set(mosq) { _, object, code in
            MQTTClient.from(object).accepted(code)
        }
        mosquitto_disconnect_callback_set(mosq) { _, object, _ in
            MQTTClient.from(object).state.withLock { $0.lost = true }
        }
        mosquitto_publish_callback_set(mosq) { _, object, mid in
            MQTTClient.from(object).acknowledged(mid)
        }
        mosquitto_subscribe_callback_set(mosq) { _, object, _, count, qualities in
            let refused = (0..<Int(count)).filter { qualities?[$0] == 0x80 }.count
            MQTTClient.from(object).state.withLock { $0.statistics.granted += Int(count) - refused }
        }
        mosquitto_message_callback_set(mosq) { _, object, message in
            guard let message else { return }
            MQTTClient.from(object).arrived(message.pointee)
        }
        let code = mosquitto_connect(mosq, settings.host, Int32(settings.port), Int32(settings.keepAliveSeconds))
        guard code == MOSQ_ERR_SUCCESS.rawValue else {
            note("cannot connect to \(settings.host):\(settings.port): \(Self.describe(code))")
            return false
        }
        var subscribed = false
        var drainDeadline: ContinuousClock.Instant?
        while true {
            let (accepted, lost, stopping, idle) = state.withLock {
                ($0.accepted, $0.lost, $0.stopping, $0.queuedCount == 0 && $0.inFlight.isEmpty)
            }
            if lost { return accepted }
            if accepted && !subscribed {
                for topic in settings.subscriptions {
                    let code = mosquitto_subscribe(mosq, nil, topic, 1)
                    if code != MOSQ_ERR_SUCCESS.rawValue {
                        note("cannot subscribe to \(topic): \(Self.describe(code))")
                    }
                }
                subscribed = true
            }
            if stopping {
                let deadline = drainDeadline ?? .now + settings.drainTimeout
                drainDeadline = deadline
                if idle || !accepted || ContinuousClock.now >= deadline {
                    mosquitto_disconnect(mosq)
                    _ = mosquitto_loop_write(mosq, 1)
                    return accepted
                }
            }
            if accepted && !send(on: mosq) { return true }
            guard step(mosq) else { return state.withLock { $0.accepted } }
        }
    }

    /// Hands queued messages to libmosquitto up to the in-flight limit; false when the connection
    /// is gone.
    private func send(on mosq: OpaquePointer) -> Bool {
        while true {
            let next: Message? = state.withLock { state in
                state.inFlight.count < settings.inFlightLimit ? state.takeFront() : nil
            }
            guard let message = next else { return true }
            var mid: Int32 = 0
            let code = message.payload.withUnsafeBytes { bytes in
                mosquitto_publish(mosq, &mid, message.topic, Int32(bytes.count), bytes.baseAddress, 1, false)
            }
            if code == MOSQ_ERR_SUCCESS.rawValue {
                // The acknowledgement cannot have come yet: it is read on this thread, later.
                state.withLock { $0.inFlight[mid] = message }
            } else if code == MOSQ_ERR_PAYLOAD_SIZE.rawValue || code == MOSQ_ERR_MALFORMED_UTF8.rawValue
                || code == MOSQ_ERR_INVAL.rawValue
            {
                // A message the broker can never take: dropped and counted, not retried forever.
                state.withLock { $0.statistics.dropped += 1 }
                logger.error("mqtt: cannot publish to \(message.topic): \(Self.describe(code))")
            } else {
                state.withLock { $0.returnToFront([message]) }
                note("publishing failed: \(Self.describe(code))")
                return false
            }
        }
    }

    /// Waits for the socket or a wake-up and lets libmosquitto read, write and keep the connection
    /// alive; false when the connection is gone.
    private func step(_ mosq: OpaquePointer) -> Bool {
        let socket = mosquitto_socket(mosq)
        guard socket >= 0 else {
            note("the connection to \(settings.host):\(settings.port) closed")
            return false
        }
        var descriptors = [
            pollfd(
                fd: socket, events: Int16(POLLIN) | (mosquitto_want_write(mosq) ? Int16(POLLOUT) : 0), revents: 0),
            pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0),
        ]
        _ = poll(&descriptors, 2, 1000)
        if descriptors[1].revents != 0 {
            var buffer = [UInt8](repeating: 0, count: 256)
            while read(wake.read, &buffer, buffer.count) > 0 {}
        }
        if descriptors[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
            let code = mosquitto_loop_read(mosq, 64)
            guard code == MOSQ_ERR_SUCCESS.rawValue else {
                note("the connection to \(settings.host):\(settings.port) was lost: \(Self.describe(code))")
                return false
            }
        }
        if mosquitto_want_write(mosq) {
            let code = mosquitto_loop_write(mosq, 64)
            guard code == MOSQ_ERR_SUCCESS.rawValue else {
                note("the connection to \(settings.host):\(settings.port) was lost: \(Self.describe(code))")
                return false
            }
        }
        let code = mosquitto_loop_misc(mosq)
        guard code == MOSQ_ERR_SUCCESS.rawValue else {
            note("the connection to \(settings.host):\(settings.port) was lost: \(Self.describe(code))")
            return false
        }
        return true
    }

    /// Sleeps `duration`, or less when `stop` is called.
    private func wait(for duration: Duration) {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        var descriptor = pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)
        _ = poll(&descriptor, 1, Int32(clamping: milliseconds))
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(wake.read, &buffer, buffer.count) > 0 {}
    }

    // MARK: libmosquitto's callbacks, on the client's thread

    private static func from(_ object: UnsafeMutableRawPointer?) -> MQTTClient {
        Unmanaged<MQTTClient>.fromOpaque(object!).takeUnretainedValue()
    }

    private func accepted(_ code: Int32) {
        if code == 0 {
            let first = state.withLock { state in
                state.accepted = true
                state.statistics.connected = true
                state.statistics.connects += 1
                state.statistics.lastProblem = nil
                return state.statistics.connects == 1
            }
            logger.info("mqtt: connected to \(settings.host):\(settings.port)\(first ? "" : " again")")
        } else {
            note(
                "the broker at \(settings.host):\(settings.port) refused: \(String(cString: mosquitto_connack_string(code)))"
            )
            state.withLock { $0.lost = true }
        }
    }

    private func acknowledged(_ mid: Int32) {
        state.withLock { state in
            if state.inFlight.removeValue(forKey: mid) != nil { state.statistics.acknowledged += 1 }
        }
    }

    private func arrived(_ message: mosquitto_message) {
        let topic = String(cString: message.topic)
        let count = Int(max(0, message.payloadlen))
        let payload =
            count == 0 || message.payload == nil
            ? [] : [UInt8](UnsafeRawBufferPointer(start: message.payload, count: count))
        state.withLock { $0.statistics.received += 1 }
        onMessage(Message(topic: topic, payload: payload))
    }

    /// Logs a connection problem once (not again while it stays the same), and keeps it for tests.
    private func note(_ problem: String) {
        let repeated = state.withLock { state in
            defer { state.statistics.lastProblem = problem }
            return state.statistics.lastProblem == problem
        }
        if !repeated { logger.warning("mqtt: \(problem)") }
    }

    private static func describe(_ code: Int32) -> String {
        code == MOSQ_ERR_ERRNO.rawValue ? String(cString: strerror(errno)) : String(cString: mosquitto_strerror(code))
    }
}

/// A client that cannot be set up (the broker's address is checked when the configuration is read).
package struct MQTTError: Error, CustomStringConvertible {
    package var description: String

    init(_ description: String) {
        self.description = description
    }
}
