import Foundation
import TestSupport
import Testing

/// The catalog on PostgreSQL (a throwaway server the test starts): the same API, its data in
/// PostgreSQL with a `german` full-text column, found again by a restarted catalog.
@Suite(.serialized) struct CatalogPostgresTests {
    @Test func catalogOnPostgres_servesTheSameAPI_andKeepsGermanTextSearchInTheDatabase() async throws {
        let server = try await PostgresServer.shared()
        let url = try await server.createDatabase()
        let catalog = try await CatalogProcess(host: "127.0.52.50", database: url)
        defer { catalog.stop() }
        try await catalog.start()

        let found = try await catalog.get(
            "/api/3/action/package_search", [("q", "Pegelstand"), ("facet.field", #"["organization"]"#)])
        let result = try #require(found.result as? [String: Any])
        #expect(result["count"] as? Int == 1, "\(found.text)")
        let created = try await catalog.action(
            "package_create", ["name": "wahlergebnisse-2026", "title": "Wahlergebnisse 2026", "notes": "Stimmbezirke"],
            token: catalog.token)
        #expect(created.status == 200, "\(created.text)")

        // A restarted catalog reads everything back from PostgreSQL.
        catalog.stopProcess()
        try await catalog.start()
        let names = try await catalog.get("/api/3/action/package_list")
        #expect((names.result as? [String])?.count == 11)
        let dcat = try await catalog.get("/dataset/wahlergebnisse-2026.ttl")
        #expect(dcat.status == 200)

        // PostgreSQL's own German stemming finds "Pegelstände" for "Pegelstand".
        let database = String(url.split(separator: "/").last ?? "")
        let counted = try await server.psql(
            "SELECT count(*) FROM package_text WHERE terms @@ to_tsquery('german', 'Pegelstand')", database: database)
        #expect(counted.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("1"), "\(counted)")
        // The password never shows in a message.
        let password = url.split(separator: "@")[0].split(separator: ":").last.map(String.init) ?? ""
        let wrong = url.replacingOccurrences(of: ":\(password)@", with: ":falsch@")
        let text = try String(contentsOf: catalog.config, encoding: .utf8).replacingOccurrences(of: url, with: wrong)
        try Data(text.utf8).write(to: catalog.config)
        let refused = try await catalog.run(["catalog", "migrate", "--config", catalog.config.path])
        #expect(refused.status != 0)
        #expect(!refused.standardError.contains("falsch"), "\(refused.standardError)")
    }
}
