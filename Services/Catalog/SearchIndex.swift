/// What search needs of every dataset, kept in memory: facet values, stemmed words and the sort
/// keys. Filters, full text and facet counts run over these entries; only the page of results is
/// read from the database. Rebuilt from the database at start and whenever another process changed
/// it (the change counter in `catalog_changes` says so); this process's own writes update it in place.
struct SearchIndex: Sendable {
    struct Entry: Sendable {
        var id: String
        var name: String
        var title: String
        var modified: String
        var created: String
        var isPrivate: Bool
        var active: Bool
        /// Field → values, as `package_search` filters and counts them.
        var facets: [String: [String]]
        var titleTerms: Set<String>
        var terms: Set<String>
    }

    /// The database change counter this index reflects; -1 before the first load.
    var version = -1
    private(set) var entries: [String: Entry] = [:]
    /// Word → dataset IDs, and the words sorted, for prefix search.
    private var postings: [String: Set<String>] = [:]
    private var sortedTerms: [String] = []
    /// Dataset IDs, newest change first: the default order, kept ready so most searches need no sort.
    private var newestFirst: [String] = []
    private var prepared = true

    var needsPreparing: Bool { !prepared }

    /// Sorts what searches read; done once after writes, before the index is shared for searching.
    mutating func prepare() {
        guard !prepared else { return }
        sortedTerms = postings.filter { !$0.value.isEmpty }.keys.sorted()
        newestFirst = entries.values.sorted {
            $0.modified != $1.modified ? $0.modified > $1.modified : $0.name < $1.name
        }
        .map(\.id)
        prepared = true
    }

    static func entry(of package: Package, organizationName: String?) -> Entry {
        var facets: [String: [String]] = [:]
        if let organizationName { facets["organization"] = [organizationName] }
        facets["tags"] = package.tags.map(\.name)
        facets["groups"] = package.groups.map(\.name)
        facets["res_format"] = Array(Set(package.resources.map(\.format).filter { !$0.isEmpty })).sorted()
        if !package.licenseId.isEmpty { facets["license_id"] = [package.licenseId] }
        facets["resource_id"] = package.resources.map(\.id)
        let text =
            [package.name, package.notes, organizationName ?? ""] + package.tags.map(\.name)
            + package.resources.flatMap { [$0.name, $0.description, $0.format] } + package.extras.map(\.value)
        let titleTerms = Set(GermanStemmer.terms(of: package.title))
        return Entry(
            id: package.id, name: package.name, title: package.title, modified: package.metadataModified,
            created: package.metadataCreated, isPrivate: package.isPrivate, active: package.state == "active",
            facets: facets, titleTerms: titleTerms,
            terms: titleTerms.union(text.flatMap(GermanStemmer.terms(of:))))
    }

    mutating func put(_ entry: Entry) {
        remove(entry.id)
        entries[entry.id] = entry
        for term in entry.terms { postings[term, default: []].insert(entry.id) }
        prepared = false
    }

    mutating func remove(_ id: String) {
        guard let old = entries.removeValue(forKey: id) else { return }
        for term in old.terms { postings[term]?.remove(id) }
        prepared = false
    }

    /// IDs of datasets with a word starting with `prefix`.
    private func matching(prefix: String) -> Set<String> {
        var low = 0
        var high = sortedTerms.count
        while low < high {
            let middle = (low + high) / 2
            if sortedTerms[middle] < prefix { low = middle + 1 } else { high = middle }
        }
        var found: Set<String> = []
        while low < sortedTerms.count, sortedTerms[low].hasPrefix(prefix) {
            found.formUnion(postings[sortedTerms[low]] ?? [])
            low += 1
        }
        return found
    }

    /// Runs `query`: the total, the IDs of the requested page in order, and the facet counts.
    func search(_ query: SearchQuery) -> (count: Int, page: [String], facets: [String: [(value: String, count: Int)]]) {
        var candidates: [Entry]
        var scores: [String: Int] = [:]
        if query.words.isEmpty {
            candidates = newestFirst.compactMap { entries[$0] }
        } else {
            var ids: Set<String>?
            for word in query.words {
                let found = matching(prefix: word)
                ids = ids.map { $0.intersection(found) } ?? found
                if ids?.isEmpty == true { break }
            }
            candidates = (ids ?? []).compactMap { entries[$0] }
            for entry in candidates {
                // A word in the title weighs more than one elsewhere.
                scores[entry.id] = query.words.reduce(0) { total, word in
                    total + (entry.titleTerms.contains { $0.hasPrefix(word) } ? 3 : 1)
                }
            }
        }
        let matched = candidates.filter { entry in
            guard entry.active, query.includePrivate || !entry.isPrivate else { return false }
            if let since = query.modifiedSince, entry.modified < since { return false }
            for filter in query.filters {
                let holds = filter.anyOf.contains { value in
                    switch filter.field {
                    case "name": entry.name == value
                    case "id": entry.id == value
                    case "title": entry.title == value
                    default: entry.facets[filter.field]?.contains(value) ?? false
                    }
                }
                if holds == filter.negated { return false }
            }
            return true
        }
        let presorted = query.words.isEmpty && (query.sort == .relevance || query.sort == .modified(ascending: false))
        let sorted =
            presorted
            ? matched
            : matched.sorted { a, b in
                switch query.sort {
                case .relevance:
                    let (left, right) = (scores[a.id] ?? 0, scores[b.id] ?? 0)
                    if left != right { return left > right }
                    return a.modified != b.modified ? a.modified > b.modified : a.name < b.name
                case .modified(let ascending):
                    return a.modified != b.modified ? (a.modified < b.modified) == ascending : a.name < b.name
                case .created(let ascending):
                    return a.created != b.created ? (a.created < b.created) == ascending : a.name < b.name
                case .title(let ascending):
                    let (left, right) = (a.title.lowercased(), b.title.lowercased())
                    return left != right ? (left < right) == ascending : a.name < b.name
                case .name(let ascending):
                    return (a.name < b.name) == ascending
                }
            }
        var facets: [String: [(value: String, count: Int)]] = [:]
        for field in query.facetFields {
            var counts: [String: Int] = [:]
            for entry in matched { for value in entry.facets[field] ?? [] { counts[value, default: 0] += 1 } }
            facets[field] = Array(
                counts.map { (value: $0.key, count: $0.value) }
                    .sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
                    .prefix(query.facetLimit))
        }
        let page = sorted.dropFirst(query.start).prefix(query.rows).map(\.id)
        return (matched.count, Array(page), facets)
    }
}
