import Database
package import Foundation
import ServiceSupport
import Synchronization

/// The catalog's datasets, organisations and search index in SQLite (WAL): each dataset as its CKAN
/// document, plus the rows search and facets need. Every write replaces a dataset's rows in one
/// transaction, so the index never disagrees with the documents.
package final class CatalogStore: Sendable {
    private let pool: ConnectionPool
    private let index = Mutex(SearchIndex())

    /// The schema versions, oldest first; `datenplattform catalog migrate` applies what is missing.
    static let migrations: [ServiceDatabase.Migration] = [
        ServiceDatabase.Migration(
            1, "datasets, organisations and groups as CKAN documents, facet values, German full-text index",
            [
                """
                CREATE TABLE organizations (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, is_organization INTEGER NOT NULL,
                    document TEXT NOT NULL, created TEXT NOT NULL)
                """,
                """
                CREATE TABLE packages (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, owner_org TEXT, private INTEGER NOT NULL,
                    state TEXT NOT NULL, title TEXT NOT NULL, metadata_created TEXT NOT NULL,
                    metadata_modified TEXT NOT NULL, document TEXT NOT NULL)
                """,
                "CREATE INDEX packages_by_modified ON packages (metadata_modified)",
                """
                CREATE TABLE package_facets (
                    package TEXT NOT NULL REFERENCES packages (id) ON DELETE CASCADE, field TEXT NOT NULL,
                    value TEXT NOT NULL)
                """,
                "CREATE INDEX package_facets_by_value ON package_facets (field, value)",
                "CREATE INDEX package_facets_by_package ON package_facets (package)",
                // Search itself runs on the in-memory index (SearchIndex); this table keeps the words
                // for anyone querying the database directly (FTS5 in SQLite, `german` tsvector in
                // PostgreSQL; see `textTable`).
                textTable,
            ] + themeGroups
        ),
        ServiceDatabase.Migration(
            2, "a change counter, so a catalog process notices datasets another process wrote",
            [
                "CREATE TABLE catalog_changes (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)",
                "INSERT INTO catalog_changes (id, version) VALUES (1, 0)",
            ]
        ),
    ]

    /// The EU data themes as the catalog's groups, present from the first schema on.
    private static var themeGroups: [String] {
        DataTheme.all.map { theme in
            let group = Organization(
                id: "theme-\(theme.name)", name: theme.name, title: theme.title, displayName: theme.title,
                description: DataTheme.uri(theme.name), imageUrl: "", created: "2026-01-01T00:00:00.000000",
                isOrganization: false, type: "group", state: "active", approvalStatus: "approved", packageCount: nil)
            let document = ((try? encode(group)) ?? "{}").replacingOccurrences(of: "'", with: "''")
            return """
                INSERT INTO organizations (id, name, is_organization, document, created)
                VALUES ('\(group.id)', '\(group.name)', 0, '\(document)', '\(group.created)')
                """
        }
    }

    package static var latestSchemaVersion: Int { migrations.last?.version ?? 0 }

    /// The migrations as a release manifest names them (`catalog-0001`, …), in order.
    package static var migrationIDs: [String] {
        migrations.map { String(format: "catalog-%04d", $0.version) }
    }

    /// Stands for the dialect's own full-text table in the migration list.
    private static let textTable = "-- full-text table"

    /// Opens the store at `location`: `sqlite:PATH` (with `create`, a missing file is created; migrate
    /// does that) or a `postgres://` / `postgresql://` URL.
    package init(location: String, create: Bool, connections: Int = 4) throws {
        pool = try ServiceDatabase.open(
            location, create: create, connections: connections, what: "catalog",
            migrateCommand: "datenplattform catalog migrate --config FILE")
    }

    package func close() { pool.close() }

    // MARK: Schema

    package func schemaVersion() async throws -> Int {
        try await ServiceDatabase.schemaVersion(pool)
    }

    /// Applies the missing migrations in one transaction; returns the versions applied.
    package func migrate() async throws -> [Int] {
        try await ServiceDatabase.migrate(pool, Self.migrations, what: "catalog") { statement, connection in
            guard statement == Self.textTable else {
                try connection.executeScript(statement)
                return
            }
            if connection.dialect == .postgres {
                try connection.executeScript(
                    "CREATE TABLE package_text (package TEXT NOT NULL, terms TSVECTOR NOT NULL)")
                try connection.executeScript("CREATE INDEX package_text_terms ON package_text USING GIN (terms)")
            } else {
                try connection.executeScript("CREATE VIRTUAL TABLE package_text USING fts5 (package UNINDEXED, terms)")
            }
        }
    }

    /// Whether the store answers at all (for `/health`).
    package func ping() async throws {
        _ = try await pool.withConnection { try $0.query("SELECT 1") }
    }

    // MARK: Organisations and groups

    /// One organisation or group by ID or name, with how many public, active datasets it has (CKAN
    /// always shows `package_count`).
    package func organization(_ idOrName: String) async throws -> Organization? {
        try await pool.withConnection { connection in
            guard
                let row = try connection.query(
                    "SELECT document FROM organizations WHERE id = $1 OR name = $1", .text(idOrName)
                ).first
            else { return nil }
            var organization = try Self.decode(Organization.self, row.text(0))
            organization.packageCount =
                try connection.query(
                    """
                    SELECT COUNT(*) FROM package_facets f JOIN packages p ON p.id = f.package
                    WHERE f.field = $1 AND f.value = $2 AND p.state = 'active' AND p.private = 0
                    """, .text(organization.isOrganization ? "organization" : "groups"), .text(organization.name)
                ).first?.integer(0) ?? 0
            return organization
        }
    }

    /// Organisations (or groups) by name, with how many public, active datasets each has.
    package func organizations(groups: Bool) async throws -> [Organization] {
        try await pool.withConnection { connection in
            let counts = Dictionary(
                try connection.query(
                    """
                    SELECT f.value, COUNT(*) FROM package_facets f JOIN packages p ON p.id = f.package
                    WHERE f.field = $1 AND p.state = 'active' AND p.private = 0 GROUP BY f.value
                    """, .text(groups ? "groups" : "organization")
                ).map { ($0.text(0), $0.integer(1)) }, uniquingKeysWith: { first, _ in first })
            return try connection.query(
                "SELECT document FROM organizations WHERE is_organization = $1 ORDER BY name",
                .integer(groups ? 0 : 1)
            ).map { row in
                var organization = try Self.decode(Organization.self, row.text(0))
                organization.packageCount = counts[organization.name] ?? 0
                return organization
            }
        }
    }

    /// Every organisation's and group's title by name, for facet labels.
    package func titles() async throws -> [String: String] {
        try await pool.withConnection { connection in
            var titles: [String: String] = [:]
            for row in try connection.query("SELECT name, document FROM organizations") {
                titles[row.text(0)] = (try? Self.decode(Organization.self, row.text(1)))?.title ?? row.text(0)
            }
            return titles
        }
    }

    /// Stores a new organisation or group; a taken name is a validation error.
    package func insert(_ organization: Organization) async throws {
        var stored = organization
        stored.packageCount = nil
        let document = try Self.encode(stored)
        try await pool.withConnection { connection in
            try connection.transaction {
                if try !connection.query("SELECT 1 FROM organizations WHERE name = $1", .text(organization.name))
                    .isEmpty
                {
                    throw CatalogError.invalid(["name": ["Group name already exists in database"]])
                }
                _ = try connection.run(
                    "INSERT INTO organizations (id, name, is_organization, document, created) VALUES ($1, $2, $3, $4, $5)",
                    .text(organization.id), .text(organization.name), .integer(organization.isOrganization ? 1 : 0),
                    .text(document), .text(organization.created))
            }
        }
    }

    // MARK: Datasets

    package func package(_ idOrName: String) async throws -> Package? {
        try await pool.withConnection { connection in
            try connection.query("SELECT document FROM packages WHERE id = $1 OR name = $1", .text(idOrName)).first.map
            {
                try Self.decode(Package.self, $0.text(0))
            }
        }
    }

    /// Inserts or replaces a dataset with its facet rows and search terms. `expectNew` refuses a
    /// name that is taken (create); otherwise the dataset with `package.id` is replaced.
    package func save(_ package: Package, organizationName: String?, expectNew: Bool) async throws {
        var stored = package
        stored.organization = nil
        let document = try Self.encode(stored)
        var facets: [(String, String)] = []
        if let organizationName { facets.append(("organization", organizationName)) }
        for tag in package.tags { facets.append(("tags", tag.name)) }
        for group in package.groups { facets.append(("groups", group.name)) }
        for format in Set(package.resources.map(\.format).filter { !$0.isEmpty }) {
            facets.append(("res_format", format))
        }
        if !package.licenseId.isEmpty { facets.append(("license_id", package.licenseId)) }
        for resource in package.resources { facets.append(("resource_id", resource.id)) }
        let words =
            ([package.name, package.title, package.notes, organizationName ?? ""]
                + package.tags.map(\.name) + package.resources.flatMap { [$0.name, $0.description, $0.format] }
                + package.extras.map(\.value))
        // SQLite gets the CISTEM stems, PostgreSQL the text for its own `german` configuration.
        let text = words.flatMap(GermanStemmer.terms(of:)).joined(separator: " ")
        let plainText = words.joined(separator: " ")
        let facetRows = facets
        let version = try await pool.withConnection { connection in
            try connection.transaction {
                let holder = try connection.query("SELECT id FROM packages WHERE name = $1", .text(package.name)).first
                if let holder, expectNew || holder.text(0) != package.id {
                    throw CatalogError.invalid(["name": ["That URL is already in use."]])
                }
                _ = try connection.run("DELETE FROM package_facets WHERE package = $1", .text(package.id))
                _ = try connection.run("DELETE FROM package_text WHERE package = $1", .text(package.id))
                _ = try connection.run(
                    """
                    INSERT INTO packages (id, name, owner_org, private, state, title, metadata_created, metadata_modified, document)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                    ON CONFLICT (id) DO UPDATE SET name = excluded.name, owner_org = excluded.owner_org,
                        private = excluded.private, state = excluded.state, title = excluded.title,
                        metadata_modified = excluded.metadata_modified, document = excluded.document
                    """, .text(package.id), .text(package.name), SQLValue(package.ownerOrg),
                    .integer(package.isPrivate ? 1 : 0), .text(package.state), .text(package.title),
                    .text(package.metadataCreated), .text(package.metadataModified), .text(document))
                for (field, value) in facetRows {
                    _ = try connection.run(
                        "INSERT INTO package_facets (package, field, value) VALUES ($1, $2, $3)", .text(package.id),
                        .text(field), .text(value))
                }
                _ = try connection.run(
                    connection.dialect == .postgres
                        ? "INSERT INTO package_text (package, terms) VALUES ($1, to_tsvector('german', $2))"
                        : "INSERT INTO package_text (package, terms) VALUES ($1, $2)", .text(package.id),
                    .text(connection.dialect == .postgres ? plainText : text))
                return try connection.query(
                    "UPDATE catalog_changes SET version = version + 1 WHERE id = 1 RETURNING version"
                ).first?.integer(0) ?? 0
            }
        }
        let entry = SearchIndex.entry(of: package, organizationName: organizationName)
        index.withLock { index in
            // Our own change on top of what the index knew: apply it in place; anything else reloads.
            if index.version == version - 1 {
                index.put(entry)
                index.version = version
            }
        }
    }

    /// Names of active public datasets (and private ones when asked), by name.
    package func packageNames(includePrivate: Bool, limit: Int?, offset: Int) async throws -> [String] {
        try await pool.withConnection { connection in
            try connection.query(
                """
                SELECT name FROM packages WHERE state = 'active' AND (private = 0 OR $1 = 1) ORDER BY name
                LIMIT $2 OFFSET $3
                """, .integer(includePrivate ? 1 : 0), .integer(Int64(limit ?? Int(Int32.max))), .integer(Int64(offset))
            ).map { $0.text(0) }
        }
    }

    /// Every tag in use by an active public dataset, by name.
    package func tagNames() async throws -> [String] {
        try await pool.withConnection { connection in
            try connection.query(
                """
                SELECT DISTINCT f.value FROM package_facets f JOIN packages p ON p.id = f.package
                WHERE f.field = 'tags' AND p.state = 'active' AND p.private = 0 ORDER BY f.value
                """
            ).map { $0.text(0) }
        }
    }

    // MARK: Search

    /// Runs a search: matching datasets in order, their total, and the facet counts asked for.
    package func search(
        _ query: SearchQuery
    ) async throws -> (
        count: Int, packages: [Package], facets: [String: [(value: String, count: Int)]]
    ) {
        try await refreshIndex()
        // Searches run on a snapshot, side by side; only preparing after a write takes the lock long.
        let snapshot = index.withLock { index -> SearchIndex in
            if index.needsPreparing { index.prepare() }
            return index
        }
        let (count, page, facets) = snapshot.search(query)
        guard !page.isEmpty else { return (count, [], facets) }
        let documents = try await pool.withConnection { connection in
            let placeholders = page.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
            return Dictionary(
                try connection.execute(
                    "SELECT id, document FROM packages WHERE id IN (\(placeholders))", page.map { .text($0) }
                ).map { ($0.text(0), $0.text(1)) }, uniquingKeysWith: { first, _ in first })
        }
        return (
            count, try page.compactMap { id in try documents[id].map { try Self.decode(Package.self, $0) } }, facets
        )
    }

    /// Reloads the search index when the database changed behind this process's back (or at first use).
    private func refreshIndex() async throws {
        let current = try await pool.withConnection { connection in
            try connection.query("SELECT version FROM catalog_changes WHERE id = 1").first?.integer(0) ?? 0
        }
        guard index.withLock({ $0.version }) != current else { return }
        let rebuilt = try await pool.withConnection { connection -> SearchIndex in
            try connection.transaction {
                var fresh = SearchIndex()
                fresh.version =
                    try connection.query("SELECT version FROM catalog_changes WHERE id = 1").first?.integer(0) ?? 0
                let names = Dictionary(
                    try connection.query("SELECT id, name FROM organizations").map { ($0.text(0), $0.text(1)) },
                    uniquingKeysWith: { first, _ in first })
                for row in try connection.query("SELECT document FROM packages") {
                    let package = try Self.decode(Package.self, row.text(0))
                    fresh.put(SearchIndex.entry(of: package, organizationName: package.ownerOrg.flatMap { names[$0] }))
                }
                fresh.prepare()
                return fresh
            }
        }
        index.withLock { if $0.version != current || rebuilt.version > $0.version { $0 = rebuilt } }
    }

    // MARK: Coding

    static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try CatalogJSON.encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try CatalogJSON.decoder.decode(T.self, from: Data(text.utf8))
    }
}

/// A search as the store runs it, parsed from `package_search`'s parameters.
package struct SearchQuery: Sendable {
    package enum Sort: Sendable, Equatable {
        case relevance
        case modified(ascending: Bool)
        case created(ascending: Bool)
        case title(ascending: Bool)
        case name(ascending: Bool)
    }

    package struct Filter: Sendable, Equatable {
        package var field: String
        package var value: String
        package var negated: Bool
        /// `field:(a OR b)`: any of these holds; `[value]` for a single value.
        package var anyOf: [String]

        package init(field: String, value: String, negated: Bool, anyOf: [String]? = nil) {
            self.field = field
            self.value = value
            self.negated = negated
            self.anyOf = anyOf ?? [value]
        }
    }

    /// Stemmed words that must all occur (as the start of a word); none matches everything.
    package var words: [String] = []
    /// Whether the search ranks by how well words match.
    package var fullText: String? { words.isEmpty ? nil : words.joined(separator: " ") }
    package var filters: [Filter] = []
    package var sort: Sort = .relevance
    package var rows = 10
    package var start = 0
    package var facetFields: [String] = []
    package var facetLimit = 50
    package var includePrivate = false
    /// Only datasets changed at or after this CKAN timestamp (UTC, `2026-11-27T16:29:28.000000`).
    package var modifiedSince: String?
}

/// JSON as the catalog writes and reads it: CKAN's snake_case keys.
package enum CatalogJSON {
    package static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    package static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()
}
