import Foundation

/// The portal's pages as HTML, in one language. Links keep the language the visitor chose.
struct PortalPages {
    let configuration: PortalConfiguration
    let language: PortalLanguage
    /// The path of the current page without its language prefix, for the language switch.
    let path: String
    let query: String

    private var text: PortalText { language.text }

    /// A path in this page's language.
    func link(_ path: String) -> String {
        (language == configuration.language ? "" : "/\(language.rawValue)") + path
    }

    /// The whole page around `body`.
    func page(title: String, body: String, head: String = "") -> String {
        let other = language.other
        let target = (other == configuration.language ? "" : "/\(other.rawValue)") + (path == "/" ? "" : path)
        let switchTarget = (target.isEmpty ? "/" : target) + (query.isEmpty ? "" : "?\(query)")
        return """
            <!DOCTYPE html>
            <html lang="\(language.rawValue)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) – \(escape(configuration.title))</title>
            <link rel="stylesheet" href="/static/portal.css">
            <link rel="icon" href="/static/icon.svg" type="image/svg+xml">
            \(head)
            </head>
            <body>
            <a class="skip" href="#main">\(text.skipToContent)</a>
            <header>
            <div class="bar">
            <a class="brand" href="\(link("/"))">\(configuration.look.logo == nil ? "" : "<img src=\"/static/logo.svg\" alt=\"\" height=\"40\">")\(escape(configuration.title))</a>
            <nav aria-label="\(text.mainNavigation)">
            <ul>
            <li><a href="\(link("/dataset"))">\(text.datasets)</a></li>
            <li><a href="\(link("/organization"))">\(text.organizations)</a></li>
            <li><a href="\(escape(switchTarget))" lang="\(other.rawValue)" hreflang="\(other.rawValue)">\(other.text.languageName)</a></li>
            </ul>
            </nav>
            </div>
            </header>
            <main id="main">
            \(body)
            </main>
            <footer>
            <div class="bar">
            <span>\(text.footer)</span>
            <a href="\(link("/impressum"))">\(text.imprint)</a>
            <a href="\(link("/datenschutz"))">\(text.privacy)</a>
            </div>
            </footer>
            </body>
            </html>

            """
    }

    /// `kept`: hidden fields a new search keeps (the whole cluster, once a visitor chose it).
    func searchForm(_ value: String = "", keeping kept: String = "") -> String {
        """
        <form class="search" role="search" action="\(link("/dataset"))" method="get">
        \(kept)<label class="visually-hidden" for="q">\(text.searchLabel)</label>
        <input type="search" id="q" name="q" value="\(escape(value))" placeholder="\(escape(text.searchPlaceholder))">
        <button type="submit">\(text.searchButton)</button>
        </form>
        """
    }

    // MARK: Pages

    func home(newest: [CKANDataset], categories: [CKANOrganization]) -> String {
        let themes = categories.filter { ($0.packageCount ?? 0) > 0 }.map { group in
            "<li><a href=\"\(link("/dataset"))?groups=\(urlEncode(group.name))\">\(escape(group.title))</a> <span class=\"meta\">(\(group.packageCount ?? 0))</span></li>"
        }.joined(separator: "\n")
        return page(
            title: text.datasets,
            body: """
                <h1>\(escape(configuration.title))</h1>
                <p>\(text.welcome)</p>
                \(searchForm())
                \(gaugeOverview())
                <section aria-labelledby="categories"><h2 id="categories">\(text.categories)</h2>
                <ul class="plain">\(themes)</ul></section>
                <section aria-labelledby="newest"><h2 id="newest">\(text.newest)</h2>
                <ul class="plain results">\(newest.map(resultItem).joined(separator: "\n"))</ul>
                <p><a href="\(link("/dataset"))">\(text.allDatasets)</a></p></section>
                """)
    }

    /// The fields a search filters and counts by, in the order the page shows them.
    static let facetFields = ["organization", "groups", "tags", "res_format", "license_id"]
    /// Values a facet shows until "show all".
    static let facetShown = 10

    struct Search {
        var q: String
        var sort: String
        var page: Int
        var filters: [(field: String, value: String)]
        /// Whether the search covers the whole cluster, not only the site's own organisations.
        var wholeCluster = true
        /// Facets shown whole ("show all").
        var expanded: Set<String> = []
    }

    /// `ownTitles`: the site's own organisations (name, title), offered first in the organisation
    /// facet even where this search found none of theirs.
    func search(
        _ search: Search, result: CatalogClient.SearchResult, rows: Int, ownTitles: [(String, String)] = []
    ) -> String {
        func url(
            page: Int? = nil, without removed: (String, String)? = nil, adding added: (String, String)? = nil,
            wholeCluster: Bool? = nil, expanded: Set<String>? = nil
        )
            -> String
        {
            var pairs: [(String, String)] = []
            if !search.q.isEmpty { pairs.append(("q", search.q)) }
            if search.sort != "relevance" { pairs.append(("sort", search.sort)) }
            if !ownTitles.isEmpty && (wholeCluster ?? search.wholeCluster) { pairs.append(("scope", "all")) }
            for filter in search.filters where !(removed.map { $0 == filter } ?? false) { pairs.append(filter) }
            if let added { pairs.append(added) }
            for field in (expanded ?? search.expanded).sorted() { pairs.append(("_\(field)_limit", "0")) }
            if let page, page > 1 { pairs.append(("page", String(page))) }
            return link("/dataset")
                + (pairs.isEmpty ? "" : "?" + pairs.map { "\($0.0)=\(urlEncode($0.1))" }.joined(separator: "&"))
        }
        let pages = max(1, (result.count + rows - 1) / rows)
        var facets = ""
        for field in Self.facetFields {
            var items = result.searchFacets[field]?.items ?? []
            if field == "organization" && !ownTitles.isEmpty {
                // The site's own first, found or not; then the others by count.
                let own = ownTitles.map { name, title in
                    items.first { $0.name == name }
                        ?? CatalogClient.SearchResult.Facet.Item(name: name, displayName: title, count: 0)
                }
                items = own + items.filter { item in !ownTitles.contains { $0.0 == item.name } }
            }
            guard !items.isEmpty else { continue }
            let whole = search.expanded.contains(field)
            let shown = whole ? items : Array(items.prefix(Self.facetShown))
            facets += "<section class=\"facet\"><h3>\(escape(text.facetNames[field] ?? field))</h3><ul>"
            for item in shown {
                let active = search.filters.contains { $0.field == field && $0.value == item.name }
                let label = "\(escape(item.displayName)) <span class=\"meta\">(\(item.count))</span>"
                facets +=
                    active
                    ? "<li><a href=\"\(escape(url(without: (field, item.name))))\" aria-current=\"true\"><strong>\(label)</strong> <span class=\"visually-hidden\">\(text.removeFilter)</span>✕</a></li>"
                    : "<li><a href=\"\(escape(url(adding: (field, item.name))))\">\(label)</a></li>"
            }
            facets += "</ul>"
            if whole && items.count > Self.facetShown {
                facets +=
                    "<p><a href=\"\(escape(url(expanded: search.expanded.subtracting([field]))))\">\(text.showFewer)</a></p>"
            } else if !whole && items.count > Self.facetShown {
                facets +=
                    "<p><a href=\"\(escape(url(expanded: search.expanded.union([field]))))\">\(text.showAll(items.count))</a></p>"
            }
            facets += "</section>"
        }
        // Which organisations the search covers, and the switch to the other choice.
        var scope = ""
        if !ownTitles.isEmpty {
            let own = escape(ownTitles.map(\.1).joined(separator: ", "))
            let cluster = escape(text.wholeCluster)
            scope =
                "<p class=\"scope\">\(text.searchIn) "
                + (search.wholeCluster
                    ? "<a href=\"\(escape(url(wholeCluster: false)))\">\(own)</a> · <strong aria-current=\"true\">\(cluster)</strong>"
                    : "<strong aria-current=\"true\">\(own)</strong> · <a href=\"\(escape(url(wholeCluster: true)))\">\(cluster)</a>")
                + "</p>"
        }
        let sorts = [("relevance", text.sortRelevance), ("newest", text.sortNewest), ("title", text.sortTitle)]
        // A new search or sort keeps the whole cluster once chosen; a sort keeps facets shown whole.
        let scopeField =
            !ownTitles.isEmpty && search.wholeCluster ? "<input type=\"hidden\" name=\"scope\" value=\"all\">" : ""
        let kept =
            scopeField
            + search.expanded.sorted().map { "<input type=\"hidden\" name=\"_\(escape($0))_limit\" value=\"0\">" }
            .joined()
        let sortForm = """
            <form method="get" action="\(link("/dataset"))">
            \(kept)\(search.q.isEmpty ? "" : "<input type=\"hidden\" name=\"q\" value=\"\(escape(search.q))\">")
            \(search.filters.map { "<input type=\"hidden\" name=\"\(escape($0.field))\" value=\"\(escape($0.value))\">" }.joined())
            <label for="sort">\(text.sortLabel)</label>
            <select id="sort" name="sort">\(sorts.map { "<option value=\"\($0.0)\"\($0.0 == search.sort ? " selected" : "")>\($0.1)</option>" }.joined())</select>
            <button type="submit">\(text.sortApply)</button>
            </form>
            """
        var paging = ""
        if pages > 1 {
            paging = "<nav class=\"pages\" aria-label=\"\(text.pagination)\">"
            if search.page > 1 {
                paging += "<a href=\"\(escape(url(page: search.page - 1)))\" rel=\"prev\">\(text.previous)</a>"
            }
            paging += "<span>\(text.page(search.page, pages))</span>"
            if search.page < pages {
                paging += "<a href=\"\(escape(url(page: search.page + 1)))\" rel=\"next\">\(text.next)</a>"
            }
            paging += "</nav>"
        }
        let list =
            result.results.isEmpty
            ? "<p>\(text.noResults)</p>"
            : "<ul class=\"plain results\">\(result.results.map(resultItem).joined(separator: "\n"))</ul>"
        return page(
            title: search.q.isEmpty ? text.datasets : "\(search.q) – \(text.datasets)",
            body: """
                <h1>\(text.datasets)</h1>
                \(searchForm(search.q, keeping: scopeField))
                <div class="layout">
                <aside aria-label="\(text.filters)"><h2>\(text.filters)</h2>\(facets)</aside>
                <section aria-labelledby="count"><h2 id="count" role="status">\(text.results(result.count))</h2>
                \(scope)
                \(sortForm)
                \(list)
                \(paging)
                </section>
                </div>
                """)
    }

    func resultItem(_ package: CKANDataset) -> String {
        let formats = Set(package.resources.map { $0.format.uppercased() }.filter { !$0.isEmpty }).sorted()
        return """
            <li><h3><a href="\(link("/dataset/\(urlEncode(package.name))"))">\(escape(package.title))</a></h3>
            <p class="meta">\(escape(package.organization?.title ?? ""))</p>
            <p>\(escape(String(String(package.notes.split(separator: "\n").first ?? "").prefix(220))))</p>
            <p>\(formats.map { "<span class=\"badge\">\(escape($0))</span>" }.joined())</p></li>
            """
    }

    /// The preview of `resource` on its dataset page: a table with a caption that says how the
    /// file was read, or one line why there is none.
    func preview(of resource: CKANResource, _ outcome: PreviewFetcher.Outcome, title: String) -> String {
        let body: String
        switch outcome {
        case .success(let table):
            var how: [String] = []
            if let delimiter = table.delimiter {
                how.append("\(text.delimiter) „\(delimiter == "\t" ? text.tab : escape(delimiter))“")
            }
            if let encoding = table.encoding { how.append("\(text.encoding) \(escape(encoding))") }
            let name = escape(resource.name.isEmpty ? title : resource.name)
            let caption =
                text.previewCaption(table.rows.count, name) + (how.isEmpty ? "" : " (\(how.joined(separator: ", ")))")
            let heads = table.header.map {
                "<th scope=\"col\">\($0 == DataPreview.geometryColumn ? text.geometry : escape($0))</th>"
            }.joined()
            let rows = table.rows.map { row in
                "<tr>"
                    + (0..<table.header.count).map { "<td>\(escape($0 < row.count ? row[$0] : ""))</td>" }.joined()
                    + "</tr>"
            }.joined(separator: "\n")
            body = """
                <div class="preview" role="region" aria-labelledby="preview-caption" tabindex="0">
                <table><caption id="preview-caption">\(caption)</caption>
                <thead><tr>\(heads)</tr></thead>
                <tbody>\(rows)</tbody></table></div>
                \(table.more ? "<p>\(text.previewMore)</p>" : "")
                """
        case .failure(.tooLarge(let limit)): body = "<p>\(text.previewTooLarge(limit))</p>"
        case .failure(.notAllowed(let host)): body = "<p>\(escape(text.previewNotAllowed(host)))</p>"
        case .failure(.unreadable): body = "<p>\(text.previewUnreadable)</p>"
        case .failure(.fetchFailed): body = "<p>\(text.previewFailed)</p>"
        }
        return "<section aria-labelledby=\"preview\"><h2 id=\"preview\">\(text.preview)</h2>\(body)</section>"
    }

    func dataset(_ package: CKANDataset, preview: (CKANResource, PreviewFetcher.Outcome)? = nil) -> String {
        let rdf = "\(configuration.catalogPublicURL)/dataset/\(urlEncode(package.name))"
        let alternates = [
            ("ttl", "text/turtle", "Turtle"), ("rdf", "application/rdf+xml", "RDF/XML"),
            ("jsonld", "application/ld+json", "JSON-LD"),
        ]
        let head = alternates.map { "<link rel=\"alternate\" type=\"\($0.1)\" href=\"\(escape(rdf)).\($0.0)\">" }
            .joined(separator: "\n")
        let resources = package.resources.map { resource in
            """
            <li><h3>\(escape(resource.name.isEmpty ? package.title : resource.name))</h3>
            <p>\(resource.format.isEmpty ? "" : "<span class=\"badge\">\(escape(resource.format.uppercased()))</span>")\(escape(resource.description))</p>
            <p><a href="\(escape(resource.url))">\(text.download)<span class="visually-hidden">: \(escape(resource.name))</span></a></p></li>
            """
        }.joined(separator: "\n")
        let license =
            package.licenseTitle.isEmpty
            ? text.noLicense
            : (package.licenseUrl.isEmpty
                ? escape(package.licenseTitle)
                : "<a href=\"\(escape(package.licenseUrl))\">\(escape(package.licenseTitle))</a>")
        let tags = package.tags.map {
            "<a href=\"\(link("/dataset"))?tags=\(urlEncode($0.name))\">\(escape($0.displayName))</a>"
        }.joined(separator: " ")
        var info: [(String, String)] = []
        if let organization = package.organization {
            info.append(
                (
                    text.publisher,
                    "<a href=\"\(link("/organization/\(urlEncode(organization.name))"))\">\(escape(organization.title))</a>"
                ))
        }
        if !package.maintainer.isEmpty { info.append((text.maintainer, escape(package.maintainer))) }
        if !package.maintainerEmail.isEmpty {
            info.append(
                (
                    text.contact,
                    "<a href=\"mailto:\(escape(package.maintainerEmail))\">\(escape(package.maintainerEmail))</a>"
                ))
        }
        if !package.url.isEmpty {
            info.append((text.source, "<a href=\"\(escape(package.url))\">\(escape(package.url))</a>"))
        }
        if !package.version.isEmpty { info.append((text.version, escape(package.version))) }
        info.append((text.created, escape(String(package.metadataCreated.prefix(10)))))
        info.append((text.modified, escape(String(package.metadataModified.prefix(10)))))
        return page(
            title: package.title,
            body: """
                <article>
                <h1>\(escape(package.title))</h1>
                <p class="meta">\(escape(package.organization?.title ?? ""))</p>
                \(markdown(package.notes))
                \(chart(of: package))
                <section aria-labelledby="resources"><h2 id="resources">\(text.resources)</h2>
                <ul class="plain results">\(resources)</ul></section>
                \(preview.map { self.preview(of: $0.0, $0.1, title: package.title) } ?? "")
                <section aria-labelledby="license"><h2 id="license">\(text.license)</h2><p>\(license)</p></section>
                \(tags.isEmpty ? "" : "<section aria-labelledby=\"tags\"><h2 id=\"tags\">\(text.tags)</h2><p class=\"tags\">\(tags)</p></section>")
                <section aria-labelledby="info"><h2 id="info">\(text.furtherInformation)</h2>
                <dl class="info">\(info.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }.joined())</dl></section>
                <section aria-labelledby="metadata"><h2 id="metadata">\(text.metadata)</h2>
                <p>\(text.metadataIntro) \(alternates.map { "<a href=\"\(escape(rdf)).\($0.0)\" type=\"\($0.1)\">\($0.2)</a>" }.joined(separator: ", "))</p></section>
                </article>
                """, head: head)
    }

    func organizations(_ list: [CKANOrganization]) -> String {
        page(
            title: text.organizations,
            body: """
                <h1>\(text.organizations)</h1>
                <ul class="plain results">\(list.map { organization in
                    "<li><h2><a href=\"\(link("/organization/\(urlEncode(organization.name))"))\">\(escape(organization.title))</a></h2><p>\(escape(organization.description))</p><p class=\"meta\">\(text.datasetCount(organization.packageCount ?? 0))</p></li>"
                }.joined(separator: "\n"))</ul>
                """)
    }

    func organization(_ organization: CKANOrganization, datasets: CatalogClient.SearchResult) -> String {
        page(
            title: organization.title,
            body: """
                <h1>\(escape(organization.title))</h1>
                \(markdown(organization.description))
                <h2>\(text.datasetCount(datasets.count))</h2>
                <ul class="plain results">\(datasets.results.map(resultItem).joined(separator: "\n"))</ul>
                <p><a href="\(link("/dataset"))?organization=\(urlEncode(organization.name))">\(text.allDatasets)</a></p>
                """)
    }

    func imprint() -> String {
        page(
            title: text.imprint,
            body: """
                <h1>\(text.imprint)</h1>
                \(configuration.look.imprint.map(markdown) ?? "<p>\(text.imprintText)</p>")
                <p><a href="\(escape(configuration.imprintURL))">\(text.imprintLink)</a></p>
                """)
    }

    func privacy() -> String {
        page(
            title: text.privacy,
            body: """
                <h1>\(text.privacy)</h1>
                \(configuration.look.privacy.map(markdown) ?? text.privacyText.map { "<p>\(escape($0))</p>" }.joined(separator: "\n"))
                <p><a href="\(escape(configuration.privacyURL))">\(text.privacyLink)</a></p>
                """)
    }

    func notFound() -> String {
        page(
            title: text.notFoundTitle, body: "<h1>\(text.notFoundTitle)</h1><p>\(text.notFoundText)</p>\(searchForm())")
    }

    /// A search the catalog cannot understand, such as one with an open quote.
    func refused() -> String {
        let (title, text) =
            language == .de
            ? (
                "Suche nicht verstanden",
                "Diese Suche kann der Katalog nicht beantworten. Bitte mit anderen Wörtern oder ohne Sonderzeichen erneut suchen."
            )
            : (
                "Search not understood",
                "The catalogue cannot answer this search. Please try other words, or leave out special characters."
            )
        return page(title: title, body: "<h1>\(title)</h1><p>\(text)</p>\(searchForm())")
    }

    func unavailable() -> String {
        page(
            title: text.unavailableTitle,
            body: "<h1>\(text.unavailableTitle)</h1><p class=\"notice\" role=\"alert\">\(text.unavailableText)</p>")
    }
}
