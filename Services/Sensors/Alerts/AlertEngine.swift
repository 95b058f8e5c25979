import Crypto
import Database
import Foundation
import HTTPTransport
import Logging
import SensorThings
import ServiceLifecycle
import Synchronization
import Telemetry

/// Watches new observations and raises, ends and delivers alerts by the rules in the Datastreams.
///
/// Alerts are state in the store: a Datastream has at most one open alert per kind, an alert is
/// raised only on a change of that state, and what is to be delivered waits in `alert_deliveries`
/// until the receiver took it. So a restart evaluates everything again without raising anything
/// twice, and delivers what was pending without re-sending what was delivered: no storm.
struct AlertService: Service {
    let store: SensorStore
    let configuration: SensorsConfiguration
    let logger: Logger
    let now: @Sendable () -> Int64
    let counts: Counters

    /// How often new observations are looked for.
    static let checkInterval = Duration.seconds(1)

    /// The Datastreams of the observations after an id, read along the primary key and made
    /// distinct here: with `SELECT DISTINCT` SQLite scanned the whole (datastream, time) index
    /// instead, 0.8 s of CPU each second on a store of 10 million observations.
    static let datastreamsOfNewObservations = "SELECT datastream_id FROM observations WHERE id > $1 ORDER BY id"

    func run() async throws {
        let http = HTTPExchange()
        // Everything once at start, then what is new.
        var seen: Int64 = -1
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                seen = try await evaluateNew(since: seen)
                try await deliver(with: http)
                counts.add(["any", "checked"])
            } catch {
                logger.error("alerts: \(error)")
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.checkInterval) }
        }
        http.closeIdleConnections()
    }

    // MARK: Raising and ending

    /// Evaluates the Datastreams with rules that got observations after `seen` (all of them when
    /// `seen` is -1); returns the newest observation id.
    private func evaluateNew(since seen: Int64) async throws -> Int64 {
        try await store.pool.withWriter { connection in
            let newest = Int64(try connection.execute("SELECT MAX(id) FROM observations", []).first?.integer(0) ?? 0)
            guard newest > seen else { return newest }
            let ruled = try connection.execute(
                "SELECT id, name, properties FROM datastreams WHERE properties LIKE '%\"alerts\"%'", [])
            guard !ruled.isEmpty else { return newest }
            let changed: Set<Int64>? =
                seen < 0
                ? nil
                : Set(
                    try connection.execute(Self.datastreamsOfNewObservations, [.integer(seen)]).map {
                        Int64($0.integer(0))
                    })
            for row in ruled {
                let datastream = Int64(row.integer(0))
                // Staleness changes with the clock, so those rules are judged every round.
                let isChanged = changed?.contains(datastream) ?? true
                if !isChanged && !(row.optionalText(2)?.contains("stale_after_minutes") ?? false) { continue }
                guard let text = row.optionalText(2), let properties = try? JSONParser.parse(Array(text.utf8)) else {
                    continue
                }
                let rules: AlertRules?
                do {
                    rules = try AlertRules.from(datastream: datastream, properties: properties)
                } catch let error as IngestRejection {
                    logger.warning("alerts: \(error.message); the Datastream raises no alerts until it is fixed")
                    continue
                } catch {
                    continue
                }
                guard let rules else { continue }
                try connection.transaction {
                    try evaluate(datastream, name: row.text(1), rules: rules, on: connection)
                }
            }
            return newest
        }
    }

    private func evaluate(
        _ datastream: Int64, name: String, rules: AlertRules, on connection: any SQLConnection
    )
        throws
    {
        let latestQuery =
            "SELECT phenomenon_time_start, result_number FROM observations WHERE datastream_id = $1"
            + " AND result_number IS NOT NULL AND phenomenon_time_start <= $2"
            + " AND (result_quality IS NULL OR result_quality <> '\"implausible\"')"
            + " ORDER BY phenomenon_time_start DESC LIMIT 1"
        if let staleAfter = rules.staleAfter {
            try judgeStaleness(datastream, name: name, after: staleAfter, on: connection)
        }
        guard let latest = try connection.execute(latestQuery, [.integer(datastream), .integer(now())]).first,
            let value = latest.optionalReal(1)
        else { return }
        let observed = Int64(latest.integer(0))
        if let low = rules.low {
            let open = try openAlert(datastream, kind: "low", on: connection)
            let isLow = rules.isLowWater(value, wasLow: open != nil)
            if isLow && open == nil {
                try raise(
                    datastream, kind: "low", level: 0, name: low.name, value: value, observed: observed,
                    message: "\(name): \(low.name) — \(Self.number(value)) (bis \(Self.number(low.below)))",
                    on: connection)
            } else if let open, !isLow {
                try end(open.id, on: connection)
            }
        }
        if !rules.levels.isEmpty {
            let open = try openAlert(datastream, kind: "level", on: connection)
            let level = rules.level(for: value, current: open?.level ?? 0)
            if level != open?.level ?? 0 {
                if let open { try end(open.id, on: connection) }
                if level > 0 {
                    let threshold = rules.levels[level - 1]
                    try raise(
                        datastream, kind: "level", level: level, name: threshold.name, value: value, observed: observed,
                        message:
                            "\(name): \(threshold.name) — \(Self.number(value)) erreicht (ab \(Self.number(threshold.above)))",
                        on: connection)
                }
            }
        }
        if let limit = rules.risePerHour {
            let before = try connection.execute(latestQuery, [.integer(datastream), .integer(observed - 3_600_000)])
                .first?.optionalReal(1)
            let open = try openAlert(datastream, kind: "rise", on: connection)
            if let before {
                let rise = value - before
                if rise > limit && open == nil {
                    try raise(
                        datastream, kind: "rise", level: 0, name: "Schneller Anstieg", value: value, observed: observed,
                        message:
                            "\(name): Anstieg um \(Self.number(rise)) in einer Stunde (Grenze \(Self.number(limit)))",
                        on: connection)
                } else if let open, rise <= limit * 0.8 {
                    try end(open.id, on: connection)
                }
            }
        }
    }

    /// Raises "Keine Messwerte" when the latest reading of any quality (an implausible one still
    /// shows the gauge is alive) is older than the limit, and ends it with the next reading. A
    /// Datastream that never had a reading is not late.
    private func judgeStaleness(
        _ datastream: Int64, name: String, after limit: Int64, on connection: any SQLConnection
    ) throws {
        let latest = try connection.execute(
            "SELECT phenomenon_time_start FROM observations WHERE datastream_id = $1 AND phenomenon_time_start <= $2"
                + " ORDER BY phenomenon_time_start DESC LIMIT 1", [.integer(datastream), .integer(now())]
        ).first.map { Int64($0.integer(0)) }
        guard let latest else { return }
        let open = try openAlert(datastream, kind: "stale", on: connection)
        let isStale = now() - latest > limit
        if isStale && open == nil {
            try raise(
                datastream, kind: "stale", level: 0, name: "Keine Messwerte", value: nil, observed: latest,
                message:
                    "\(name): seit \(limit / 60_000) Minuten kein Messwert (der letzte von \(SensorTime.text(latest)))",
                on: connection)
        } else if let open, !isStale {
            try end(open.id, on: connection)
        }
    }

    private func openAlert(
        _ datastream: Int64, kind: String, on connection: any SQLConnection
    ) throws -> (
        id: Int64, level: Int
    )? {
        try connection.execute(
            "SELECT id, level FROM alerts WHERE datastream_id = $1 AND kind = $2 AND ended_at IS NULL ORDER BY id DESC LIMIT 1",
            [.integer(datastream), .text(kind)]
        ).first.map { (Int64($0.integer(0)), $0.integer(1)) }
    }

    private func raise(
        _ datastream: Int64, kind: String, level: Int, name: String, value: Double?, observed: Int64, message: String,
        on connection: any SQLConnection
    ) throws {
        let rows = try connection.execute(
            "INSERT INTO alerts (datastream_id, kind, level, name, value, observed_at, raised_at, message)"
                + " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            [
                .integer(datastream), .text(kind), .integer(Int64(level)), .text(name),
                value.map { .real($0) } ?? .null,
                .integer(observed), .integer(now()), .text(message),
            ])
        counts.add([kind, "raised"])
        if let id = rows.first?.integer(0) { try enqueue(Int64(id), event: "raised", on: connection) }
    }

    private func end(_ id: Int64, on connection: any SQLConnection) throws {
        try connection.execute("UPDATE alerts SET ended_at = $2 WHERE id = $1", [.integer(id), .integer(now())])
        counts.add(["any", "ended"])
        try enqueue(id, event: "ended", on: connection)
    }

    private func enqueue(_ alert: Int64, event: String, on connection: any SQLConnection) throws {
        let channels =
            (configuration.alertWebhook == nil ? [] : ["webhook"]) + (configuration.alertMail == nil ? [] : ["email"])
        for channel in channels {
            try connection.execute(
                "INSERT INTO alert_deliveries (alert_id, channel, event, attempts, next_attempt) VALUES ($1, $2, $3, 0, $4)",
                [.integer(alert), .text(channel), .text(event), .integer(now())])
        }
    }

    // MARK: Delivering

    /// Sends what is due to the webhook (signed) and the mail relay; a failure is tried again later,
    /// doubling the wait.
    private func deliver(with http: HTTPExchange) async throws {
        guard configuration.alertWebhook != nil || configuration.alertMail != nil else { return }
        let due = try await store.pool.withConnection { connection in
            try connection.execute(
                "SELECT d.id, d.event, d.attempts, a.id, d.channel FROM alert_deliveries d"
                    + " JOIN alerts a ON a.id = d.alert_id"
                    + " WHERE d.delivered_at IS NULL AND d.next_attempt <= $1 AND d.attempts < 20 ORDER BY d.id LIMIT 50",
                [.integer(now())])
        }
        for row in due {
            let delivery = Int64(row.integer(0))
            let attempts = row.integer(2)
            let alert = try await AlertDocument.load(Int64(row.integer(3)), store: store, configuration: configuration)
            guard let alert else { continue }
            let event = row.text(1)
            let channel = row.text(4)
            var error: String?
            do {
                switch channel {
                case "email":
                    guard let mail = configuration.alertMail else { continue }
                    let relay = MailRelay(host: mail.host, port: mail.port, from: mail.from, to: mail.to)
                    try await relay.send(
                        subject: (event == "ended" ? "Entwarnung: " : "Warnung: ") + alert.name + " — "
                            + alert.thingName,
                        body: alert.mailText(event: event),
                        messageID:
                            "alert-\(alert.id)-\(event)@\(URLComponents(string: alert.root)?.host ?? "stellwerk")")
                default:
                    guard let webhook = configuration.alertWebhook else { continue }
                    error = try await post(alert, event: event, to: webhook, with: http)
                }
            } catch let failure {
                error = "\(failure)"
            }
            let failure = error
            try await store.pool.withWriter { connection in
                if let error = failure {
                    let wait = min(Int64(5_000) << min(attempts, 10), 3_600_000)
                    try connection.execute(
                        "UPDATE alert_deliveries SET attempts = attempts + 1, next_attempt = $2, last_error = $3 WHERE id = $1",
                        [.integer(delivery), .integer(now() + wait), .text(String(error.prefix(500)))])
                } else {
                    try connection.execute(
                        "UPDATE alert_deliveries SET attempts = attempts + 1, delivered_at = $2 WHERE id = $1",
                        [.integer(delivery), .integer(now())])
                }
            }
            counts.add([channel, error == nil ? "delivered" : "failed"])
            if let error, attempts == 0 {
                logger.warning("alerts: \(channel) did not take alert \(alert.id): \(error)")
            }
        }
    }

    /// POSTs the alert, signed; the problem when the receiver did not take it.
    private func post(
        _ alert: AlertDocument, event: String, to webhook: (url: String, secret: String), with http: HTTPExchange
    ) async throws -> String? {
        var body = alert.json
        body.insert(("event", .string(event)), at: 0)
        let text = JSONValue.object(body).text
        let timestamp = String(now() / 1000)
        let signature = HMAC<SHA256>.authenticationCode(
            for: Data((timestamp + "." + text).utf8), using: SymmetricKey(data: Data(webhook.secret.utf8)))
        let answer = try await http.fetch(
            webhook.url, method: .POST,
            headers: [
                ("Content-Type", "application/json"), ("X-Stellwerk-Timestamp", timestamp),
                ("X-Stellwerk-Signature", "sha256=" + signature.map { String(format: "%02x", $0) }.joined()),
            ], body: Data(text.utf8), timeout: .seconds(10), limit: 1 << 16)
        return (200..<300).contains(answer.status) ? nil : "HTTP \(answer.status)"
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int64(value)) : String(format: "%.1f", value)
    }
}
