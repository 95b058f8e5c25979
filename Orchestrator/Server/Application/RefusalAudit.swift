import Foundation
import Logging
import ServiceLifecycle
import Store

/// Refused API calls (401, 403, 429) in the audit log, without letting a flood of them grow the
/// store: per caller, status and request, the first refusal in a minute is written at once, and the
/// repeats are counted into one entry when the minute is over.
actor RefusalAudit: Service {
    struct Key: Hashable {
        var caller: String
        var status: Int
        var request: String
    }

    private struct Window {
        var started: Date
        var repeats: Int
        var message: String
    }

    private var windows: [Key: Window] = [:]
    private let store: StateStore
    private let logger: Logger
    static let interval: TimeInterval = 60
    /// More distinct refusals than this in a minute (an attacker varying paths or addresses) are
    /// counted together.
    static let keyLimit = 10_000

    init(store: StateStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func record(caller: String, status: Int, request: String, message: String, now: Date = Date()) async {
        var key = Key(caller: caller, status: status, request: String(request.prefix(200)))
        if windows[key] == nil, windows.count >= Self.keyLimit {
            key = Key(caller: "many callers", status: status, request: "many requests")
        }
        var entries: [AuditEvent] = []
        if var window = windows[key] {
            if now.timeIntervalSince(window.started) < Self.interval {
                window.repeats += 1
                windows[key] = window
                return
            }
            if let summary = Self.summary(key, window, until: now) { entries.append(summary) }
        }
        windows[key] = Window(started: now, repeats: 0, message: message)
        entries.append(
            AuditEvent(
                actor: key.caller, action: "request.refuse", object: key.request, detail: "\(status): \(message)"))
        await write(entries, at: now)
    }

    /// Writes the repeats of every minute that is over (every one, with `all`).
    func flush(now: Date = Date(), all: Bool = false) async {
        var entries: [AuditEvent] = []
        for (key, window) in windows where all || now.timeIntervalSince(window.started) >= Self.interval {
            if let summary = Self.summary(key, window, until: now) { entries.append(summary) }
            windows[key] = nil
        }
        await write(entries, at: now)
    }

    /// Flushes every minute, and once more when the server stops.
    nonisolated func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: .seconds(Self.interval)) } catch { break }
                await self.flush()
            }
        }
        await flush(all: true)
    }

    private static func summary(_ key: Key, _ window: Window, until now: Date) -> AuditEvent? {
        guard window.repeats > 0 else { return nil }
        let seconds = Int(min(now.timeIntervalSince(window.started), Self.interval).rounded())
        return AuditEvent(
            actor: key.caller, action: "request.refuse", object: key.request,
            detail: "\(key.status): \(window.repeats) more like this within \(seconds) s: \(window.message)")
    }

    private func write(_ entries: [AuditEvent], at now: Date) async {
        for entry in entries {
            do {
                _ = try await store.audit(entry, at: now)
            } catch {
                logger.warning("auditing a refused request: \(error)")
            }
        }
    }
}
