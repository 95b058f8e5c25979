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

    /// The outline file as a site gives it: the rings are read; a file that does not fit stops the
    /// start with one line naming it.
    @Test func outline_isReadOrRefusedNamingTheFile() throws {
        let folder = try Fixtures.temporaryFolder("visualization-outline")
        defer { try? FileManager.default.removeItem(at: folder) }
        func load(outline: String) throws -> VisualizationConfiguration {
            let file = folder.appendingPathComponent("kusel.geojson")
            try Data(outline.utf8).write(to: file)
            let config = folder.appendingPathComponent("visualization.yaml")
            try Data((base + "outline: \(file.path)\n").utf8).write(to: config)
            return try VisualizationConfiguration.load(config.path)
        }
        let read = try load(
            outline:
                #"{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [[[[7.3, 49.4], [7.7, 49.4], [7.7, 49.7], [7.3, 49.4]]], [[[7.8, 49.5], [7.9, 49.5], [7.9, 49.6], [7.8, 49.5]]]]}}]}"#
        )
        #expect(read.outline.count == 2 && read.outline[0].count == 4)
        for (outline, message) in [
            ("kein json", "is not JSON"),
            (#"{"type": "Point", "coordinates": [7.3, 49.4]}"#, "holds no Polygon or MultiPolygon"),
            (
                #"{"type": "Polygon", "coordinates": [[[7.3, 99], [7.7, 49.4], [7.3, 49.4]]]}"#,
                "not longitude, latitude"
            ),
            (#"{"type": "Polygon", "coordinates": [[["7.3", 49.4]]]}"#, "not longitude, latitude"),
        ] {
            #expect(
                performing: { _ = try load(outline: outline) },
                throws: { error in
                    let text = (error as? ServiceStartError)?.description ?? ""
                    return text.contains("outline") && text.contains(message) && !text.contains("\n")
                })
        }
        let many = "[" + Array(repeating: "[7.3, 49.4]", count: 100_001).joined(separator: ",") + "]"
        #expect(
            performing: { _ = try load(outline: #"{"type": "Polygon", "coordinates": [\#(many)]}"#) },
            throws: { error in
                (error as? ServiceStartError)?.description.contains("more than 100000 points") == true
            })
        let missing = folder.appendingPathComponent("missing.yaml")
        try Data((base + "outline: /nonexistent/kusel.geojson\n").utf8).write(to: missing)
        #expect(
            performing: { _ = try VisualizationConfiguration.load(missing.path) },
            throws: { error in
                (error as? ServiceStartError)?.description.contains(
                    "outline '/nonexistent/kusel.geojson' cannot be read") == true
            })
    }
}
