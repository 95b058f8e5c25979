import Foundation

// What the portal reads from a CKAN API, and only that: the portal is one more CKAN client, so it
// works with any catalog that speaks the Action API, and it tolerates the fields CKAN leaves empty
// (`null` notes, missing licences).

/// A dataset, as `package_show` and `package_search` give it.
struct CKANDataset: Decodable, Sendable {
    var name: String
    var title: String
    var notes: String
    var url: String
    var version: String
    var maintainer: String
    var maintainerEmail: String
    var licenseTitle: String
    var licenseUrl: String
    var metadataCreated: String
    var metadataModified: String
    var resources: [CKANResource]
    var tags: [CKANTag]
    var organization: CKANOrganization?
    /// Free key-value pairs, such as `visualization_panel`.
    var extras: [String: String]

    init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        name = try fields.decode(String.self, forKey: .name)
        title = try fields.decodeIfPresent(String.self, forKey: .title) ?? name
        notes = try fields.decodeIfPresent(String.self, forKey: .notes) ?? ""
        url = try fields.decodeIfPresent(String.self, forKey: .url) ?? ""
        version = try fields.decodeIfPresent(String.self, forKey: .version) ?? ""
        maintainer = try fields.decodeIfPresent(String.self, forKey: .maintainer) ?? ""
        maintainerEmail = try fields.decodeIfPresent(String.self, forKey: .maintainerEmail) ?? ""
        licenseTitle = try fields.decodeIfPresent(String.self, forKey: .licenseTitle) ?? ""
        licenseUrl = try fields.decodeIfPresent(String.self, forKey: .licenseUrl) ?? ""
        metadataCreated = try fields.decodeIfPresent(String.self, forKey: .metadataCreated) ?? ""
        metadataModified = try fields.decodeIfPresent(String.self, forKey: .metadataModified) ?? ""
        resources = try fields.decodeIfPresent([CKANResource].self, forKey: .resources) ?? []
        tags = try fields.decodeIfPresent([CKANTag].self, forKey: .tags) ?? []
        organization = try fields.decodeIfPresent(CKANOrganization.self, forKey: .organization)
        extras = [:]
        // An extra without a value (CKAN allows it) is simply absent here.
        for extra in (try? fields.decodeIfPresent([CKANExtra].self, forKey: .extras)) ?? [] {
            if let value = extra.value { extras[extra.key] = value }
        }
    }

    private enum CodingKeys: String, CodingKey {
        case name, title, notes, url, version, maintainer, maintainerEmail, licenseTitle, licenseUrl
        case metadataCreated, metadataModified, resources, tags, organization, extras
    }
}

/// One of a dataset's extras.
struct CKANExtra: Decodable, Sendable {
    var key: String
    var value: String?
}

/// One file or API of a dataset.
struct CKANResource: Decodable, Sendable {
    var name: String
    var description: String
    var url: String
    var format: String

    init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        name = try fields.decodeIfPresent(String.self, forKey: .name) ?? ""
        description = try fields.decodeIfPresent(String.self, forKey: .description) ?? ""
        url = try fields.decodeIfPresent(String.self, forKey: .url) ?? ""
        format = try fields.decodeIfPresent(String.self, forKey: .format) ?? ""
    }

    private enum CodingKeys: String, CodingKey {
        case name, description, url, format
    }
}

/// A keyword of a dataset.
struct CKANTag: Decodable, Sendable {
    var name: String
    var displayName: String

    init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        name = try fields.decode(String.self, forKey: .name)
        displayName = try fields.decodeIfPresent(String.self, forKey: .displayName) ?? name
    }

    private enum CodingKeys: String, CodingKey {
        case name, displayName
    }
}

/// An organisation (a publisher) or a group (a category): CKAN gives both the same shape.
struct CKANOrganization: Decodable, Sendable {
    var name: String
    var title: String
    var description: String
    /// Public datasets; CKAN gives it in lists with `all_fields` and in `organization_show`.
    var packageCount: Int?

    init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        name = try fields.decode(String.self, forKey: .name)
        let title = try fields.decodeIfPresent(String.self, forKey: .title) ?? ""
        self.title = title.isEmpty ? name : title
        description = try fields.decodeIfPresent(String.self, forKey: .description) ?? ""
        packageCount = try fields.decodeIfPresent(Int.self, forKey: .packageCount)
    }

    private enum CodingKeys: String, CodingKey {
        case name, title, description, packageCount
    }
}
