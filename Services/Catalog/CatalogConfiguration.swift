import Foundation
import ServiceSupport

/// The catalog's configuration file (`catalog.yaml`, rendered by the agent from the blueprint).
package struct CatalogConfiguration: Sendable {
    package var host: String
    package var port: Int
    package var publicURL: String
    /// Where the data lives: `sqlite:PATH` (relative to the working folder) or a `postgres://` URL.
    package var database: String
    /// The API token with write rights; empty means nobody may write.
    package var adminToken: String
    package var siteTitle: String
    package var publisher: String
    package var contributorID: String
    package var pageSize: Int
    package var logLevel: String

    private struct File: Decodable {
        struct DCAT: Decodable {
            var publisher: String?
            var contributorId: String?
            var pageSize: Int?

            enum CodingKeys: String, CodingKey {
                case publisher
                case contributorId = "contributor_id"
                case pageSize = "page_size"
            }
        }
        var listen: ServiceListen
        var publicUrl: String
        var database: String
        var adminToken: String?
        var siteTitle: String?
        var dcat: DCAT?
        var logLevel: String?

        enum CodingKeys: String, CodingKey {
            case listen, database, dcat
            case publicUrl = "public_url"
            case adminToken = "admin_token"
            case siteTitle = "site_title"
            case logLevel = "log_level"
        }
    }

    package init(
        host: String, port: Int, publicURL: String, database: String, adminToken: String,
        siteTitle: String = "Offene Daten", publisher: String = "", contributorID: String = "", pageSize: Int = 100,
        logLevel: String = "info"
    ) {
        self.host = host
        self.port = port
        self.publicURL = publicURL
        self.database = database
        self.adminToken = adminToken
        self.siteTitle = siteTitle
        self.publisher = publisher
        self.contributorID = contributorID
        self.pageSize = pageSize
        self.logLevel = logLevel
    }

    /// Reads `path`; a missing key, a wrong type or an unsupported database is one line naming it.
    package static func load(_ path: String) throws -> CatalogConfiguration {
        let file = try ServiceConfigurationFile.decode(File.self, from: path)
        try ServiceDatabase.checkLocation(file.database, in: path)
        try file.listen.check(in: path)
        return CatalogConfiguration(
            host: file.listen.host, port: file.listen.port,
            publicURL: file.publicUrl.hasSuffix("/") ? String(file.publicUrl.dropLast()) : file.publicUrl,
            database: file.database, adminToken: file.adminToken ?? "",
            siteTitle: file.siteTitle ?? "Offene Daten", publisher: file.dcat?.publisher ?? "",
            contributorID: file.dcat?.contributorId ?? "", pageSize: file.dcat?.pageSize ?? 100,
            logLevel: file.logLevel ?? "info")
    }
}
