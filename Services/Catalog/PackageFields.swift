import Foundation

/// Reads and checks a dataset from action parameters, with CKAN's rules and messages: names of 2 to
/// 100 lowercase letters, digits, `-` and `_`; known licences; tags of letters, digits and `-_.`;
/// existing groups; plausible e-mail addresses. All problems are reported at once.
struct PackageFields {
    let store: CatalogStore

    func package(from parameters: Parameters, existing: Package?) async throws -> Package {
        var problems: [String: [String]] = [:]
        func problem(_ field: String, _ message: String) { problems[field, default: []].append(message) }
        let name = try parameters.string("name") ?? ""
        if let issue = Self.nameProblem(name) { problem("name", issue) }
        let licenseID = try parameters.string("license_id") ?? ""
        let license = License.find(licenseID)
        if !licenseID.isEmpty, license == nil {
            problem("license_id", "Unknown licence '\(licenseID)'; license_list shows the ones this catalog knows")
        }
        for field in ["author_email", "maintainer_email"] {
            if let email = try parameters.string(field), !email.isEmpty,
                !(email.contains("@") && !email.hasPrefix("@") && !email.hasSuffix("@") && !email.contains(" "))
            {
                problem(field, "Email \(email) is not a valid format")
            }
        }
        var tags: [Tag] = []
        for item in try parameters.list("tags") ?? [] {
            guard let tagName = Self.field("name", of: item) ?? item.text else {
                problem("tags", "Each tag needs a name")
                continue
            }
            if tagName.count < 2 || tagName.count > 100 {
                problem("tags", "Tag \"\(tagName)\" length is less than minimum 2 or more than maximum 100")
            } else if !tagName.allSatisfy({ $0.isLetter || $0.isNumber || " -_.".contains($0) }) {
                problem("tags", "Tag \"\(tagName)\" must be alphanumeric characters or symbols: -_.")
            } else if !tags.contains(where: { $0.name == tagName }) {
                tags.append(
                    Tag(
                        id: existing?.tags.first { $0.name == tagName }?.id ?? UUID().uuidString.lowercased(),
                        name: tagName, displayName: tagName, state: "active", vocabularyId: nil))
            }
        }
        if let tagString = try parameters.string("tag_string"), parameters.values["tags"] == nil {
            for tagName in tagString.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) })
            where !tagName.isEmpty {
                tags.append(
                    Tag(
                        id: UUID().uuidString.lowercased(), name: tagName, displayName: tagName, state: "active",
                        vocabularyId: nil))
            }
        }
        var groups: [GroupReference] = []
        for item in try parameters.list("groups") ?? [] {
            guard let reference = Self.field("name", of: item) ?? Self.field("id", of: item) ?? item.text else {
                continue
            }
            guard let group = try await store.organization(reference), !group.isOrganization else {
                problem("groups", "Group \(reference) does not exist")
                continue
            }
            groups.append(
                GroupReference(
                    id: group.id, name: group.name, title: group.title, displayName: group.title,
                    description: group.description, imageDisplayUrl: group.imageUrl))
        }
        let now = CKANTime.now()
        let id = existing?.id ?? UUID().uuidString.lowercased()
        var resources: [Resource] = []
        for (position, item) in (try parameters.list("resources") ?? []).enumerated() {
            guard case .object(let fields) = item else {
                problem("resources", "Each resource must be an object")
                continue
            }
            let resource = Parameters(fields)
            let resourceID = try resource.string("id")
            let previous = existing?.resources.first { $0.id == resourceID }
            var size: Int?
            if let text = try resource.string("size"), !text.isEmpty {
                size = Int(text)
                if size == nil { problem("resources", "Resource size '\(text)' is not a whole number") }
            }
            resources.append(
                Resource(
                    id: previous?.id ?? UUID().uuidString.lowercased(), packageId: id,
                    name: try resource.string("name") ?? "", description: try resource.string("description") ?? "",
                    url: try resource.string("url") ?? "", format: try resource.string("format") ?? "",
                    mimetype: try resource.string("mimetype"), size: size, hash: try resource.string("hash") ?? "",
                    created: previous?.created ?? now, lastModified: try resource.string("last_modified"),
                    metadataModified: now, position: position, state: "active",
                    urlType: try resource.string("url_type"), resourceType: try resource.string("resource_type")))
        }
        var extras: [Extra] = []
        for item in try parameters.list("extras") ?? [] {
            guard let key = Self.field("key", of: item) else {
                problem("extras", "Each extra needs a key")
                continue
            }
            extras.append(Extra(key: key, value: Self.field("value", of: item) ?? ""))
        }
        let isPrivate: Bool
        do {
            isPrivate = try parameters.bool("private") ?? false
        } catch let error as CatalogError {
            isPrivate = false
            for (field, messages) in error.fields { problems[field, default: []] += messages }
        }
        if !problems.isEmpty { throw CatalogError.invalid(problems) }
        let title = try parameters.string("title").flatMap { $0.isEmpty ? nil : $0 } ?? name
        return Package(
            id: id, name: name, title: title, notes: try parameters.string("notes") ?? "",
            url: try parameters.string("url") ?? "", version: try parameters.string("version") ?? "",
            author: try parameters.string("author") ?? "", authorEmail: try parameters.string("author_email") ?? "",
            maintainer: try parameters.string("maintainer") ?? "",
            maintainerEmail: try parameters.string("maintainer_email") ?? "", licenseId: licenseID,
            licenseTitle: license?.title ?? "", licenseUrl: license?.url ?? "", isopen: license?.isOpen ?? false,
            ownerOrg: try parameters.string("owner_org").flatMap { $0.isEmpty ? nil : $0 }, isPrivate: isPrivate,
            state: "active", type: "dataset", metadataCreated: existing?.metadataCreated ?? now,
            metadataModified: now, resources: resources, tags: tags, groups: groups, extras: extras,
            numResources: resources.count, numTags: tags.count, organization: nil)
    }

    /// CKAN's rule for dataset and organisation names, or `nil` when `name` keeps it.
    static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "Missing value" }
        if name.count < 2 || name.count > 100 { return "Must be between 2 and 100 characters long" }
        guard name.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" })
        else {
            return "Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_"
        }
        return nil
    }

    private static func field(_ key: String, of value: JSONValue) -> String? {
        guard case .object(let fields) = value else { return nil }
        return fields[key]?.text
    }

    /// A dataset's own fields as parameters (for patching and adding resources).
    static func values(of package: Package) throws -> [String: JSONValue] {
        var stored = package
        stored.organization = nil
        guard
            case .object(let fields) = try JSONDecoder().decode(
                JSONValue.self, from: try CatalogJSON.encoder.encode(stored))
        else { return [:] }
        return fields
    }

    static func encodeToValues(_ resources: [Resource]) throws -> [JSONValue] {
        try JSONDecoder().decode([JSONValue].self, from: try CatalogJSON.encoder.encode(resources))
    }
}
