import Database
import Foundation
import SensorThings
import ServiceSupport

/// One stored alert as the API, the webhook and CAP 1.2 (the Common Alerting Protocol German
/// warning systems take in) present it.
struct AlertDocument: Sendable {
    var id: Int64
    var kind: String
    var level: Int
    var name: String
    var value: Double?
    var message: String
    var observedAt: Int64
    var raisedAt: Int64
    var endedAt: Int64?
    var acknowledgedAt: Int64?
    var acknowledgedBy: String?
    var datastream: Int64
    var datastreamName: String
    var thingName: String
    /// The Thing's first Location, when it is a point: (latitude, longitude).
    var position: (Double, Double)?
    var root: String

    static let columns =
        "a.id, a.kind, a.level, a.name, a.value, a.message, a.observed_at, a.raised_at, a.ended_at,"
        + " a.acknowledged_at, a.acknowledged_by, d.id, d.name, t.name, t.id"

    static func load(
        _ id: Int64, store: SensorStore, configuration: SensorsConfiguration
    ) async throws
        -> AlertDocument?
    {
        try await list("WHERE a.id = $1", [.integer(id)], store: store, configuration: configuration).first
    }

    /// Alerts by a condition on `a` (alerts), `d` (their Datastream) and `t` (its Thing), newest first.
    static func list(
        _ condition: String, _ parameters: [SQLValue], limit: Int = 200, store: SensorStore,
        configuration: SensorsConfiguration
    ) async throws -> [AlertDocument] {
        try await store.pool.withConnection { connection in
            try connection.execute(
                "SELECT \(columns) FROM alerts a JOIN datastreams d ON d.id = a.datastream_id"
                    + " JOIN things t ON t.id = d.thing_id \(condition) ORDER BY a.id DESC LIMIT \(limit)", parameters
            ).map { row in
                var document = AlertDocument(
                    id: Int64(row.integer(0)), kind: row.text(1), level: row.integer(2), name: row.text(3),
                    value: row.optionalReal(4), message: row.text(5), observedAt: Int64(row.integer(6)),
                    raisedAt: Int64(row.integer(7)), endedAt: row.optionalInteger(8).map(Int64.init),
                    acknowledgedAt: row.optionalInteger(9).map(Int64.init), acknowledgedBy: row.optionalText(10),
                    datastream: Int64(row.integer(11)), datastreamName: row.text(12), thingName: row.text(13),
                    root: configuration.publicURL)
                document.position = try ThingPosition.of(thing: Int64(row.integer(14)), on: connection)
                return document
            }
        }
    }

    var state: String { endedAt != nil ? "ended" : acknowledgedAt != nil ? "acknowledged" : "open" }

    var json: [(String, JSONValue)] {
        var members: [(String, JSONValue)] = [
            ("id", .integer(id)), ("state", .string(state)), ("kind", .string(kind)), ("level", .integer(Int64(level))),
            ("name", .string(name)), ("message", .string(message)),
            (
                "Datastream",
                .object([
                    ("@iot.id", .integer(datastream)), ("name", .string(datastreamName)),
                    ("@iot.selfLink", .string("\(root)/v1.1/Datastreams(\(datastream))")),
                ])
            ),
            ("observedAt", .string(SensorTime.text(observedAt))), ("raisedAt", .string(SensorTime.text(raisedAt))),
            ("cap", .string("\(root)/alerts/\(id).cap")),
        ]
        if let value { members.append(("value", .number(value))) }
        if let endedAt { members.append(("endedAt", .string(SensorTime.text(endedAt)))) }
        if let acknowledgedAt { members.append(("acknowledgedAt", .string(SensorTime.text(acknowledgedAt)))) }
        if let acknowledgedBy { members.append(("acknowledgedBy", .string(acknowledgedBy))) }
        return members
    }

    /// The text of an alert mail, in German, as the municipal staff read it.
    func mailText(event: String) -> String {
        [
            event == "ended" ? "Entwarnung: \(name) ist beendet." : "Warnung: \(message)",
            "",
            "Pegel: \(thingName)", "Datenstrom: \(datastreamName)",
            "Wert: \(value.map { AlertService.number($0) } ?? "–") (gemessen \(SensorTime.text(observedAt)))",
            "Ausgelöst: \(SensorTime.text(raisedAt))" + (endedAt.map { ", beendet: \(SensorTime.text($0))" } ?? ""),
            "", "Daten: \(root)/v1.1/Datastreams(\(datastream))/Observations", "CAP: \(root)/alerts/\(id).cap",
            "Quittieren: POST \(root)/alerts/\(id)/acknowledge",
        ].joined(separator: "\n")
    }

    /// CAP 1.2: an `Alert` while open, a `Cancel` once it ended.
    var cap: String {
        let host = URLComponents(string: root)?.host ?? "localhost"
        let severity: String
        let event: String
        switch kind {
        case "rise": (severity, event) = ("Moderate", "Schneller Anstieg des Wasserstands")
        case "low": (severity, event) = ("Minor", "Niedrigwasser")
        case "stale": (severity, event) = ("Minor", "Ausfall der Pegelmessung")
        default:
            (severity, event) = (
                ["Minor", "Moderate", "Severe", "Extreme"][min(max(level, 1), 4) - 1], "Hochwasser: \(name)"
            )
        }
        var area = "<areaDesc>\(MarkupText.escape(thingName))</areaDesc>"
        if let (latitude, longitude) = position {
            area += "<circle>\(latitude),\(longitude) 0</circle>"
        }
        let sent = Self.capTime(endedAt ?? raisedAt)
        let references =
            endedAt == nil
            ? ""
            : "<references>\(MarkupText.escape(root)),stellwerk-\(host)-alert-\(id),\(Self.capTime(raisedAt))</references>"
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
            <identifier>stellwerk-\(MarkupText.escape(host))-alert-\(id)\(endedAt == nil ? "" : "-cancel")</identifier>
            <sender>\(MarkupText.escape(root))</sender>
            <sent>\(sent)</sent>
            <status>Actual</status>
            <msgType>\(endedAt == nil ? "Alert" : "Cancel")</msgType>
            <scope>Public</scope>
            \(references)<info>
            <language>de-DE</language>
            <category>\(kind == "stale" ? "Infra" : "Met")</category>
            <event>\(MarkupText.escape(event))</event>
            <urgency>\(endedAt == nil ? "Immediate" : "Past")</urgency>
            <severity>\(severity)</severity>
            <certainty>Observed</certainty>
            <senderName>\(MarkupText.escape(root))</senderName>
            <headline>\(MarkupText.escape(name)): \(MarkupText.escape(thingName))</headline>
            <description>\(MarkupText.escape(message))</description>
            <web>\(MarkupText.escape("\(root)/v1.1/Datastreams(\(datastream))"))</web>
            <parameter><valueName>value</valueName><value>\(value.map { String($0) } ?? "")</value></parameter>
            <area>\(area)</area>
            </info>
            </alert>

            """
    }

    /// The alerts as an Atom feed of CAP 1.2 documents, the form CAP aggregators poll: each entry
    /// links to its document and carries it inline.
    static func capFeed(_ alerts: [AlertDocument], root: String, now: Int64) -> String {
        let host = URLComponents(string: root)?.host ?? "localhost"
        let updated = alerts.map { $0.endedAt ?? $0.raisedAt }.max() ?? now
        var feed = """
            <?xml version="1.0" encoding="UTF-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom">
            <id>\(MarkupText.escape(root))/alerts.atom</id>
            <title>Pegelwarnungen \(MarkupText.escape(host))</title>
            <updated>\(capTime(updated))</updated>
            <author><name>\(MarkupText.escape(root))</name></author>
            <link rel="self" href="\(MarkupText.escape(root))/alerts.atom"/>

            """
        for alert in alerts {
            let document = alert.cap.split(separator: "\n", maxSplits: 1).last.map(String.init) ?? ""
            feed += """
                <entry>
                <id>urn:stellwerk:\(MarkupText.escape(host)):alert:\(alert.id)\(alert.endedAt == nil ? "" : ":cancel")</id>
                <title>\(MarkupText.escape(alert.endedAt == nil ? "" : "Entwarnung: "))\(MarkupText.escape(alert.name)): \(MarkupText.escape(alert.thingName))</title>
                <updated>\(capTime(alert.endedAt ?? alert.raisedAt))</updated>
                <link rel="alternate" type="application/cap+xml" href="\(MarkupText.escape(root))/alerts/\(alert.id).cap"/>
                <content type="application/cap+xml">\(document)</content>
                </entry>

                """
        }
        return feed + "</feed>\n"
    }

    /// CAP's time form: seconds and an explicit offset, never `Z`.
    static func capTime(_ milliseconds: Int64) -> String {
        SensorTime.text(milliseconds / 1000 * 1000).replacingOccurrences(of: "Z", with: "+00:00")
    }
}
