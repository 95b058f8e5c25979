import Foundation
import TestSupport
import Testing

/// The portal in a real browser: Debian's headless Chromium driven by Selenium from
/// `.build/python-clients`. The search page and a dataset page load without console errors and
/// without a single request leaving loopback; the screenshots stay in `.build/test-artifacts/`.
@Suite(.serialized) struct PortalBrowserTests {
    static let browser = FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
    static let available = browser && CatalogInteropTests.available

    @Test(
        .enabled(
            if: available || CatalogInteropTests.required, "needs chromium, chromium-driver and scripts/python-clients")
    )
    func searchAndDatasetPages_loadCleanly_andStayOnLoopback() async throws {
        try #require(
            Self.available,
            "install chromium and chromium-driver (scripts/install-packages) and run scripts/python-clients")
        let catalog = try await CatalogProcess(host: "127.0.52.40")
        defer { catalog.stop() }
        try await catalog.start()
        // A site's portal: the scope switch, the site's organisation first in the filter, its colour
        // and logo (the local Kusel's).
        try FileManager.default.copyItem(
            at: Fixtures.repositoryRoot.appendingPathComponent("Environments/local-sandbox/portal/kusel-logo.svg"),
            to: catalog.root.appendingPathComponent("logo.svg"))
        let portal = try PortalProcess(
            catalog: catalog, host: "127.0.52.41",
            extra: "organizations: landkreis-kusel\ncolour: petrol\nlogo_file: logo.svg")
        defer { portal.stop() }
        try await portal.start()
        let artifacts = Fixtures.repositoryRoot.appendingPathComponent(".build/test-artifacts")
        let output = catalog.root.appendingPathComponent("browser.out").path
        let status = try await offloaded {
            try Spawn.run(
                CatalogInteropTests.python.path,
                [
                    Fixtures.repositoryRoot.appendingPathComponent("Tests/Interop/browser_pages.py").path,
                    artifacts.path, "portal",
                    "\(portal.url)/dataset?q=Pegel&res_format=CSV&scope=all",
                    "\(portal.url)/dataset/pegelstaende-nette",
                    "\(portal.url)/en/", "\(portal.url)/dataset?scope=all&_tags_limit=0",
                ], standardOutput: output
            ).status
        }
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(printed)")
        #expect(printed.hasSuffix("ok\n"), "\(printed)")
        #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent("portal-2.png").path))
    }
}
