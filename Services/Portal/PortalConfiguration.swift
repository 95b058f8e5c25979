import Foundation
import ServiceSupport

/// The portal's configuration file (`portal.yaml`, rendered by the agent from the blueprint).
package struct PortalConfiguration: Sendable {
    package var host: String
    package var port: Int
    package var publicURL: String
    package var title: String
    /// The language pages are shown in without a `/de` or `/en` prefix.
    package var language: PortalLanguage
    package var imprintURL: String
    package var privacyURL: String
    /// The catalog's API as the portal reaches it, and as browsers reach it (for RDF links).
    package var catalogAPI: String
    package var catalogPublicURL: String
    package var catalogTimeoutSeconds: Int64
    /// The site's visualization service as browsers reach it: its gauge map on the home page, and
    /// the charts of this site's sensor datasets on their pages. Nil: nothing embedded.
    package var visualizationURL: String?
    /// The site this portal belongs to; a dataset's chart is embedded only by its own site's portal.
    package var site: String
    /// The site's own organisations (catalog names): searches cover them unless a visitor switches
    /// to the whole cluster, and the organisation filter always offers them, first. Empty: the whole
    /// cluster, as before.
    package var organizations: [String]
    /// Where the dataset page's data preview may fetch from (host names), how much and how long.
    /// No hosts: no preview.
    package var previewHosts: [String]
    package var previewMaxBytes: Int
    package var previewTimeoutSeconds: Int64
    /// The site's colour, logo and texts.
    var look = PortalLook.standard

    private struct File: Decodable {
        struct Catalog: Decodable {
            var apiUrl: String
            var publicUrl: String?
            var timeout: String?

            enum CodingKeys: String, CodingKey {
                case apiUrl = "api_url"
                case publicUrl = "public_url"
                case timeout
            }
        }
        var listen: ServiceListen
        var publicUrl: String
        var title: String
        var language: String?
        var imprintUrl: String
        var privacyUrl: String
        var catalog: Catalog
        var visualizationUrl: String?
        var site: String?
        var organizations: String?
        var preview: Preview?
        var colour: String?
        var logoFile: String?
        var imprintFile: String?
        var privacyFile: String?

        struct Preview: Decodable {
            var hosts: String?
            var maxBytes: Int?
            var timeout: String?

            enum CodingKeys: String, CodingKey {
                case hosts, timeout
                case maxBytes = "max_bytes"
            }
        }

        enum CodingKeys: String, CodingKey {
            case listen, title, language, catalog, site, organizations, preview, colour
            case logoFile = "logo_file"
            case imprintFile = "imprint_file"
            case privacyFile = "privacy_file"
            case visualizationUrl = "visualization_url"
            case publicUrl = "public_url"
            case imprintUrl = "imprint_url"
            case privacyUrl = "privacy_url"
        }
    }

    package init(
        host: String, port: Int, publicURL: String, title: String, language: PortalLanguage, imprintURL: String,
        privacyURL: String, catalogAPI: String, catalogPublicURL: String, catalogTimeoutSeconds: Int64,
        visualizationURL: String? = nil, site: String = "", organizations: [String] = [], previewHosts: [String] = [],
        previewMaxBytes: Int = 262_144, previewTimeoutSeconds: Int64 = 5
    ) {
        self.organizations = organizations
        self.previewHosts = previewHosts
        self.previewMaxBytes = previewMaxBytes
        self.previewTimeoutSeconds = previewTimeoutSeconds
        self.visualizationURL = visualizationURL
        self.site = site
        self.host = host
        self.port = port
        self.publicURL = publicURL
        self.title = title
        self.language = language
        self.imprintURL = imprintURL
        self.privacyURL = privacyURL
        self.catalogAPI = catalogAPI
        self.catalogPublicURL = catalogPublicURL
        self.catalogTimeoutSeconds = catalogTimeoutSeconds
    }

    /// Reads `path`; a missing key, a wrong type or value is one line naming it.
    package static func load(_ path: String) throws -> PortalConfiguration {
        let file: File
        do {
            file = try ServiceConfigurationFile.decode(File.self, from: path)
        } catch {
            throw ServiceStartError(error.description)
        }
        try file.listen.check(in: path)
        guard let language = PortalLanguage(rawValue: file.language ?? "de") else {
            throw ServiceStartError("\(path): language must be de or en, not '\(file.language ?? "")'")
        }
        let timeout = file.catalog.timeout ?? "5s"
        guard let seconds = ServiceConfigurationFile.seconds(timeout), seconds > 0 else {
            throw ServiceStartError("\(path): catalog.timeout '\(timeout)' is not a duration such as 5s or 1m")
        }
        func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
        let visualization = file.visualizationUrl.flatMap { $0.isEmpty ? nil : trimmed($0) }
        if let visualization, PortalConfiguration.origin(of: visualization) == nil {
            throw ServiceStartError("\(path): visualization_url '\(visualization)' is not an http(s) URL")
        }
        let organizations = (file.organizations ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        for name in organizations where !Self.isOrganizationName(name) {
            throw ServiceStartError(
                "\(path): organizations: '\(name)' is not an organisation's name (lowercase letters, digits, - and _, 2 to 100 characters)"
            )
        }
        let previewHosts = (file.preview?.hosts ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        for host in previewHosts where !Self.isHostName(host) {
            throw ServiceStartError("\(path): preview.hosts: '\(host)' is not a host name such as daten.kusel.example")
        }
        let maxBytes = file.preview?.maxBytes ?? 262_144
        guard (4_096...4_194_304).contains(maxBytes) else {
            throw ServiceStartError("\(path): preview.max_bytes \(maxBytes) is not between 4096 and 4194304")
        }
        let previewTimeout = file.preview?.timeout ?? "5s"
        guard let previewSeconds = ServiceConfigurationFile.seconds(previewTimeout), (1...60).contains(previewSeconds)
        else {
            throw ServiceStartError(
                "\(path): preview.timeout '\(previewTimeout)' is not a duration from 1s to 1m, such as 5s")
        }
        let look = try PortalLook.load(
            colour: file.colour, logo: file.logoFile, imprint: file.imprintFile, privacy: file.privacyFile,
            folder: URL(fileURLWithPath: path).deletingLastPathComponent(), path: path)
        var configuration = PortalConfiguration(
            host: file.listen.host, port: file.listen.port, publicURL: trimmed(file.publicUrl), title: file.title,
            language: language, imprintURL: file.imprintUrl, privacyURL: file.privacyUrl,
            catalogAPI: trimmed(file.catalog.apiUrl),
            catalogPublicURL: trimmed(file.catalog.publicUrl ?? file.catalog.apiUrl),
            catalogTimeoutSeconds: seconds, visualizationURL: visualization, site: file.site ?? "",
            organizations: organizations, previewHosts: previewHosts, previewMaxBytes: maxBytes,
            previewTimeoutSeconds: previewSeconds)
        configuration.look = look
        return configuration
    }

    /// A DNS name or an IPv4 address, without scheme, port or path.
    static func isHostName(_ host: String) -> Bool {
        (1...253).contains(host.count) && !host.hasPrefix(".") && !host.hasSuffix(".") && !host.contains("..")
            && host.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "."
            }
    }

    /// CKAN's rule for the name of an organisation.
    static func isOrganizationName(_ name: String) -> Bool {
        (2...100).contains(name.count)
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
            }
    }

    /// `scheme://host[:port]` of an http(s) URL, for the Content-Security-Policy; nil for anything
    /// else, so nothing but a plain origin ever reaches that header.
    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            host.allSatisfy({
                $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" || $0 == "[" || $0 == "]"
            })
        else { return nil }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }
}
