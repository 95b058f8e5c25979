import Foundation
import TestSupport
import Testing

/// The visualization service's pages in a real browser: Debian's headless Chromium driven by
/// Selenium from `.build/python-clients`, as the portal's. The overview, a chart and a dashboard load with
/// no console error, no request leaving loopback, text alternatives for every graphic, and no
/// sideways scrolling at 390 px; the screenshots stay in `.build/test-artifacts/visualization-*.png`.
@Suite(.serialized) struct VisualizationBrowserTests {
    static let python = Fixtures.repositoryRoot.appendingPathComponent(".build/python-clients/bin/python")
    static let available =
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
        && FileManager.default.isExecutableFile(atPath: python.path)
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    @Test(.enabled(if: available || required, "needs chromium, chromium-driver and scripts/python-clients"))
    func overviewChartAndDashboardPages_loadCleanly_stayOnLoopback_andFitANarrowScreen() async throws {
        try #require(
            Self.available,
            "install chromium and chromium-driver (scripts/install-packages) and run scripts/python-clients")
        let root = try Fixtures.temporaryFolder("stellwerk-visualization-browser")
        defer { try? FileManager.default.removeItem(at: root) }
        var (sensors, sensorsURL) = try await VisualizationServiceTests.sensors(host: "127.0.66.5", root: root)
        defer { ServiceLauncher.stop(&sensors) }
        let dashboards = root.appendingPathComponent("dashboards.yaml")
        try Data(
            """
            dashboards:
              - id: pegel
                title: Pegel in Kusel
                title_en: Gauges in Kusel
                panels:
                  - {id: jetzt, type: stat, datastream: Wasserstand Kusel}
                  - {id: verlauf, type: timeseries, datastream: 1, range: 7d}
                  - {id: stunden, type: bars, datastream: 1, aggregate: max}
                  - {id: karte, type: overview, title: Alle Pegel}

            """.utf8
        ).write(to: dashboards)
        var (service, address) = try await VisualizationServiceTests.visualization(
            host: "127.0.66.6", root: root, sensors: sensorsURL, extra: "dashboards: \(dashboards.path)")
        defer { ServiceLauncher.stop(&service) }
        let url = address

        let artifacts = Fixtures.repositoryRoot.appendingPathComponent(".build/test-artifacts")
        let output = root.appendingPathComponent("browser.out").path
        let status = try await offloaded {
            try Spawn.run(
                Self.python.path,
                [
                    Fixtures.repositoryRoot.appendingPathComponent("Tests/Interop/browser_pages.py").path,
                    artifacts.path, "visualization", "\(url)/", "\(url)/datastreams/1?range=24h",
                    "\(url)/datastreams/1?range=7d&lang=en", "\(url)/dashboards/pegel",
                    "\(url)/dashboards/pegel?lang=en&range=31d",
                ], standardOutput: output
            ).status
        }
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(printed)")
        #expect(printed.hasSuffix("ok\n"), "\(printed)")
        #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent("visualization-4.png").path))
        #expect(
            FileManager.default.fileExists(atPath: artifacts.appendingPathComponent("visualization-1-narrow.png").path))
    }
}
