import Foundation
import ServiceSupport
import TestSupport
import Testing
import Visualization

/// `visualization.yaml` as the agent renders it, and the one-line refusals of what does not fit.
struct VisualizationConfigurationTests {
    private let base = """
        listen: {host: 127.0.0.1, port: 8103}
        public_url: https://grafiken.kusel.example/
        sensors_url: http://127.0.0.1:8104/
        cache_for: 1m
        theme: hell

        """

    private func load(_ text: String) throws -> VisualizationConfiguration {
        let folder = try Fixtures.temporaryFolder("visualization-config")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("visualization.yaml")
        try Data(text.utf8).write(to: file)
        return try VisualizationConfiguration.load(file.path)
    }

    @Test func renderedFile_readsWithItsDefaults() throws {
        let configuration = try load(base)
        #expect(configuration.publicURL == "https://grafiken.kusel.example")
        #expect(configuration.sensorsURL == "http://127.0.0.1:8104")
        #expect(configuration.cacheSeconds == 60 && configuration.sourceTimeoutSeconds == 5)
        #expect(configuration.theme == "hell")
    }

    @Test(arguments: [
        ("port: 8103", "port: 0", "listen.port 0 is not a TCP port"),
        (
            "sensors_url: http://127.0.0.1:8104/", "sensors_url: 127.0.0.1:8104",
            "sensors_url '127.0.0.1:8104' is not an http(s) URL"
        ),
        ("cache_for: 1m", "cache_for: 2h", "cache_for '2h' is not a duration from 0s to 1h"),
        ("cache_for: 1m", "cache_for: 99999999999999d", "cache_for '99999999999999d'"),
        ("theme: hell", "theme: bunt", "theme 'bunt' is not one of hell, dunkel, kontrast"),
        ("cache_for: 1m", "source_timeout: 0s", "source_timeout '0s' is not a duration from 1s to 2m"),
        ("public_url: https://grafiken.kusel.example/\n", "", "missing key 'public_url'"),
    ])
    func badValue_isOneLineNamingTheFileAndKey(replacing: String, with: String, message: String) {
        #expect {
            _ = try load(base.replacingOccurrences(of: replacing, with: with))
        } throws: { error in
            let text = (error as? ServiceStartError)?.description ?? ""
            return text.contains("visualization.yaml") && text.contains(message) && !text.contains("\n")
        }
    }
}
