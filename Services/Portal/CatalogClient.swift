import Foundation
import HTTPTransport

/// Reads the catalog through its CKAN API, the way any other CKAN client does, so one central
/// catalog can serve every municipality's portal.
struct CatalogClient: Sendable {
    let baseURL: String
    let timeout: Int64
    private let http = HTTPExchange()

    init(baseURL: String, timeout: Int64) {
        self.baseURL = baseURL
        self.timeout = timeout
    }

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
        var results: [CKANDataset]
        var searchFacets: [String: Facet]
    }

    private struct Envelope<Result: Decodable>: Decodable {
        var success: Bool
        var result: Result?
    }

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    /// The catalog refused the request as invalid: the visitor asked for something it cannot answer.
    struct Refused: Error {}

    func search(_ parameters: [(String, String)]) async throws -> SearchResult {
        try await call("package_search", parameters)
    }

    func package(_ name: String) async throws -> CKANDataset { try await call("package_show", [("id", name)]) }

    func organizations() async throws -> [CKANOrganization] {
        try await call("organization_list", [("all_fields", "true")])
    }

    func organization(_ name: String) async throws -> CKANOrganization {
        try await call("organization_show", [("id", name)])
    }

    func groups() async throws -> [CKANOrganization] { try await call("group_list", [("all_fields", "true")]) }

    private func call<Result: Decodable>(_ action: String, _ parameters: [(String, String)]) async throws -> Result {
        var components = URLComponents(string: "\(baseURL)/api/3/action/\(action)")
        components?.queryItems = parameters.map { URLQueryItem(name: $0.0, value: $0.1) }
        guard let url = components?.url?.absoluteString else { throw Unavailable(reason: "bad catalog address") }
        let answer: HTTPAnswer
        do {
            answer = try await http.fetch(url, timeout: .seconds(timeout))
        } catch {
            throw Unavailable(reason: "\(error)")
        }
        if answer.status == 404 { throw NotFound() }
        // CKAN refuses what it cannot understand (a search with an open quote) as a Validation Error.
        if answer.status == 409 || answer.status == 400 { throw Refused() }
        guard answer.status == 200 else { throw Unavailable(reason: "HTTP \(answer.status)") }
        do {
            let envelope = try Self.decoder.decode(Envelope<Result>.self, from: answer.body)
            guard envelope.success, let result = envelope.result else { throw Unavailable(reason: "no result") }
            return result
        } catch let error as Unavailable {
            throw error
        } catch {
            throw Unavailable(reason: "the answer is not a CKAN result: \(error)")
        }
    }
}
