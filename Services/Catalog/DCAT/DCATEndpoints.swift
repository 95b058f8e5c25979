import Foundation

/// `/catalog.ttl|rdf|jsonld` (paged with `page`, filtered with `modified_since` and `q`) and
/// `/dataset/{name}.ttl|rdf|jsonld`: the catalog in DCAT-AP.de for harvesters such as open.rlp and
/// GovData. Private and deleted datasets are never in it.
struct DCATEndpoints {
    let actions: CatalogActions

    struct Failure: Error {
        var status: Int
        var message: String
    }

    func catalog(format: RDFFormat, query: [(String, String)]) async throws -> String {
        let values = Dictionary(query, uniquingKeysWith: { _, last in last })
        let page =
            try values["page"].map { text -> Int in
                guard let number = Int(text), number >= 1 else {
                    throw Failure(status: 400, message: "page must be a whole number from 1 on, not '\(text)'")
                }
                return number
            } ?? 1
        var search = SearchQuery()
        do {
            if let q = values["q"] { search = try SearchSyntax.query(from: Parameters(["q": .string(q)])) }
        } catch let error as CatalogError {
            throw Failure(status: 400, message: error.message)
        }
        if let since = values["modified_since"] { search.modifiedSince = try Self.timestamp(since) }
        search.sort = .modified(ascending: false)
        let size = actions.configuration.pageSize
        search.rows = size
        search.start = (page - 1) * size
        let found = try await actions.store.search(search)
        let packages = try await actions.withOrganizations(found.packages)
        return format.write(
            DCATMapper(configuration: actions.configuration).catalog(
                packages, total: found.count, page: page, format: format, query: query))
    }

    func dataset(_ file: String) async throws -> (String, RDFFormat) {
        guard let dot = file.lastIndex(of: "."),
            let format = RDFFormat(rawValue: String(file[file.index(after: dot)...]))
        else {
            throw Failure(status: 404, message: "no such document; ask for /dataset/NAME.ttl, .rdf or .jsonld")
        }
        let name = String(file[..<dot])
        guard let package = try await actions.store.package(name), actions.visible(package, authorized: false) else {
            throw Failure(status: 404, message: "there is no dataset \(name)")
        }
        let graph = DCATMapper(configuration: actions.configuration).dataset(
            try await actions.withOrganization(package))
        return (format.write(graph), format)
    }

    /// `modified_since` as CKAN's timestamp: a date (`2026-11-01`) or an ISO 8601 date-time with zone.
    static func timestamp(_ text: String) throws -> String {
        if text.count == 10, let date = ISO8601DateFormatter.date(text, options: [.withFullDate]) {
            return CKANTime.format(date)
        }
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds],
        ] {
            if let date = ISO8601DateFormatter.date(text, options: options) { return CKANTime.format(date) }
        }
        throw Failure(
            status: 400,
            message:
                "modified_since must be a date (2026-11-01) or a date-time with zone (2026-11-01T08:00:00Z), not '\(text)'"
        )
    }
}

extension ISO8601DateFormatter {
    fileprivate static func date(_ text: String, options: Options) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = options
        return formatter.date(from: text)
    }
}
