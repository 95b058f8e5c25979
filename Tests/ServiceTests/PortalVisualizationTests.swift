import Foundation
import TestSupport
import Testing

@testable import Portal

/// The portal shows its site's visualization service: the gauge map on the home page and the chart a
/// sensor dataset of its own site names, as images from that service only, allowed by the page's
/// Content-Security-Policy and nothing more.
@Suite(.serialized) struct PortalVisualizationTests {
    @Test func homeAndOwnSensorDataset_embedTheSitesCharts_andOtherSitesDatasetsDoNot() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.40")
        defer { catalog.stop() }
        try await catalog.start()
        let portal = try PortalProcess(
            catalog: catalog, host: "127.0.52.41", extra: "site: kusel\nvisualization_url: http://127.0.52.42:8103/")
        defer { portal.stop() }
        try await portal.start()

        let home = try await portal.get("/")
        #expect(home.status == 200)
        #expect(
            home.text.contains("<img src=\"http://127.0.52.42:8103/overview.svg\" alt=\"Karte der Pegel"),
            "\(home.text)")
        #expect(home.text.contains("<a href=\"http://127.0.52.42:8103/dashboards\">Dashboards</a>"))
        // A phone gets the map drawn for its width.
        #expect(
            home.text.contains(
                "<source media=\"(max-width: 600px)\" srcset=\"http://127.0.52.42:8103/overview.svg?size=narrow\""))
        #expect(
            home.headers["content-security-policy"]?.contains("img-src 'self' http://127.0.52.42:8103;") == true,
            "\(home.headers["content-security-policy"] ?? "")")

        // Kusel's own sensor dataset shows Kusel's chart; Mayen-Koblenz's names a panel of another site.
        let own = try await portal.get("/en/dataset/pegelmessstellen-kusel")
        #expect(
            own.text.contains(
                "<img src=\"http://127.0.52.42:8103/dashboards/pegel/panel/kusel.svg?lang=en\" alt=\"Chart of the current readings"
            ),
            "\(own.text)")
        #expect(own.text.contains("href=\"http://127.0.52.42:8103/dashboards/pegel/panel/kusel.csv\""))
        #expect(
            own.text.contains(
                "srcset=\"http://127.0.52.42:8103/dashboards/pegel/panel/kusel.svg?lang=en&amp;size=narrow\""))
        let other = try await portal.get("/dataset/pegelstaende-nette")
        #expect(other.status == 200 && !other.text.contains("/panel/"), "\(other.text)")
    }

    @Test func withoutAVisualizationService_nothingIsEmbedded_andTheImagesStayOnThisOrigin() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.43")
        defer { catalog.stop() }
        try await catalog.start()
        let portal = try PortalProcess(catalog: catalog, host: "127.0.52.44", extra: "site: kusel")
        defer { portal.stop() }
        try await portal.start()
        let home = try await portal.get("/")
        #expect(!home.text.contains("overview.svg"))
        #expect(home.headers["content-security-policy"]?.contains("img-src 'self';") == true)
        let dataset = try await portal.get("/dataset/pegelmessstellen-kusel")
        #expect(!dataset.text.contains("/panel/"))
    }

    @Test(arguments: [
        ("kusel/pegel/kusel", true), ("kaiserslautern/pegel/kusel", false), ("kusel/pegel", false),
        ("kusel/../x", false), ("kusel/Pegel/kusel", false), ("kusel/pegel/kusel.svg", false),
        ("kusel/pegel/\"><script>", false), ("kusel//kusel", false), ("", false),
    ])
    func panelExtra_namesOnlyPanelsOfTheOwnSite(value: String, embedded: Bool) {
        #expect((PortalPages.panel(value, site: "kusel") != nil) == embedded, "\(value)")
    }

    @Test func visualizationURL_thatIsNoWebAddress_stopsTheStart() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.45")
        defer { catalog.stop() }
        let portal = try PortalProcess(
            catalog: catalog, host: "127.0.52.46", extra: "visualization_url: javascript:alert(1)")
        let started = try await ProcessRunner.run(
            "datenplattform", ["portal", "--config", portal.config.path], in: catalog.root)
        #expect(started.status != 0)
        #expect(
            started.standardError.contains("visualization_url 'javascript:alert(1)' is not an http(s) URL"),
            "\(started.standardError)")
    }
}
