import AsyncHTTPClient
import Catalog
import Foundation
import NIOCore

/// Reads the catalog through its CKAN API, the way any other CKAN client does, so one central
/// catalog can serve every municipality's portal.
struct CatalogClient: Sendable {
    let baseURL: String
    let timeout: Int64

    /// The catalog did not answer, or not as a CKAN catalog does.
    struct Unavailable: Error {
        var reason: String
    }

    struct NotFound: Error {}

    struct SearchResult: Decodable {
        struct Facet: Decodable {
            struct Item: Decodable {
                var name: String
                var displayName: String
                var count: Int
            }
            var items: [Item]
        }
        var count: Int
        var results: [Package]
        var searchFacets: [String: Facet]
    }

    private struct Envelope<Result: Decodable>: Decodable {
        var success: Bool
        var result: Result?
    }

    func search(_ parameters: [(String, String)]) async throws -> SearchResult {
        try await call("package_search", parameters)
    }

    func package(_ name: String) async throws -> Package { try await call("package_show", [("id", name)]) }

    func organizations() async throws -> [Organization] {
        try await call("organization_list", [("all_fields", "true")])
    }

    func organization(_ name: String) async throws -> Organization {
        try await call("organization_show", [("id", name)])
    }

    func groups() async throws -> [Organization] { try await call("group_list", [("all_fields", "true")]) }

    private func call<Result: Decodable>(_ action: String, _ parameters: [(String, String)]) async throws -> Result {
        var components = URLComponents(string: "\(baseURL)/api/3/action/\(action)")
        components?.queryItems = parameters.map { URLQueryItem(name: $0.0, value: $0.1) }
        guard let url = components?.url?.absoluteString else { throw Unavailable(reason: "bad catalog address") }
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(timeout))
            body = try await response.body.collect(upTo: 32 << 20)
        } catch {
            throw Unavailable(reason: "\(error)")
        }
        if response.status.code == 404 { throw NotFound() }
        guard response.status.code == 200 else { throw Unavailable(reason: "HTTP \(response.status.code)") }
        do {
            let envelope = try CatalogJSON.decoder.decode(Envelope<Result>.self, from: Data(body.readableBytesView))
            guard envelope.success, let result = envelope.result else { throw Unavailable(reason: "no result") }
            return result
        } catch let error as Unavailable {
            throw error
        } catch {
            throw Unavailable(reason: "the answer is not a CKAN result: \(error)")
        }
    }
}
