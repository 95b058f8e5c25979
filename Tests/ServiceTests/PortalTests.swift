import Foundation
import TestSupport
import Testing

@testable import Portal

/// The portal as citizens reach it: real HTML over HTTP from a portal process reading a catalog process.
@Suite(.serialized) struct PortalTests {
    @Test func pages_showSearchFacetsDatasetsAndOrganisations_inGermanAndEnglish() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.30")
        defer { catalog.stop() }
        try await catalog.start()
        let portal = try PortalProcess(catalog: catalog, host: "127.0.52.31")
        defer { portal.stop() }
        try await portal.start()

        let home = try await portal.get("/")
        #expect(home.status == 200)
        for path in ["/", "/dataset?q=Pegel", "/static/portal.css", "/health"] {
            let head = try await portal.head(path)
            #expect(head.status == 200, "HEAD \(path)")
            #expect(head.text.isEmpty, "HEAD \(path)")
        }
        // One log line per request, without the query: what a visitor searched for is theirs.
        #expect(portal.log.contains("HEAD /dataset 200"), "\(portal.log)")
        #expect(!portal.log.contains("Pegel"), "\(portal.log)")
        #expect(home.text.contains("<html lang=\"de\">"))
        #expect(home.text.contains("<label class=\"visually-hidden\" for=\"q\">Datensätze durchsuchen</label>"))
        #expect(home.text.contains("Haushalt der Stadt Kaiserslautern 2026"), "the newest dataset")
        #expect(home.text.contains("href=\"/dataset?groups=envi\">Umwelt</a>"))
        #expect(home.text.components(separatedBy: "<h1>").count == 2, "one main heading")
        #expect(home.text.contains("<main id=\"main\">") && home.text.contains("href=\"#main\""))

        // Search with words and facets; filters narrow, facet links add them.
        let search = try await portal.get("/dataset?q=Pegel")
        #expect(search.text.contains("3 Datensätze gefunden"), "\(search.text)")
        #expect(search.text.contains("href=\"/dataset?q=Pegel&amp;res_format=CSV\""))
        let narrowed = try await portal.get("/dataset?q=Pegel&res_format=CSV&sort=title")
        #expect(narrowed.text.contains("2 Datensätze gefunden"))
        #expect(narrowed.text.contains("aria-current=\"true\""))
        let titles = narrowed.text.components(separatedBy: "<h3><a href=\"/dataset/").dropFirst().map {
            String($0.prefix { $0 != "\"" })
        }
        #expect(titles == ["hochwassermeldestufen", "pegelstaende-nette"])

        // A dataset page: resources with format badges and downloads, licence link, tags, RDF links.
        let dataset = try await portal.get("/dataset/parkhaus-belegung")
        #expect(dataset.status == 200)
        #expect(dataset.text.contains("<h1>Belegung der Parkhäuser in Kaiserslautern</h1>"))
        #expect(dataset.text.contains("<span class=\"badge\">CSV</span>"))
        #expect(dataset.text.contains("href=\"https://opendata.kaiserslautern.example/parken/belegung-2025.csv\""))
        #expect(dataset.text.contains("<a href=\"https://www.govdata.de/dl-de/by-2-0\">Datenlizenz Deutschland"))
        #expect(dataset.text.contains("href=\"/dataset?tags=Parkhaus\""))
        #expect(dataset.text.contains("href=\"/organization/stadt-kaiserslautern\""))
        #expect(
            dataset.text.contains(
                "<link rel=\"alternate\" type=\"text/turtle\" href=\"\(catalog.url)/dataset/parkhaus-belegung.ttl\">"))

        // English, one click away, with the same pages.
        let english = try await portal.get("/en/dataset/parkhaus-belegung")
        #expect(english.text.contains("<html lang=\"en\">"))
        #expect(english.text.contains("Data and resources"))
        #expect(english.text.contains("href=\"/dataset/parkhaus-belegung\" lang=\"de\" hreflang=\"de\">Deutsch</a>"))
        #expect(dataset.text.contains("href=\"/en/dataset/parkhaus-belegung\" lang=\"en\" hreflang=\"en\">English</a>"))
        #expect(english.headers["content-language"] == "en")

        let organizations = try await portal.get("/organization")
        #expect(organizations.text.contains("Landkreis Kusel") && organizations.text.contains("2 Datensätze"))
        let kusel = try await portal.get("/organization/landkreis-kusel")
        #expect(kusel.text.contains("Ladesäulen für Elektrofahrzeuge"))
        let imprint = try await portal.get("/impressum")
        #expect(imprint.text.contains("href=\"https://www.testhausen.example/impressum\""))
        let privacy = try await portal.get("/en/privacy")
        #expect(privacy.text.contains("sets no cookies"))
        #expect(try await portal.get("/dataset/gibt-es-nicht").status == 404)
        #expect(try await portal.get("/irgendwo").status == 404)
        let metrics = try await portal.get("/metrics")
        #expect(metrics.text.contains("portal_pages_total{page=\"dataset\",status=\"200\"}"))
    }

    @Test func pages_escapeWhatTheyShow_pageLongResults_andLoadNothingFromElsewhere() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.32", seed: false)
        defer { catalog.stop() }
        try await catalog.start()
        _ = try await catalog.action("organization_create", ["name": "stadt-test"], token: catalog.token)
        for number in 0..<25 {
            let created = try await catalog.action(
                "package_create",
                [
                    "name": "messung-\(number)", "title": "Messung <script>alert(\(number))</script>",
                    "owner_org": "stadt-test", "notes": "Werte mit *Betonung* & Sonderzeichen",
                ], token: catalog.token)
            #expect(created.status == 200)
        }
        let portal = try PortalProcess(catalog: catalog, host: "127.0.52.33")
        defer { portal.stop() }
        try await portal.start()

        let first = try await portal.get("/dataset?sort=title")
        #expect(first.text.contains("25 Datensätze gefunden"))
        #expect(first.text.contains("Seite 1 von 2"))
        #expect(first.text.contains("href=\"/dataset?sort=title&amp;page=2\" rel=\"next\""))
        #expect(!first.text.contains("<script>"))
        #expect(first.text.contains("Messung &lt;script&gt;alert("))
        let second = try await portal.get("/dataset?sort=title&page=2")
        #expect(second.text.components(separatedBy: "<h3><a href=").count - 1 == 5)
        let page = try await portal.get("/dataset/messung-3")
        #expect(page.text.contains("<p>Werte mit <em>Betonung</em> &amp; Sonderzeichen</p>"))

        // Nothing is loaded from another origin: no scripts, images or fonts, one stylesheet of its own,
        // and a policy that forbids the rest.
        for text in [first.text, page.text] {
            #expect(!text.contains("src="))
            #expect(!text.contains("<script"))
            let stylesheets = text.components(separatedBy: "rel=\"stylesheet\"").count - 1
            #expect(stylesheets == 1 && text.contains("<link rel=\"stylesheet\" href=\"/static/portal.css\">"))
        }
        #expect(first.headers["content-security-policy"]?.contains("default-src 'none'") == true)
        #expect(first.headers["referrer-policy"] == "no-referrer")
        let css = try await portal.get("/static/portal.css")
        #expect(!css.text.contains("url(") && !css.text.contains("@import"))
    }

    @Test func catalogDown_showsAClearPage_andTheCatalogBack_showsDataAgain() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.34")
        defer { catalog.stop() }
        try await catalog.start()
        let portal = try PortalProcess(catalog: catalog, host: "127.0.52.35")
        defer { portal.stop() }
        try await portal.start()
        #expect(try await portal.get("/dataset").status == 200)

        let pid = catalog.pid
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let down = try await portal.get("/dataset?q=Pegel")
        #expect(down.status == 503)
        #expect(down.text.contains("<h1>Datenkatalog gerade nicht erreichbar</h1>"))
        #expect(down.text.contains("role=\"alert\""))
        #expect(!down.text.lowercased().contains("error:") && !down.text.contains("NIO"))
        #expect(try await portal.get("/health").status == 200)

        try await catalog.start()
        #expect(try await portal.get("/dataset?q=Pegel").status == 200)
    }

    @Test func aSitesPortal_searchesItsOwnOrganisations_switchesToTheCluster_andNamesLicences() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.60")
        defer { catalog.stop() }
        try await catalog.start()
        let portal = try PortalProcess(catalog: catalog, host: "127.0.52.61", extra: "organizations: landkreis-kusel")
        defer { portal.stop() }
        try await portal.start()
        func organisationFacet(_ page: String) -> [String] {
            let section = page.components(separatedBy: "<h3>Organisation</h3>").dropFirst().first ?? ""
            let list = section.components(separatedBy: "</ul>").first ?? ""
            return list.components(separatedBy: "<li><a href=").dropFirst().map { item in
                String(item.drop { $0 != ">" }.dropFirst().prefix { $0 != "<" })
            }
        }

        // By default the site's own datasets, with the switch to the whole cluster in sight.
        let own = try await portal.get("/dataset?q=Pegel")
        #expect(own.text.contains("1 Datensatz gefunden"), "\(own.text)")
        #expect(
            own.text.contains("Pegelmessstellen im Landkreis Kusel") && !own.text.contains("Pegelstände an der Nette"))
        #expect(
            own.text.contains(
                "Suchen in: <strong aria-current=\"true\">Landkreis Kusel</strong> · <a href=\"/dataset?q=Pegel&amp;scope=all\">allen Kommunen des Verbunds</a>"
            ), "\(own.text)")

        // The whole cluster, one click away; the site's organisation stays the first filter offered.
        let cluster = try await portal.get("/dataset?q=Pegel&scope=all")
        #expect(cluster.text.contains("3 Datensätze gefunden"))
        #expect(cluster.text.contains("<strong aria-current=\"true\">allen Kommunen des Verbunds</strong>"))
        // A new search or another sort stays with the cluster.
        #expect(cluster.text.components(separatedBy: "<input type=\"hidden\" name=\"scope\" value=\"all\">").count == 3)
        #expect(organisationFacet(cluster.text).first?.hasPrefix("Landkreis Kusel") == true, "\(cluster.text)")
        #expect(
            cluster.text.contains("href=\"/dataset?q=Pegel&amp;scope=all&amp;organization=landkreis-mayen-koblenz\""))
        // Even a search that found nothing of the site's offers its organisation.
        let budget = try await portal.get("/dataset?q=Haushalt&scope=all")
        #expect(budget.text.contains("2 Datensätze gefunden"))
        #expect(budget.text.contains("Landkreis Kusel <span class=\"meta\">(0)</span>"), "\(budget.text)")
        // Choosing another organisation searches it, whatever the scope.
        let other = try await portal.get("/dataset?organization=stadt-kaiserslautern")
        #expect(other.text.contains("3 Datensätze gefunden"), "\(other.text)")

        // Licences by name, not by identifier.
        #expect(cluster.text.contains(">Datenlizenz Deutschland – Zero – Version 2.0 <span class=\"meta\">"))
        #expect(!cluster.text.contains(">dl-zero-de/2.0 <span"))

        // Ten values of a facet, and the rest on request.
        let all = try await portal.get("/dataset?scope=all")
        let tagSection = { (page: String) in
            (page.components(separatedBy: "<h3>Schlagwort</h3>").dropFirst().first ?? "").components(
                separatedBy: "</section>"
            ).first ?? ""
        }
        #expect(tagSection(all.text).components(separatedBy: "<li>").count - 1 == 10)
        #expect(tagSection(all.text).contains("href=\"/dataset?scope=all&amp;_tags_limit=0\">Alle 22 anzeigen</a>"))
        let expanded = try await portal.get("/dataset?scope=all&_tags_limit=0")
        #expect(tagSection(expanded.text).components(separatedBy: "<li>").count - 1 == 22)
        #expect(tagSection(expanded.text).contains("href=\"/dataset?scope=all\">Weniger anzeigen</a>"))
    }

    @Test func datasetPages_previewTheFirstRowsOfFiles_fromAllowedHostsOnly() async throws {
        // The municipality's file server: Python's, on a loopback address of its own (it sends whole
        // files, whatever Range asks).
        let files = try Fixtures.temporaryFolder("preview-files")
        try Data(Array("Messstelle;Wasserstand (cm)\nLauterecken;123\nKusel S".utf8) + [0xFC] + Array("d;98\n".utf8))
            .write(to: files.appendingPathComponent("pegel.csv"))
        try Data([0xEF, 0xBB, 0xBF] + Array("Zählstelle,Anzahl\n\"Lauterstraße, Nord\",42\n".utf8))
            .write(to: files.appendingPathComponent("zaehlung.csv"))
        try Data(
            #"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[7.4,49.5]},"properties":{"name":"Ladesäule Marktplatz"}}]}"#
                .utf8
        ).write(to: files.appendingPathComponent("stellen.geojson"))
        try Data(String(repeating: "a;b\n", count: 80_000).utf8).write(to: files.appendingPathComponent("gross.csv"))
        let fileHost = "127.0.52.62"
        let filePort = try FreePort.find(host: fileHost)
        var server = try Spawn.run(
            "/usr/bin/python3", ["-m", "http.server", "--bind", fileHost, "--directory", files.path, String(filePort)],
            standardOutput: files.appendingPathComponent("server.log").path, wait: false
        ).pid
        defer { if server > 0 { kill(server, SIGTERM) } }

        let catalog = try await CatalogProcess(host: "127.0.52.63", seed: false)
        defer { catalog.stop() }
        try await catalog.start()
        try await waitUntil("the file server answers") {
            (try? await catalog.fetch("http://\(fileHost):\(filePort)/pegel.csv").status) == 200
        }
        _ = try await catalog.action("organization_create", ["name": "landkreis-kusel"], token: catalog.token)
        for (name, url, format) in [
            ("pegel", "http://\(fileHost):\(filePort)/pegel.csv", "CSV"),
            ("zaehlung", "http://\(fileHost):\(filePort)/zaehlung.csv", "CSV"),
            ("stellen", "http://\(fileHost):\(filePort)/stellen.geojson", ""),
            ("gross", "http://\(fileHost):\(filePort)/gross.csv", "CSV"),
            ("fremd", "http://127.0.52.64:9/daten.csv", "CSV"),
            ("bericht", "http://\(fileHost):\(filePort)/bericht.pdf", "PDF"),
        ] {
            let created = try await catalog.action(
                "package_create",
                [
                    "name": name, "title": "Daten \(name)", "owner_org": "landkreis-kusel",
                    "resources": [["name": "\(name)-datei", "url": url, "format": format]],
                ], token: catalog.token)
            #expect(created.status == 200, "\(created.body)")
        }
        let portal = try PortalProcess(
            catalog: catalog, host: "127.0.52.65", extra: "preview:\n  hosts: \"\(fileHost)\"\n  timeout: 3s")
        defer { portal.stop() }
        try await portal.start()

        // Latin-1 with semicolons, as spreadsheets on Windows export.
        let pegel = try await portal.get("/dataset/pegel").text
        #expect(pegel.contains("<th scope=\"col\">Wasserstand (cm)</th>"), "\(pegel)")
        #expect(pegel.contains("<td>Kusel Süd</td><td>98</td>"))
        #expect(pegel.contains("Die ersten 2 Zeilen von pegel-datei (Trennzeichen „;“, Zeichensatz ISO-8859-1)"))
        // UTF-8 with a byte order mark, commas, a quoted field holding one.
        let counts = try await portal.get("/dataset/zaehlung").text
        #expect(counts.contains("<th scope=\"col\">Zählstelle</th>") && counts.contains("<td>Lauterstraße, Nord</td>"))
        #expect(counts.contains("Zeichensatz UTF-8 (BOM)"))
        // GeoJSON: the features, their geometry and properties.
        let points = try await portal.get("/en/dataset/stellen").text
        #expect(points.contains("<th scope=\"col\">Geometry</th><th scope=\"col\">name</th>"), "\(points)")
        #expect(points.contains("<td>Point</td><td>Ladesäule Marktplatz</td>"))
        // Too large for the limit from a server that sends it whole; a host the site did not allow;
        // a format without a preview.
        #expect(try await portal.get("/dataset/gross").text.contains("größer als 256 KiB"))
        let foreign = try await portal.get("/dataset/fremd").text
        #expect(foreign.contains("Dateien von 127.0.52.64 zeigt dieses Portal nicht in der Vorschau"))
        #expect(!(try await portal.get("/dataset/bericht").text.contains("Vorschau")))
        // Nothing the browser loads comes from elsewhere: the table is in the page.
        #expect(!pegel.contains("src="))
        #expect(portal.log.contains("no preview of http://127.0.52.64:9/daten.csv"), "\(portal.log)")

        // The file server gone: the page of a file not fetched before still comes, saying so.
        kill(server, SIGTERM)
        var status: Int32 = 0
        waitpid(server, &status, 0)
        server = 0
        _ = try await catalog.action(
            "package_create",
            [
                "name": "spaeter", "title": "Später", "owner_org": "landkreis-kusel",
                "resources": [
                    ["name": "spaeter-datei", "url": "http://\(fileHost):\(filePort)/pegel.csv?neu", "format": "CSV"]
                ],
            ], token: catalog.token)
        let gone = try await portal.get("/dataset/spaeter")
        #expect(gone.status == 200 && gone.text.contains("Keine Vorschau: Die Datei war gerade nicht abrufbar."))
    }

    @Test func aSitesLook_colourFromThePalette_logo_andItsOwnImprint() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.66", seed: false)
        defer { catalog.stop() }
        try await catalog.start()
        let logo = #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>"#
        try Data(logo.utf8).write(to: catalog.root.appendingPathComponent("logo.svg"))
        try Data("Landkreis Kusel, Trierer Straße 49\n\nVertreten durch den *Landrat*.".utf8).write(
            to: catalog.root.appendingPathComponent("impressum.md"))
        try Data().write(to: catalog.root.appendingPathComponent("datenschutz.md"))
        let portal = try PortalProcess(
            catalog: catalog, host: "127.0.52.67",
            extra: "colour: rot\nlogo_file: logo.svg\nimprint_file: impressum.md\nprivacy_file: datenschutz.md")
        defer { portal.stop() }
        try await portal.start()

        #expect(try await portal.get("/static/portal.css").text.contains("--accent: #a4161a;"))
        let home = try await portal.get("/")
        #expect(home.text.contains("<img src=\"/static/logo.svg\" alt=\"\" height=\"40\">Offene Daten Testhausen</a>"))
        let served = try await portal.get("/static/logo.svg")
        #expect(served.text == logo && served.headers["content-type"] == "image/svg+xml")
        #expect(served.headers["content-security-policy"]?.hasPrefix("default-src 'none'") == true)
        let imprint = try await portal.get("/impressum").text
        #expect(imprint.contains("<p>Landkreis Kusel, Trierer Straße 49</p>"))
        #expect(imprint.contains("<p>Vertreten durch den <em>Landrat</em>.</p>"))
        #expect(imprint.contains("href=\"https://www.testhausen.example/impressum\""))
        // An empty text keeps the portal's own statement.
        #expect(try await portal.get("/datenschutz").text.contains("setzt keine Cookies"))
    }

    /// Every colour of the palette reads well: white on it, and it on white (WCAG AA, 4.5:1).
    @Test func thePalette_keepsEveryColourAtAContrastOfAtLeast4point5() {
        #expect(PortalLook.palette.count >= 6)
        for colour in PortalLook.palette {
            #expect(PortalLook.contrast(colour.hex, "#ffffff") >= 4.5, "\(colour.name) \(colour.hex)")
        }
        // The measure itself: black on white is 21:1, a light grey fails.
        #expect(abs(PortalLook.contrast("#000000", "#ffffff") - 21) < 0.01)
        #expect(PortalLook.contrast("#aaaaaa", "#ffffff") < 4.5)
    }

    @Test func configurationErrors_areOneClearLine() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.36", seed: false)
        defer { catalog.stop() }
        let portal = try PortalProcess(catalog: catalog, host: "127.0.52.37", language: "fr")
        let wrongLanguage = try await catalog.run(["portal", "--config", portal.config.path])
        #expect(wrongLanguage.status != 0)
        #expect(wrongLanguage.standardError.contains("language must be de or en, not 'fr'"))
        let text = try String(contentsOf: portal.config, encoding: .utf8)
        try Data(text.replacingOccurrences(of: "  api_url:", with: "  api:").utf8).write(to: portal.config)
        let missing = try await catalog.run(["portal", "--config", portal.config.path])
        #expect(missing.standardError.contains("missing key 'catalog.api_url'"), "\(missing.standardError)")
        let german = text.replacingOccurrences(of: "language: fr", with: "language: de")
        try Data((german + "organizations: \"landkreis-kusel,Stadt Kusel\"\n").utf8).write(to: portal.config)
        let badOrganisation = try await catalog.run(["portal", "--config", portal.config.path])
        #expect(
            badOrganisation.standardError.contains("organizations: 'Stadt Kusel' is not an organisation's name"),
            "\(badOrganisation.standardError)")
        // Preview settings out of bounds.
        for (preview, message) in [
            ("preview:\n  hosts: \"daten.kusel.example,http://x\"\n", "preview.hosts: 'http://x' is not a host name"),
            ("preview:\n  max_bytes: 99999999\n", "preview.max_bytes 99999999 is not between 4096 and 4194304"),
            ("preview:\n  timeout: 2h\n", "preview.timeout '2h' is not a duration from 1s to 1m"),
        ] {
            try Data((german + preview).utf8).write(to: portal.config)
            let refused = try await catalog.run(["portal", "--config", portal.config.path])
            #expect(refused.status != 0)
            #expect(refused.standardError.contains(message), "\(refused.standardError)")
        }
        // A colour outside the palette; logos that could run or load something.
        try Data((german + "colour: gelb\n").utf8).write(to: portal.config)
        let yellow = try await catalog.run(["portal", "--config", portal.config.path])
        #expect(yellow.standardError.contains("colour 'gelb' is not one of the portal's palette: blau, petrol"))
        for (svg, problem) in [
            (#"<svg><script>alert(1)</script></svg>"#, "holds a script"),
            (#"<svg><rect onload="x()"/></svg>"#, "holds an event handler"),
            (#"<svg><image href="https://tracker.example/p.png"/></svg>"#, "loads from elsewhere"),
            ("<html><body>kein Bild</body></html>", "is not an SVG image"),
        ] {
            try Data(svg.utf8).write(to: catalog.root.appendingPathComponent("logo.svg"))
            try Data((german + "logo_file: logo.svg\n").utf8).write(to: portal.config)
            let refused = try await catalog.run(["portal", "--config", portal.config.path])
            #expect(refused.status != 0)
            #expect(refused.standardError.contains("logo_file 'logo.svg' \(problem)"), "\(refused.standardError)")
        }
    }
}
