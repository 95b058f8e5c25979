import Foundation
import Sensors
import ServiceSupport
import TestSupport
import Testing

/// `sensors.yaml` as the agent renders it, and the one-line refusals of what does not fit.
struct SensorsConfigurationTests {
    private func load(_ text: String) throws -> SensorsConfiguration {
        let folder = try Fixtures.temporaryFolder("sensors-config")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("sensors.yaml")
        try Data(text.utf8).write(to: file)
        return try SensorsConfiguration.load(file.path)
    }

    private let base = "listen: {host: 127.0.0.1, port: 8104}\npublic_url: http://x/\ndatabase: sqlite:data/s.sqlite\n"

    @Test func renderedFile_readsWithItsDefaults() throws {
        let configuration = try load(base + "retention: 1d1h30m\npersonal_fields: \"device_id, plate\"\n")
        #expect(configuration.publicURL == "http://x")
        #expect(configuration.retentionSeconds == 86_400 + 5_400)
        #expect(configuration.privacy.droppedFields == ["device_id", "plate"])
        #expect(configuration.defaultPageSize == 100)
        #expect(configuration.maximumPageSize == 1000)
        #expect(configuration.adminToken.isEmpty)
    }

    @Test(arguments: [
        ("port: 8104", "port: 70000", "listen.port 70000 is not a TCP port"),
        ("database: sqlite:data/s.sqlite", "database: mysql://x", "database must be sqlite:PATH or a postgres:// URL"),
        (
            "public_url: http://x/", "public_url: http://x/\nmax_page_size: 0",
            "max_page_size 0 is not between 1 and 10000"
        ),
        ("public_url: http://x/", "public_url: http://x/\npage_size: 5000", "page_size 5000 is not between 1"),
        (
            "public_url: http://x/", "public_url: http://x/\nretention: 12h",
            "retention '12h' is not a duration of at least 1d"
        ),
        ("public_url: http://x/", "public_url: http://x/\nretention: 99999999999999d", "retention '99999999999999d'"),
        ("public_url: http://x/\n", "", "missing key 'public_url'"),
        (
            "public_url: http://x/", "public_url: http://x/\npull:\n  sources: ftp://mirror.example",
            "pull.sources: 'ftp://mirror.example' is not an http(s) URL"
        ),
        (
            "public_url: http://x/", "public_url: http://x/\npull:\n  interval: 2d",
            "pull.interval '2d' is not a duration from 1s to 1d"
        ),
        (
            "public_url: http://x/",
            "public_url: http://x/\nalerts:\n  smtp_relay: relay:25\n  mail_from: a@b.example\n  mail_to: \"x@y.example\\r\\nBcc: z@w\"",
            "alerts.mail_to must be 1 to 50 plain mail addresses"
        ),
        (
            "public_url: http://x/", "public_url: http://x/\nprivacy:\n  pseudonym_fields: device_id",
            "privacy.pseudonym_fields needs privacy.pseudonym_key"
        ),
        (
            "public_url: http://x/", "public_url: http://x/\nprivacy:\n  pseudonym_key: kurz",
            "privacy.pseudonym_key must have at least 16 characters"
        ),
        (
            "public_url: http://x/", "public_url: http://x/\nprivacy:\n  location_grid: 5",
            "privacy.location_grid 5 is not a cell size from 10 to 100000 metres"
        ),
        (
            "public_url: http://x/",
            "public_url: http://x/\nalerts:\n  smtp_relay: relay\n  mail_from: a@b\n  mail_to: c@d",
            "alerts.smtp_relay 'relay' is not HOST:PORT"
        ),
        (
            "public_url: http://x/",
            "public_url: http://x/\nalerts:\n  webhook_url: https://w.example\n  webhook_secret: kurz",
            "alerts.webhook_secret must have at least 16 characters"
        ),
        (
            "public_url: http://x/", "public_url: http://x/\nmqtt:\n  broker: mqtt://127.0.0.1\n  outbox_limit: 5",
            "mqtt.outbox_limit 5 is not between 100 and 10000000"
        ),
    ])
    func badValue_isOneLineNamingTheFileAndKey(replacing: String, with replacement: String, message: String) throws {
        let text = base.replacingOccurrences(of: replacing, with: replacement)
        let error = #expect(throws: ServiceStartError.self) { try load(text) }
        #expect(error?.description.contains("sensors.yaml: ") == true, "\(String(describing: error))")
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
        #expect(error?.description.contains("\n") == false)
    }
}
