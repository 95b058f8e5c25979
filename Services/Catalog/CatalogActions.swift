package import Foundation

/// The CKAN Action API: each action by name, its parameters read loosely (strings from a query
/// string, typed values from a JSON body), its result as JSON. Only `authorized` callers (the
/// configured API token) may write or see private datasets.
package struct CatalogActions: Sendable {
    package let store: CatalogStore
    package let configuration: CatalogConfiguration

    package init(store: CatalogStore, configuration: CatalogConfiguration) {
        self.store = store
        self.configuration = configuration
    }

    static let readActions: Set<String> = [
        "status_show", "site_read", "package_list", "current_package_list_with_resources", "package_search",
        "package_show", "resource_show", "organization_list", "organization_show", "group_list", "group_show",
        "tag_list", "license_list", "help_show",
    ]
    static let writeActions: Set<String> = [
        "package_create", "package_update", "package_patch", "package_delete", "resource_create",
        "organization_create",
    ]

    /// Runs `action` and returns its result, encoded.
    package func perform(_ action: String, _ parameters: Parameters, authorized: Bool) async throws -> Data {
        if Self.writeActions.contains(action), !authorized {
            throw CatalogError.forbidden("Action \(action) requires an API token with write rights")
        }
        switch action {
        case "status_show":
            return try encode([
                "site_title": JSONValue.string(configuration.siteTitle),
                "site_url": .string(configuration.publicURL), "site_description": .string(""),
                "ckan_version": .string("2.10.0"), "locale_default": .string("de"),
                "extensions": .array([.string("stellwerk-catalog"), .string("dcat")]),
            ])
        case "site_read": return try encode(true)
        case "help_show": return try encode("CKAN Action API of the Stellwerk catalog; see docs/services/catalog.md")
        case "license_list": return try encode(License.all.map(LicenseView.init))
        case "package_list":
            return try encode(
                try await store.packageNames(
                    includePrivate: false, limit: try parameters.int("limit", in: 0...100_000),
                    offset: try parameters.int("offset", in: 0...Int.max) ?? 0))
        case "current_package_list_with_resources":
            var query = SearchQuery()
            query.sort = .modified(ascending: false)
            query.rows = try parameters.int("limit", in: 0...1000) ?? 10
            query.start = try parameters.int("offset", in: 0...Int.max) ?? 0
            return try encode(try await withOrganizations(try await store.search(query).packages))
        case "package_search": return try await search(parameters, authorized: authorized)
        case "package_show":
            return try encode(try await show(try parameters.required("id"), authorized: authorized))
        case "resource_show":
            let id = try parameters.required("id")
            guard let resource = try await findResource(id, authorized: authorized) else {
                throw CatalogError.notFound("resource \(id)")
            }
            return try encode(resource)
        case "organization_list", "group_list":
            return try await list(groups: action == "group_list", parameters)
        case "organization_show", "group_show":
            let id = try parameters.required("id")
            guard let organization = try await store.organization(id),
                organization.isOrganization == (action == "organization_show")
            else { throw CatalogError.notFound(action == "group_show" ? "group \(id)" : "organization \(id)") }
            return try encode(organization)
        case "tag_list": return try encode(try await store.tagNames())
        case "organization_create": return try encode(try await createOrganization(parameters))
        case "package_create":
            return try encode(try await withOrganization(try await savePackage(parameters, existing: nil)))
        case "package_update", "package_patch":
            let id = try parameters.required("id", or: "name")
            guard let existing = try await store.package(id) else { throw CatalogError.notFound("dataset \(id)") }
            let merged = action == "package_patch" ? parameters.merged(over: existing) : parameters
            return try encode(try await withOrganization(try await savePackage(merged, existing: existing)))
        case "package_delete":
            let id = try parameters.required("id")
            guard var existing = try await store.package(id) else { throw CatalogError.notFound("dataset \(id)") }
            existing.state = "deleted"
            existing.metadataModified = CKANTime.now()
            try await store.save(
                existing, organizationName: try await organizationName(existing.ownerOrg), expectNew: false)
            return try encode(JSONValue.null)
        case "resource_create":
            let packageID = try parameters.required("package_id")
            guard let existing = try await store.package(packageID) else {
                throw CatalogError.notFound("dataset \(packageID)")
            }
            var resources = try PackageFields.encodeToValues(existing.resources)
            resources.append(.object(parameters.values))
            var merged = Parameters(try PackageFields.values(of: existing))
            merged.values["resources"] = .array(resources)
            let saved = try await savePackage(merged, existing: existing)
            return try encode(saved.resources.last)
        default:
            throw CatalogError(.badRequest, "Action name not known: \(action)")
        }
    }

    // MARK: Reading

    private func show(_ id: String, authorized: Bool) async throws -> Package {
        guard let package = try await store.package(id), visible(package, authorized: authorized) else {
            throw CatalogError.notFound("dataset \(id)")
        }
        return try await withOrganization(package)
    }

    /// Private and deleted datasets exist only for holders of the API token.
    func visible(_ package: Package, authorized: Bool) -> Bool {
        authorized || (!package.isPrivate && package.state == "active")
    }

    private func findResource(_ id: String, authorized: Bool) async throws -> Resource? {
        var query = SearchQuery()
        query.rows = 1
        query.includePrivate = authorized
        // Resources are found through their dataset: the resource ID is among the indexed facets.
        query.filters = [SearchQuery.Filter(field: "resource_id", value: id, negated: false)]
        return try await store.search(query).packages.first?.resources.first { $0.id == id }
    }

    private func list(groups: Bool, _ parameters: Parameters) async throws -> Data {
        let all = try await store.organizations(groups: groups)
        let sorted =
            (try parameters.string("sort")).map { $0.hasPrefix("package_count") } == true
            ? all.sorted { ($0.packageCount ?? 0) > ($1.packageCount ?? 0) } : all
        let start = try parameters.int("offset", in: 0...Int.max) ?? 0
        let limit = try parameters.int("limit", in: 0...1000) ?? 1000
        let page = Array(sorted.dropFirst(start).prefix(limit))
        if try parameters.bool("all_fields") ?? false { return try encode(page) }
        return try encode(page.map(\.name))
    }

    private static let licenseTitles = Dictionary(
        License.all.map { ($0.id, $0.title) }, uniquingKeysWith: { a, _ in a })

    private func search(_ parameters: Parameters, authorized: Bool) async throws -> Data {
        var query = try SearchSyntax.query(from: parameters)
        if query.includePrivate && !authorized { query.includePrivate = false }
        let (count, packages, facets) = try await store.search(query)
        let organizations = query.facetFields.isEmpty ? [:] : try await store.titles()
        var facetCounts: [String: [String: Int]] = [:]
        var searchFacets: [String: SearchFacet] = [:]
        for (field, values) in facets {
            facetCounts[field] = Dictionary(values.map { ($0.value, $0.count) }, uniquingKeysWith: { a, _ in a })
            searchFacets[field] = SearchFacet(
                title: field,
                items: values.map { value in
                    // As CKAN: organisations and groups by title, licences by the licence list's title.
                    let display =
                        ["organization", "groups"].contains(field)
                        ? organizations[value.value] ?? value.value
                        : field == "license_id" ? Self.licenseTitles[value.value] ?? value.value : value.value
                    return SearchFacet.Item(name: value.value, displayName: display, count: value.count)
                })
        }
        return try encode(
            SearchResult(
                count: count, sort: SearchSyntax.sortText(query.sort, hasText: query.fullText != nil),
                results: try await withOrganizations(packages), facets: facetCounts, searchFacets: searchFacets))
    }

    // MARK: Writing

    private func createOrganization(_ parameters: Parameters) async throws -> Organization {
        var problems: [String: [String]] = [:]
        let name = try parameters.string("name") ?? ""
        if let problem = PackageFields.nameProblem(name) { problems["name"] = [problem] }
        if !problems.isEmpty { throw CatalogError.invalid(problems) }
        let title = try parameters.string("title") ?? name
        let organization = Organization(
            id: UUID().uuidString.lowercased(), name: name, title: title, displayName: title,
            description: try parameters.string("description") ?? "", imageUrl: try parameters.string("image_url") ?? "",
            created: CKANTime.now(), isOrganization: true, type: "organization", state: "active",
            approvalStatus: "approved", packageCount: 0)
        try await store.insert(organization)
        return organization
    }

    /// Validates and stores a dataset from `parameters`: a new one (create), or a full replacement of
    /// `existing` (update; patch merges first).
    private func savePackage(_ parameters: Parameters, existing: Package?) async throws -> Package {
        var package = try await PackageFields(store: store).package(from: parameters, existing: existing)
        if package.ownerOrg != nil, try await store.organization(package.ownerOrg ?? "") == nil {
            throw CatalogError.invalid(["owner_org": ["Organization does not exist"]])
        }
        package.ownerOrg = try await store.organization(package.ownerOrg ?? "")?.id
        try await store.save(
            package, organizationName: try await organizationName(package.ownerOrg), expectNew: existing == nil)
        return package
    }

    private func organizationName(_ id: String?) async throws -> String? {
        guard let id else { return nil }
        return try await store.organization(id)?.name
    }

    func withOrganization(_ package: Package) async throws -> Package {
        var package = package
        if let owner = package.ownerOrg { package.organization = try await store.organization(owner) }
        return package
    }

    func withOrganizations(_ packages: [Package]) async throws -> [Package] {
        var cache: [String: Organization] = [:]
        var result: [Package] = []
        for var package in packages {
            if let owner = package.ownerOrg {
                if cache[owner] == nil { cache[owner] = try await store.organization(owner) }
                package.organization = cache[owner]
            }
            result.append(package)
        }
        return result
    }

    private func encode(_ value: some Encodable) throws -> Data { try CatalogJSON.encoder.encode(value) }
}

/// `package_search`'s result.
struct SearchResult: Encodable {
    var count: Int
    var sort: String
    var results: [Package]
    var facets: [String: [String: Int]]
    var searchFacets: [String: SearchFacet]
}

struct SearchFacet: Encodable {
    struct Item: Encodable {
        var name: String
        var displayName: String
        var count: Int
    }
    var title: String
    var items: [Item]
}

struct LicenseView: Encodable {
    var id: String
    var title: String
    var url: String
    var odConformance: String
    var osdConformance: String
    var status: String
    var maintainer: String
    var family: String
    var isGeneric: Bool
    var isOkdCompliant: Bool
    var isOsiCompliant: Bool

    init(_ license: License) {
        id = license.id
        title = license.title
        url = license.url
        odConformance = license.odConformance
        osdConformance = license.osdConformance
        status = "active"
        maintainer = ""
        family = ""
        isGeneric = license.id.hasPrefix("other")
        isOkdCompliant = license.isOpen
        isOsiCompliant = false
    }
}
