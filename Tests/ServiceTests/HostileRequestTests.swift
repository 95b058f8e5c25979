import Foundation
import TestSupport
import Testing

/// Extreme and random values in every parameter of every read endpoint of the catalog and the portal,
/// and bodies far beyond any real request: each is answered (never 5xx), and the process is still
/// there afterwards (issue #17, scenario 9). A trap on overflow would end the process for everyone.
@Suite(.serialized) struct HostileRequestTests {
    static let catalogActions: [(action: String, parameters: [String])] = [
        (
            "package_search",
            ["q", "fq", "rows", "start", "sort", "facet", "facet.field", "facet.limit", "include_private"]
        ),
        ("package_list", ["limit", "offset"]),
        ("current_package_list_with_resources", ["limit", "offset"]),
        ("package_show", ["id"]), ("resource_show", ["id"]),
        ("organization_list", ["all_fields", "limit", "offset", "sort"]),
        ("group_list", ["all_fields", "limit", "offset"]),
        ("organization_show", ["id", "include_datasets"]), ("group_show", ["id"]), ("tag_list", ["q"]),
    ]

    @Test func catalog_answersEveryExtremeValue_withoutFallingOver() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.50")
        defer { catalog.stop() }
        try await catalog.start()
        let seed = UInt64.random(in: 0 ... .max)
        let values = HostileValues.extremes + HostileValues.random(seed: seed)
        var answered = 0
        for (action, parameters) in Self.catalogActions {
            for parameter in parameters {
                for value in values {
                    let reply = try await catalog.get("/api/3/action/\(action)", [(parameter, value)])
                    #expect(
                        reply.status < 500,
                        "seed \(seed): \(action)?\(parameter)=\(value.prefix(60)): \(reply.status) \(reply.text.prefix(300))"
                    )
                    answered += 1
                }
            }
        }
        // The numbers CKAN clients send wrong most often are refused as CKAN refuses them.
        for (parameter, value) in [("rows", "1e20"), ("rows", "-1e20"), ("start", "1e300"), ("facet.limit", "1e19")] {
            let reply = try await catalog.get("/api/3/action/package_search", [(parameter, value)])
            #expect(
                reply.status == 409 && reply.errorType == "Validation Error", "\(parameter)=\(value): \(reply.text)")
        }
        let huge = try await catalog.get("/api/3/action/package_list", [("limit", "1e20")])
        #expect(huge.status == 409, "\(huge.text)")
        #expect(try await catalog.get("/health").status == 200, "after \(answered) hostile requests")
    }

    @Test func catalog_refusesABodyOfFiftyMegabytes_with413() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.51")
        defer { catalog.stop() }
        try await catalog.start()
        let body = #"{"q": ""# + String(repeating: "a", count: 50 << 20) + #""}"#
        let reply = try await catalog.post("/api/3/action/package_search", raw: body)
        #expect(reply.status == 413, "\(reply.status) \(reply.text.prefix(300))")
        #expect(
            reply.text.contains("\"success\": false") || reply.text.contains("\"success\":false"),
            "\(reply.text.prefix(300))")
        #expect(try await catalog.get("/health").status == 200)
    }

    @Test func portal_answersEveryExtremeValue_withoutFallingOver() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.52")
        defer { catalog.stop() }
        try await catalog.start()
        let portal = try PortalProcess(catalog: catalog, host: "127.0.52.53")
        defer { portal.stop() }
        try await portal.start()
        let seed = UInt64.random(in: 0 ... .max)
        for value in HostileValues.extremes + HostileValues.random(seed: seed) {
            let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            for path in [
                "/dataset?q=\(encoded)", "/dataset?page=\(encoded)", "/dataset?sort=\(encoded)",
                "/dataset?organization=\(encoded)&tags=\(encoded)&res_format=\(encoded)&groups=\(encoded)&license_id=\(encoded)",
                "/dataset/\(encoded)", "/organization/\(encoded)", "/en/dataset?page=\(encoded)",
            ] {
                let reply = try await portal.get(path)
                #expect(reply.status < 500, "seed \(seed): \(path.prefix(120)): \(reply.status)")
            }
        }
        #expect(try await portal.get("/health").status == 200)
    }
}
