package import Foundation

/// A dataset as the CKAN Action API shows it (`package_show`). Stored as this document without its
/// `organization`, which is attached when read.
package struct Package: Codable, Sendable, Hashable {
    package var id: String
    package var name: String
    package var title: String
    /// The description (CKAN calls it notes), Markdown.
    package var notes: String
    package var url: String
    package var version: String
    package var author: String
    package var authorEmail: String
    package var maintainer: String
    package var maintainerEmail: String
    package var licenseId: String
    package var licenseTitle: String
    package var licenseUrl: String
    package var isopen: Bool
    package var ownerOrg: String?
    package var isPrivate: Bool
    package var state: String
    package var type: String
    package var metadataCreated: String
    package var metadataModified: String
    package var resources: [Resource]
    package var tags: [Tag]
    package var groups: [GroupReference]
    package var extras: [Extra]
    package var numResources: Int
    package var numTags: Int
    package var organization: Organization?

    enum CodingKeys: String, CodingKey {
        case id, name, title, notes, url, version, author, authorEmail, maintainer, maintainerEmail, licenseId
        case licenseTitle, licenseUrl, isopen, ownerOrg, state, type, metadataCreated, metadataModified
        case resources, tags, groups, extras, numResources, numTags, organization
        case isPrivate = "private"
    }
}

package struct Resource: Codable, Sendable, Hashable {
    package var id: String
    package var packageId: String
    package var name: String
    package var description: String
    package var url: String
    package var format: String
    package var mimetype: String?
    package var size: Int?
    package var hash: String
    package var created: String
    package var lastModified: String?
    package var metadataModified: String
    package var position: Int
    package var state: String
    package var urlType: String?
    package var resourceType: String?
}

package struct Tag: Codable, Sendable, Hashable {
    package var id: String
    package var name: String
    package var displayName: String
    package var state: String
    package var vocabularyId: String?
}

/// A dataset's category (CKAN group): the EU data themes DCAT-AP.de uses.
package struct GroupReference: Codable, Sendable, Hashable {
    package var id: String
    package var name: String
    package var title: String
    package var displayName: String
    package var description: String
    package var imageDisplayUrl: String
}

package struct Extra: Codable, Sendable, Hashable {
    package var key: String
    package var value: String
}

/// A publishing body (CKAN organization) or a category (CKAN group).
package struct Organization: Codable, Sendable, Hashable {
    package var id: String
    package var name: String
    package var title: String
    package var displayName: String
    package var description: String
    package var imageUrl: String
    package var created: String
    package var isOrganization: Bool
    package var type: String
    package var state: String
    package var approvalStatus: String
    package var packageCount: Int?
}

/// A licence of the dcat-ap.de licences vocabulary, as `license_list` shows it.
package struct License: Codable, Sendable, Hashable {
    package var id: String
    package var title: String
    package var url: String
    package var odConformance: String
    package var osdConformance: String
    package var isOpen: Bool { odConformance == "approved" }

    /// The dcat-ap.de licence URI, for DCAT-AP.de output.
    package var uri: String { "http://dcat-ap.de/def/licenses/\(id)" }

    package static let all: [License] = [
        License(
            id: "dl-by-de/2.0", title: "Datenlizenz Deutschland – Namensnennung – Version 2.0",
            url: "https://www.govdata.de/dl-de/by-2-0", odConformance: "approved", osdConformance: "not reviewed"),
        License(
            id: "dl-zero-de/2.0", title: "Datenlizenz Deutschland – Zero – Version 2.0",
            url: "https://www.govdata.de/dl-de/zero-2-0", odConformance: "approved", osdConformance: "not reviewed"),
        License(
            id: "cc-by/4.0", title: "Creative Commons Namensnennung – 4.0 International (CC BY 4.0)",
            url: "https://creativecommons.org/licenses/by/4.0/", odConformance: "approved",
            osdConformance: "not reviewed"),
        License(
            id: "cc-by-sa/4.0",
            title:
                "Creative Commons Namensnennung – Weitergabe unter gleichen Bedingungen 4.0 International (CC BY-SA 4.0)",
            url: "https://creativecommons.org/licenses/by-sa/4.0/", odConformance: "approved",
            osdConformance: "not reviewed"),
        License(
            id: "cc-zero", title: "Creative Commons CC Zero License (CC0 1.0)",
            url: "https://creativecommons.org/publicdomain/zero/1.0/", odConformance: "approved",
            osdConformance: "not reviewed"),
        License(
            id: "odbl", title: "Open Data Commons Open Database License (ODbL)",
            url: "https://opendatacommons.org/licenses/odbl/1-0/", odConformance: "approved",
            osdConformance: "not reviewed"),
        License(
            id: "officialWork", title: "Amtliches Werk, lizenzfrei nach §5 Abs. 1 UrhG",
            url: "https://www.gesetze-im-internet.de/urhg/__5.html", odConformance: "approved",
            osdConformance: "not reviewed"),
        License(
            id: "other-open", title: "Andere offene Lizenz", url: "http://dcat-ap.de/def/licenses/other-open",
            odConformance: "approved", osdConformance: "not reviewed"),
        License(
            id: "other-closed", title: "Andere geschlossene Lizenz", url: "http://dcat-ap.de/def/licenses/other-closed",
            odConformance: "rejected", osdConformance: "not reviewed"),
    ]

    package static func find(_ id: String) -> License? { all.first { $0.id == id } }
}

/// The EU data themes, as the catalog's groups (DCAT-AP.de `dcat:theme`).
package enum DataTheme {
    package static let all: [(name: String, title: String)] = [
        ("agri", "Landwirtschaft, Fischerei, Forstwirtschaft und Nahrungsmittel"),
        ("econ", "Wirtschaft und Finanzen"), ("educ", "Bildung, Kultur und Sport"), ("ener", "Energie"),
        ("envi", "Umwelt"), ("gove", "Regierung und öffentlicher Sektor"), ("heal", "Gesundheit"),
        ("intr", "Internationale Themen"), ("just", "Justiz, Rechtssystem und öffentliche Sicherheit"),
        ("regi", "Regionen und Städte"), ("soci", "Bevölkerung und Gesellschaft"),
        ("tech", "Wissenschaft und Technologie"), ("tran", "Verkehr"),
    ]

    /// The theme's URI in the EU data theme vocabulary.
    package static func uri(_ name: String) -> String {
        "http://publications.europa.eu/resource/authority/data-theme/\(name.uppercased())"
    }
}

/// CKAN's timestamps: UTC, microseconds, no zone designator.
package enum CKANTime {
    package static func now() -> String { format(Date()) }

    package static func format(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2))T\(pad(parts.hour, 2)):"
            + "\(pad(parts.minute, 2)):\(pad(parts.second, 2)).\(pad((parts.nanosecond ?? 0) / 1000, 6))"
    }
}
