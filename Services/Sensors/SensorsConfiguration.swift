import Foundation
package import ServiceSupport

/// The sensor service's configuration file (`sensors.yaml`, rendered by the agent from the
/// blueprint).
package struct SensorsConfiguration: Sendable {
    package var host: String
    package var port: Int
    /// The address clients use, without `/v1.1`; self and navigation links start with it.
    package var publicURL: String
    /// `sqlite:PATH` (relative to the working folder) or a `postgres://` URL.
    package var database: String
    /// The token that allows writes (POST, PATCH, PUT, DELETE), given as `Authorization: Bearer …`
    /// or as the password of HTTP basic authentication; empty (the default) means nobody may write.
    package var adminToken: String
    /// Entities in a page when a request gives no `$top` (100, as FROST-Server).
    package var defaultPageSize: Int
    /// The most entities in a page, whatever `$top` asks for (1,000, as FROST-Server).
    package var maximumPageSize: Int
    /// How long observations are kept, in seconds (730 days by default); older ones are deleted.
    package var retentionSeconds: Int64
    /// What is dropped, pseudonymised and coarsened before anything is stored.
    package var privacy: ServicePrivacy
    /// The MQTT broker new entities are published to, when one is configured.
    package var mqtt: MQTTBroker?
    /// The token LoRaWAN network servers send with webhooks (`POST /ingest/ttn`, `/ingest/chirpstack`);
    /// empty: webhooks are refused.
    package var ingestToken: String
    /// Whether uplinks are taken from the broker too (The Things Stack and ChirpStack topics).
    package var ingestOverMQTT: Bool
    /// URL prefixes Datastreams may pull Pegelonline readings from (`properties.pull.source`); empty:
    /// no pulling.
    package var pullSources: [String]
    /// Seconds between two pulls of one Datastream (15 minutes by default).
    package var pullIntervalSeconds: Int
    /// Where alerts are delivered, signed with the secret; nil: alerts are only stored and served.
    package var alertWebhook: (url: String, secret: String)?
    /// The SMTP relay alerts are mailed through, and to whom; nil: no mail.
    package var alertMail: AlertMail?
    /// Whether the Pegelonline-shaped read view is served.
    package var pegelonlineView: Bool
    package var logLevel: String

    package init(
        host: String, port: Int, publicURL: String, database: String, adminToken: String = "",
        defaultPageSize: Int = 100, maximumPageSize: Int = 1000, retentionSeconds: Int64 = 730 * 86_400,
        privacy: ServicePrivacy = ServicePrivacy(), mqtt: MQTTBroker? = nil, pegelonlineView: Bool = false,
        logLevel: String = "info", ingestToken: String = "", ingestOverMQTT: Bool = true, pullSources: [String] = [],
        pullIntervalSeconds: Int = 900, alertWebhook: (url: String, secret: String)? = nil, alertMail: AlertMail? = nil
    ) {
        self.alertMail = alertMail
        self.alertWebhook = alertWebhook
        self.pullSources = pullSources
        self.pullIntervalSeconds = pullIntervalSeconds
        self.ingestToken = ingestToken
        self.ingestOverMQTT = ingestOverMQTT
        self.host = host
        self.port = port
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.database = database
        self.adminToken = adminToken
        self.defaultPageSize = defaultPageSize
        self.maximumPageSize = maximumPageSize
        self.retentionSeconds = retentionSeconds
        self.privacy = privacy
        self.mqtt = mqtt
        self.pegelonlineView = pegelonlineView
        self.logLevel = logLevel
    }

    private struct File: Decodable {
        struct MQTT: Decodable {
            var broker: String?
            var user: String?
            var password: String?
            var clientId: String?
            var outboxLimit: Int?
            var publicUrl: String?
            var ingest: Bool?

            enum CodingKeys: String, CodingKey {
                case broker, user, password, ingest
                case publicUrl = "public_url"
                case clientId = "client_id"
                case outboxLimit = "outbox_limit"
            }
        }
        var listen: ServiceListen
        var publicUrl: String
        var database: String
        var adminToken: String?
        var pageSize: Int?
        var maxPageSize: Int?
        var retention: String?
        var personalFields: String?
        var mqtt: MQTT?
        var pegelonlineView: Bool?
        struct Pull: Decodable {
            var sources: String?
            var interval: String?
        }
        var logLevel: String?
        var ingestToken: String?
        var pull: Pull?
        struct Alerts: Decodable {
            var webhookUrl: String?
            var webhookSecret: String?
            var smtpRelay: String?
            var mailFrom: String?
            var mailTo: String?

            enum CodingKeys: String, CodingKey {
                case webhookUrl = "webhook_url"
                case webhookSecret = "webhook_secret"
                case smtpRelay = "smtp_relay"
                case mailFrom = "mail_from"
                case mailTo = "mail_to"
            }
        }
        var alerts: Alerts?
        struct Privacy: Decodable {
            var pseudonymFields: String?
            var pseudonymKey: String?
            var locationGrid: Int?

            enum CodingKeys: String, CodingKey {
                case pseudonymFields = "pseudonym_fields"
                case pseudonymKey = "pseudonym_key"
                case locationGrid = "location_grid"
            }
        }
        var privacy: Privacy?

        enum CodingKeys: String, CodingKey {
            case listen, database, retention, mqtt, pull, alerts, privacy
            case publicUrl = "public_url"
            case adminToken = "admin_token"
            case pageSize = "page_size"
            case maxPageSize = "max_page_size"
            case personalFields = "personal_fields"
            case pegelonlineView = "pegelonline_view"
            case logLevel = "log_level"
            case ingestToken = "ingest_token"
        }
    }

    /// Reads `path`; a missing key, a wrong type or a value out of range is one line naming it.
    package static func load(_ path: String) throws(ServiceStartError) -> SensorsConfiguration {
        let file = try ServiceConfigurationFile.decode(File.self, from: path)
        try ServiceDatabase.checkLocation(file.database, in: path)
        try file.listen.check(in: path)
        let maximum = file.maxPageSize ?? 1000
        guard (1...10_000).contains(maximum) else {
            throw ServiceStartError("\(path): max_page_size \(maximum) is not between 1 and 10000")
        }
        let pageSize = file.pageSize ?? min(100, maximum)
        guard (1...maximum).contains(pageSize) else {
            throw ServiceStartError("\(path): page_size \(pageSize) is not between 1 and max_page_size (\(maximum))")
        }
        var retention: Int64 = 730 * 86_400
        if let text = file.retention {
            guard let seconds = ServiceConfigurationFile.seconds(text), seconds >= 86_400 else {
                throw ServiceStartError("\(path): retention '\(text)' is not a duration of at least 1d (as 730d, 48h)")
            }
            retention = seconds
        }
        func fields(_ text: String?) -> Set<String> {
            Set(
                (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                    !$0.isEmpty
                })
        }
        var privacy = ServicePrivacy(
            droppedFields: fields(file.personalFields), pseudonymFields: fields(file.privacy?.pseudonymFields))
        if let key = file.privacy?.pseudonymKey, !key.isEmpty {
            guard key.utf8.count >= 16 else {
                throw ServiceStartError(
                    "\(path): privacy.pseudonym_key must have at least 16 characters: a short key lets pseudonyms be reversed"
                )
            }
            privacy.pseudonymKey = key
        }
        if !privacy.pseudonymFields.isEmpty && privacy.pseudonymKey == nil {
            throw ServiceStartError("\(path): privacy.pseudonym_fields needs privacy.pseudonym_key")
        }
        if let grid = file.privacy?.locationGrid, grid != 0 {
            guard (10...100_000).contains(grid) else {
                throw ServiceStartError(
                    "\(path): privacy.location_grid \(grid) is not a cell size from 10 to 100000 metres (0: off)")
            }
            privacy.locationGrid = Double(grid)
        }
        let sources = (file.pull?.sources ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        for source in sources where !(source.hasPrefix("https://") || source.hasPrefix("http://")) {
            throw ServiceStartError("\(path): pull.sources: '\(source)' is not an http(s) URL")
        }
        var pullInterval: Int64 = 900
        if let text = file.pull?.interval, !text.isEmpty {
            guard let seconds = ServiceConfigurationFile.seconds(text), (1...86_400).contains(seconds) else {
                throw ServiceStartError("\(path): pull.interval '\(text)' is not a duration from 1s to 1d (as 15m)")
            }
            pullInterval = seconds
        }
        var webhook: (url: String, secret: String)?
        if let url = file.alerts?.webhookUrl, !url.isEmpty {
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw ServiceStartError("\(path): alerts.webhook_url '\(url)' is not an http(s) URL")
            }
            guard let secret = file.alerts?.webhookSecret, secret.utf8.count >= 16 else {
                throw ServiceStartError(
                    "\(path): alerts.webhook_secret must have at least 16 characters: receivers check the signature with it"
                )
            }
            webhook = (url, secret)
        }
        var mail: AlertMail?
        if let relay = file.alerts?.smtpRelay, !relay.isEmpty {
            mail = try AlertMail(
                relay: relay, from: file.alerts?.mailFrom ?? "", to: file.alerts?.mailTo ?? "", in: path)
        }
        var broker: MQTTBroker?
        if let mqtt = file.mqtt, let url = mqtt.broker, !url.isEmpty {
            broker = try MQTTBroker(
                url: url, user: mqtt.user, password: mqtt.password,
                clientID: mqtt.clientId ?? "stellwerk-sensors-\(file.listen.host)-\(file.listen.port)",
                outboxLimit: mqtt.outboxLimit ?? 50_000, publicURL: mqtt.publicUrl, in: path)
        }
        return SensorsConfiguration(
            host: file.listen.host, port: file.listen.port, publicURL: file.publicUrl, database: file.database,
            adminToken: file.adminToken ?? "", defaultPageSize: pageSize, maximumPageSize: maximum,
            retentionSeconds: retention, privacy: privacy, mqtt: broker,
            pegelonlineView: file.pegelonlineView ?? false, logLevel: file.logLevel ?? "info",
            ingestToken: file.ingestToken ?? "", ingestOverMQTT: file.mqtt?.ingest ?? true, pullSources: sources,
            pullIntervalSeconds: Int(pullInterval), alertWebhook: webhook, alertMail: mail)
    }
}

/// The `mqtt:` section: where the broker is and who the service is there.
package struct MQTTBroker: Sendable, Equatable {
    package var host: String
    package var port: Int
    package var user: String?
    package var password: String?
    package var clientID: String
    package var outboxLimit: Int
    /// The address SensorThings clients subscribe at, announced in `GET /v1.1`.
    package var publicURL: String

    package init(
        host: String, port: Int, user: String? = nil, password: String? = nil, clientID: String,
        outboxLimit: Int = 50_000, publicURL: String? = nil
    ) {
        self.publicURL = publicURL ?? "mqtt://\(host):\(port)"
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.clientID = clientID
        self.outboxLimit = outboxLimit
    }

    /// Reads `mqtt://HOST[:PORT]` (1883 by default); `mqtts` is refused until TLS to the broker is
    /// built.
    init(
        url: String, user: String?, password: String?, clientID: String, outboxLimit: Int, publicURL: String?,
        in path: String
    ) throws(ServiceStartError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw ServiceStartError("\(path): mqtt.broker '\(url)' is not a URL such as mqtt://127.0.0.1:1883")
        }
        guard scheme == "mqtt" else {
            throw ServiceStartError(
                "\(path): mqtt.broker '\(url)': only mqtt:// is built; TLS to the broker (mqtts://) is not built yet")
        }
        let port = components.port ?? 1883
        guard (1...65535).contains(port) else {
            throw ServiceStartError("\(path): mqtt.broker '\(url)' has no TCP port")
        }
        guard (1...256).contains(clientID.utf8.count) else {
            throw ServiceStartError("\(path): mqtt.client_id must have 1 to 256 bytes")
        }
        guard (100...10_000_000).contains(outboxLimit) else {
            throw ServiceStartError("\(path): mqtt.outbox_limit \(outboxLimit) is not between 100 and 10000000")
        }
        self.init(
            host: host, port: port, user: user.flatMap { $0.isEmpty ? nil : $0 },
            password: password.flatMap { $0.isEmpty ? nil : $0 }, clientID: clientID, outboxLimit: outboxLimit,
            publicURL: publicURL.flatMap { $0.isEmpty ? nil : $0 })
    }
}

/// `alerts.smtp_relay`, `alerts.mail_from` and `alerts.mail_to`: where alert mails go.
package struct AlertMail: Sendable {
    package var host: String
    package var port: Int
    package var from: String
    package var to: [String]

    init(relay: String, from: String, to: String, in path: String) throws(ServiceStartError) {
        let parts = relay.split(separator: ":")
        guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (1...65535).contains(port) else {
            throw ServiceStartError("\(path): alerts.smtp_relay '\(relay)' is not HOST:PORT")
        }
        let recipients = to.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        // Addresses go into the mail's header and the SMTP dialogue: nothing that could end a line.
        func plain(_ address: String) -> Bool {
            address.contains("@") && address.utf8.count <= 254
                && !address.contains { "\r\n<>, ".contains($0) || $0.isNewline }
        }
        guard plain(from) else {
            throw ServiceStartError("\(path): alerts.mail_from '\(from)' is not a plain mail address")
        }
        guard !recipients.isEmpty, recipients.count <= 50, recipients.allSatisfy(plain) else {
            throw ServiceStartError(
                "\(path): alerts.mail_to must be 1 to 50 plain mail addresses, comma-separated")
        }
        self.host = String(parts[0])
        self.port = port
        self.from = from
        self.to = recipients
    }
}
