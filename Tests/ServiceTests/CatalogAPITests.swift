import Catalog
import Foundation
import TestSupport
import Testing

/// The catalog's CKAN Action API over real HTTP against the seeded sample catalog.
@Suite(.serialized) struct CatalogAPITests {
    private func names(_ reply: CatalogProcess.Reply) -> [String] {
        ((reply.result as? [String: Any])?["results"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
    }

    @Test func search_findsGermanWordForms_filtersFacetsPagesAndSorts() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.1")
        defer { catalog.stop() }
        try await catalog.start()

        // "Pegelstand" finds the dataset titled "Pegelstände …"; "Haushalts" finds both budgets.
        let stand = try await catalog.get("/api/3/action/package_search", [("q", "Pegelstand")])
        #expect(names(stand) == ["pegelstaende-nette"], "\(stand.text)")
        let budgets = try await catalog.get(
            "/api/action/package_search", [("q", "Haushalts"), ("sort", "name asc")])
        #expect(names(budgets) == ["haushalt-kaiserslautern-2026", "haushaltsplan-2026"])

        // fq with tags and formats, facets with counts and display names.
        let filtered = try await catalog.get(
            "/api/3/action/package_search",
            [
                ("fq", "tags:Pegel +res_format:CSV"), ("facet.field", #"["organization","groups","license_id"]"#),
                ("sort", "title_string asc"),
            ])
        let result = try #require(filtered.result as? [String: Any])
        #expect(result["count"] as? Int == 2)
        #expect(names(filtered) == ["hochwassermeldestufen", "pegelstaende-nette"])
        let facets = try #require(result["facets"] as? [String: [String: Int]])
        #expect(facets["organization"] == ["landkreis-mayen-koblenz": 2])
        #expect(facets["groups"]?["envi"] == 2)
        let items = (result["search_facets"] as? [String: [String: Any]])?["organization"]?["items"] as? [[String: Any]]
        #expect(items?.first?["display_name"] as? String == "Landkreis Mayen-Koblenz")
        // Licences by the licence list's title, as CKAN names them; the identifier stays the filter value.
        let licences =
            (result["search_facets"] as? [String: [String: Any]])?["license_id"]?["items"] as? [[String: Any]]
        let titles = Dictionary(
            uniqueKeysWithValues: (licences ?? []).compactMap { item in
                (item["name"] as? String).map { ($0, item["display_name"] as? String ?? "") }
            })
        #expect(
            titles == [
                "dl-by-de/2.0": "Datenlizenz Deutschland – Namensnennung – Version 2.0",
                "dl-zero-de/2.0": "Datenlizenz Deutschland – Zero – Version 2.0",
            ])

        // Any of several values, as Solr writes it; quoted values and exclusion too.
        let either = try await catalog.get(
            "/api/3/action/package_search",
            [("fq", #"organization:(landkreis-kusel OR "stadt-kaiserslautern") -tags:Parkhaus"#), ("sort", "name asc")])
        #expect(
            names(either) == [
                "haushalt-kaiserslautern-2026", "ladesaeulen-kusel", "pegelmessstellen-kusel",
                "verkehrszaehlungen-kaiserslautern",
            ])

        // Paging: ten datasets, four per page.
        var seen: [String] = []
        for start in stride(from: 0, to: 12, by: 4) {
            let page = try await catalog.get(
                "/api/3/action/package_search", [("rows", "4"), ("start", String(start)), ("sort", "name asc")])
            #expect((page.result as? [String: Any])?["count"] as? Int == 10)
            seen += names(page)
        }
        #expect(seen.count == 10)
        #expect(seen == seen.sorted())

        // The same search by POST with a JSON body answers the same.
        let posted = try await catalog.action(
            "package_search", ["fq": "tags:Pegel +res_format:CSV", "sort": "title_string asc"])
        #expect(names(posted) == names(filtered))
    }

    @Test func readActions_answerInCKANsShape() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.2")
        defer { catalog.stop() }
        try await catalog.start()

        let shown = try await catalog.get("/api/3/action/package_show", [("id", "parkhaus-belegung")])
        #expect(shown.status == 200)
        #expect(shown.body["success"] as? Bool == true)
        #expect((shown.body["help"] as? String)?.hasSuffix("/api/3/action/help_show?name=package_show") == true)
        let package = try #require(shown.result as? [String: Any])
        #expect(package["license_id"] as? String == "dl-by-de/2.0")
        #expect(package["num_resources"] as? Int == 2)
        #expect((package["organization"] as? [String: Any])?["name"] as? String == "stadt-kaiserslautern")
        let id = try #require(package["id"] as? String)
        let byID = try await catalog.get("/api/action/package_show", [("id", id)])
        #expect((byID.result as? [String: Any])?["name"] as? String == "parkhaus-belegung")
        let resourceID = try #require(((package["resources"] as? [[String: Any]])?.first)?["id"] as? String)
        let resource = try await catalog.get("/api/3/action/resource_show", [("id", resourceID)])
        #expect((resource.result as? [String: Any])?["format"] as? String == "JSON")

        let organizations = try await catalog.get("/api/3/action/organization_list", [("all_fields", "true")])
        let list = try #require(organizations.result as? [[String: Any]])
        #expect(list.count == 6)
        #expect(list.first { $0["name"] as? String == "stadt-kaiserslautern" }?["package_count"] as? Int == 3)
        let organization = try await catalog.get(
            "/api/3/action/organization_show", [("id", "stadt-kaiserslautern")])
        #expect((organization.result as? [String: Any])?["package_count"] as? Int == 3, "\(organization.text)")
        let group = try await catalog.get("/api/3/action/group_show", [("id", "envi")])
        #expect(((group.result as? [String: Any])?["package_count"] as? Int ?? 0) > 0, "\(group.text)")
        let names = try await catalog.get("/api/3/action/package_list")
        #expect((names.result as? [String])?.count == 10)
        let groups = try await catalog.get("/api/3/action/group_list")
        #expect((groups.result as? [String])?.contains("envi") == true)
        let tags = try await catalog.get("/api/3/action/tag_list")
        #expect((tags.result as? [String])?.contains("Hochwasser") == true)
        let licenses = try await catalog.get("/api/3/action/license_list")
        #expect((licenses.result as? [[String: Any]])?.contains { $0["id"] as? String == "dl-zero-de/2.0" } == true)
        let status = try await catalog.get("/api/3/action/status_show")
        #expect((status.result as? [String: Any])?["ckan_version"] as? String != nil)
        #expect(try await catalog.get("/health").status == 200)
        // Uptime monitors and `curl -I` ask with HEAD: every GET route answers it, without a body.
        for path in ["/health", "/api/3/action/package_list", "/catalog.ttl", "/metrics"] {
            let head = try await catalog.head(path)
            #expect(head.status == 200, "HEAD \(path)")
            #expect(head.text.isEmpty, "HEAD \(path)")
        }
        let metrics = try await catalog.get("/metrics")
        #expect(metrics.text.contains(#"catalog_action_requests_total{action="package_show",status="200"} 2"#))
        #expect(metrics.text.contains("catalog_datasets 10"))
    }

    @Test func writes_needTheToken_checkEveryField_andKeepPrivateAndDeletedOutOfSight() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.3", seed: false)
        defer { catalog.stop() }
        try await catalog.start()
        let token = catalog.token

        let anonymous = try await catalog.action("organization_create", ["name": "stadt-neu"])
        #expect(anonymous.status == 403)
        #expect(anonymous.errorType == "Authorization Error")
        let wrong = try await catalog.action("organization_create", ["name": "stadt-neu"], token: "falsch")
        #expect(wrong.status == 403)
        let organization = try await catalog.post(
            "/api/3/action/organization_create", json: ["name": "stadt-neu", "title": "Stadt Neu"], token: token,
            header: "X-CKAN-API-Key")
        #expect(organization.status == 200, "\(organization.text)")
        let twice = try await catalog.action("organization_create", ["name": "stadt-neu"], token: token)
        #expect(twice.status == 409)

        // Every problem at once, per field.
        let invalid = try await catalog.action(
            "package_create",
            [
                "name": "Ungültig!", "license_id": "frei", "owner_org": "gibt-es-nicht", "tags": [["name": "x"]],
                "author_email": "kein-mail",
            ], token: token)
        #expect(invalid.status == 409)
        #expect(invalid.errorType == "Validation Error")
        for field in ["name", "license_id", "tags", "author_email"] { #expect(invalid.error[field] != nil, "\(field)") }
        let missingOrganization = try await catalog.action(
            "package_create", ["name": "ohne-org", "owner_org": "gibt-es-nicht"], token: token)
        #expect((missingOrganization.error["owner_org"] as? [String])?.first == "Organization does not exist")

        let created = try await catalog.action(
            "package_create",
            [
                "name": "baumkataster", "title": "Baumkataster", "owner_org": "stadt-neu", "license_id": "cc-by/4.0",
                "notes": "Straßenbäume der Stadt",
                "resources": [["url": "https://example.org/b.csv", "format": "CSV"]],
                "tags": [["name": "Bäume"]],
            ], token: token)
        #expect(created.status == 200, "\(created.text)")
        #expect(
            names(try await catalog.get("/api/3/action/package_search", [("q", "Straßenbaum")])) == ["baumkataster"])
        let taken = try await catalog.action("package_create", ["name": "baumkataster"], token: token)
        #expect((taken.error["name"] as? [String])?.first == "That URL is already in use.")

        // Patch changes what it names; update replaces the whole dataset; resource_create adds one.
        let patched = try await catalog.action(
            "package_patch", ["id": "baumkataster", "title": "Baumkataster 2026"], token: token)
        let afterPatch = try #require(patched.result as? [String: Any])
        #expect(afterPatch["title"] as? String == "Baumkataster 2026")
        #expect((afterPatch["resources"] as? [Any])?.count == 1)
        let added = try await catalog.action(
            "resource_create", ["package_id": "baumkataster", "url": "https://example.org/b.json", "format": "JSON"],
            token: token)
        #expect((added.result as? [String: Any])?["format"] as? String == "JSON")
        let withTwo = try await catalog.get("/api/3/action/package_show", [("id", "baumkataster")])
        #expect((withTwo.result as? [String: Any])?["num_resources"] as? Int == 2)
        let updated = try await catalog.action(
            "package_update", ["id": "baumkataster", "name": "baumkataster", "title": "Bäume"], token: token)
        #expect(((updated.result as? [String: Any])?["resources"] as? [Any])?.isEmpty == true)
        let found = try await catalog.get("/api/3/action/package_search", [("q", "Straßenbaum")])
        #expect(names(found) == [], "update replaced the description too")

        // Private: only with the token and include_private.
        _ = try await catalog.action(
            "package_create", ["name": "intern", "owner_org": "stadt-neu", "private": true], token: token)
        #expect(try await catalog.get("/api/3/action/package_show", [("id", "intern")]).status == 404)
        #expect(names(try await catalog.get("/api/3/action/package_search", [("q", "intern")])) == [])
        let privately = try await catalog.get(
            "/api/3/action/package_search", [("include_private", "true")], token: token)
        #expect(names(privately).contains("intern"))

        // Deleted: gone for everyone without the token.
        let deleted = try await catalog.action("package_delete", ["id": "baumkataster"], token: token)
        #expect(deleted.status == 200)
        #expect(try await catalog.get("/api/3/action/package_show", [("id", "baumkataster")]).status == 404)
        let asAdmin = try await catalog.get("/api/3/action/package_show", [("id", "baumkataster")], token: token)
        #expect((asAdmin.result as? [String: Any])?["state"] as? String == "deleted")
    }

    @Test func badRequests_getCKANErrors_withTheMatchingStatus() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.4")
        defer { catalog.stop() }
        try await catalog.start()
        let missing = try await catalog.get("/api/3/action/package_show", [("id", "gibt-es-nicht")])
        #expect(missing.status == 404)
        #expect(missing.errorType == "Not Found Error")
        #expect(missing.body["success"] as? Bool == false)
        let noID = try await catalog.get("/api/3/action/package_show")
        #expect(noID.status == 409)
        #expect((noID.error["id"] as? [String]) == ["Missing value"])
        let field = try await catalog.get("/api/3/action/package_search", [("fq", "farbe:blau")])
        #expect(field.status == 400)
        #expect(field.errorType == "Search Query Error")
        #expect((field.error["message"] as? String)?.contains("unknown field 'farbe'") == true)
        for unpaired in ["organization:(landkreis-kusel", "organization:landkreis-kusel)", "organization:( OR )"] {
            let group = try await catalog.get("/api/3/action/package_search", [("fq", unpaired)])
            #expect(group.status == 400, "\(unpaired)")
            #expect(group.errorType == "Search Query Error", "\(unpaired)")
        }
        let sort = try await catalog.get("/api/3/action/package_search", [("sort", "farbe desc")])
        #expect(sort.status == 400)
        let rows = try await catalog.get("/api/3/action/package_search", [("rows", "viele")])
        #expect(rows.status == 409)
        // A number no Int holds is refused, not a trap that ends the catalog.
        for huge in [#"{"rows": 1e300}"#, #"{"start": -9.3e18}"#] {
            let refused = try await catalog.post("/api/3/action/package_search", raw: huge)
            #expect(refused.status == 409, "\(huge): \(refused.body)")
        }
        #expect(try await catalog.get("/api/3/action/status_show").status == 200)
        let json = try await catalog.post("/api/3/action/package_search", raw: "{kaputt")
        #expect(json.status == 400)
        #expect(json.errorType == "Bad request - JSON Error")
        let unknown = try await catalog.get("/api/3/action/mach_was")
        #expect(unknown.status == 400)
        #expect((unknown.error["message"] as? String)?.contains("mach_was") == true)
    }

    @Test func startAndConfigurationErrors_areOneClearLine() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.5", seed: false)
        defer { catalog.stop() }
        // A database nobody migrated: serve refuses and says what to run.
        try FileManager.default.removeItem(at: catalog.root.appendingPathComponent("data"))
        let unmigrated = try await catalog.run(["catalog", "--config", catalog.config.path])
        #expect(unmigrated.status != 0)
        #expect(unmigrated.standardError.contains("run `datenplattform catalog migrate --config FILE` first"))
        // A PostgreSQL that does not answer (nothing listens on that loopback port): one line, no password.
        let text = try String(contentsOf: catalog.config, encoding: .utf8)
        try Data(
            text.replacingOccurrences(
                of: "sqlite:data/catalog.sqlite", with: "postgresql://katalog:geheim@127.0.0.1:1/katalog"
            ).utf8
        ).write(to: catalog.config)
        let postgres = try await catalog.run(["catalog", "migrate", "--config", catalog.config.path])
        #expect(postgres.status != 0)
        #expect(postgres.standardError.contains("cannot connect to the PostgreSQL store"), "\(postgres.standardError)")
        #expect(!postgres.standardError.contains("geheim"))
        try Data(text.replacingOccurrences(of: "sqlite:", with: "mysql:").utf8).write(to: catalog.config)
        let mysql = try await catalog.run(["catalog", "migrate", "--config", catalog.config.path])
        #expect(mysql.standardError.contains("database must be sqlite:PATH or a postgres:// URL"))
        try Data(text.replacingOccurrences(of: "  port:", with: "  pport:").utf8).write(to: catalog.config)
        let missingKey = try await catalog.run(["catalog", "migrate", "--config", catalog.config.path])
        #expect(missingKey.standardError.contains("missing key 'listen.port'"), "\(missingKey.standardError)")
        // A broken import file names the entry.
        try Data(text.utf8).write(to: catalog.config)
        _ = try await catalog.run(["catalog", "migrate", "--config", catalog.config.path])
        let seed = catalog.root.appendingPathComponent("seed.json")
        try Data(#"{"datasets": [{"name": "gut-1"}, {"name": "Schlecht Name"}]}"#.utf8).write(to: seed)
        let imported = try await catalog.run(["catalog", "import", seed.path, "--config", catalog.config.path])
        #expect(imported.status != 0)
        #expect(imported.standardError.contains("datasets[1] (Schlecht Name)"), "\(imported.standardError)")
    }

    @Test func germanStemmer_foldsInflectionsAndUmlauts() {
        for (a, b) in [
            ("Pegelstände", "Pegelstand"), ("Haushalts", "Haushalt"), ("Straßen", "Straße"),
            ("Messstellen", "Messstelle"), ("Bäume", "Baum"),
        ] {
            #expect(GermanStemmer.stem(a) == GermanStemmer.stem(b), "\(a) / \(b)")
        }
        #expect(GermanStemmer.stem("Pegel") != GermanStemmer.stem("Park"))
    }
}
