import Foundation

/// The part of Solr's query syntax CKAN clients send to `package_search`: words and `field:value`
/// pairs in `q`, `field:value` pairs (with `+`, `-`, quotes, `AND` and `field:(a OR b)`) in `fq`, and the sorts CKAN
/// offers. Anything else is a Search Query Error that names what it could not read.
enum SearchSyntax {
    /// Fields a search may filter and facet on.
    static let fields = ["organization", "tags", "res_format", "license_id", "groups", "name", "id"]

    static func query(from parameters: Parameters) throws -> SearchQuery {
        var query = SearchQuery()
        var words: [String] = []
        if let q = try parameters.string("q"), q != "*:*" {
            for token in try tokens(q, in: "q") {
                if let filter = try filter(token, in: "q", strict: false) {
                    query.filters.append(filter)
                } else {
                    words.append(token.text)
                }
            }
        }
        query.words = words.flatMap(GermanStemmer.terms(of:))
        if let fq = try parameters.string("fq") {
            for token in try tokens(fq, in: "fq") {
                guard let filter = try filter(token, in: "fq", strict: true) else { continue }
                query.filters.append(filter)
            }
        }
        if let sort = try parameters.string("sort") { query.sort = try self.sort(sort) }
        query.rows = try parameters.int("rows", in: 0...1000) ?? 10
        query.start = try parameters.int("start", in: 0...Int.max) ?? 0
        if try parameters.bool("facet") ?? true {
            for item in try parameters.list("facet.field") ?? [] {
                guard let field = item.text, fields.contains(field) else {
                    throw CatalogError(
                        .searchQuery,
                        "Cannot facet on '\(item.text ?? "?")': use one of \(fields.joined(separator: ", "))")
                }
                query.facetFields.append(field)
            }
        }
        if let limit = try parameters.int("facet.limit", in: -1...10_000) {
            query.facetLimit = limit < 0 ? 10_000 : limit
        }
        query.includePrivate = try parameters.bool("include_private") ?? false
        return query
    }

    private struct Token {
        var text: String
        var quoted: Bool
    }

    /// Splits on spaces outside quotes and parentheses; `AND` between terms is dropped (every term
    /// must hold).
    private static func tokens(_ text: String, in parameter: String) throws -> [Token] {
        var tokens: [Token] = []
        var current = ""
        var quoted = false
        var wasQuoted = false
        var inGroup = false
        for character in text {
            if character == "\"" {
                quoted.toggle()
                wasQuoted = true
            } else if !quoted && (character == "(" || character == ")") {
                guard inGroup == (character == ")") else {
                    throw CatalogError(.searchQuery, "\(parameter): parentheses do not pair up in '\(text)'")
                }
                inGroup.toggle()
                current.append(character)
            } else if character == " " && !quoted && !inGroup {
                if !current.isEmpty { tokens.append(Token(text: current, quoted: wasQuoted)) }
                current = ""
                wasQuoted = false
            } else {
                current.append(character)
            }
        }
        guard !quoted else { throw CatalogError(.searchQuery, "\(parameter): a quote is not closed in '\(text)'") }
        guard !inGroup else {
            throw CatalogError(.searchQuery, "\(parameter): a parenthesis is not closed in '\(text)'")
        }
        if !current.isEmpty { tokens.append(Token(text: current, quoted: wasQuoted)) }
        return tokens.filter { $0.text != "AND" && $0.text != "&&" }
    }

    /// `field:value` as a filter; `nil` for a plain word (in `q`). In `fq` every token is a filter.
    private static func filter(_ token: Token, in parameter: String, strict: Bool) throws -> SearchQuery.Filter? {
        var text = token.text
        var negated = false
        if text.hasPrefix("+") { text.removeFirst() }
        if text.hasPrefix("-") {
            negated = true
            text.removeFirst()
        }
        guard let colon = text.firstIndex(of: ":") else {
            if strict {
                throw CatalogError(.searchQuery, "\(parameter): cannot read '\(token.text)'; write field:value")
            }
            return nil
        }
        let field = String(text[..<colon])
        let value = String(text[text.index(after: colon)...])
        guard fields.contains(field) else {
            if !strict { return nil }
            throw CatalogError(
                .searchQuery,
                "\(parameter): unknown field '\(field)'; search on \(fields.joined(separator: ", "))")
        }
        guard !value.isEmpty else { throw CatalogError(.searchQuery, "\(parameter): '\(token.text)' has no value") }
        if value.hasPrefix("(") && value.hasSuffix(")") {
            // field:(a OR "b c"): any of them. Quotes inside were kept by the tokenizer's group.
            let inner = value.dropFirst().dropLast()
            let values = inner.components(separatedBy: " OR ").map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            guard !values.isEmpty, values.allSatisfy({ !$0.isEmpty && !$0.contains(" AND ") }) else {
                throw CatalogError(
                    .searchQuery, "\(parameter): cannot read '\(token.text)'; write field:(value OR value)")
            }
            return SearchQuery.Filter(field: field, value: value, negated: negated, anyOf: values)
        }
        return SearchQuery.Filter(field: field, value: value, negated: negated)
    }

    static func sort(_ text: String) throws -> SearchQuery.Sort {
        let first = text.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let parts = first.split(separator: " ").map(String.init)
        let ascending = parts.count < 2 || parts[1].lowercased() == "asc"
        guard parts.count <= 2, parts.count < 2 || ["asc", "desc"].contains(parts[1].lowercased()) else {
            throw CatalogError(.searchQuery, "sort: cannot read '\(text)'; write FIELD asc|desc")
        }
        switch parts.first ?? "" {
        case "score", "relevance", "": return .relevance
        case "metadata_modified": return .modified(ascending: ascending)
        case "metadata_created": return .created(ascending: ascending)
        case "title_string", "title": return .title(ascending: ascending)
        case "name": return .name(ascending: ascending)
        default:
            throw CatalogError(
                .searchQuery,
                "sort: unknown field '\(parts.first ?? "")'; sort by score, metadata_modified, metadata_created, title_string or name"
            )
        }
    }

    static func sortText(_ sort: SearchQuery.Sort, hasText: Bool) -> String {
        switch sort {
        case .relevance: hasText ? "score desc, metadata_modified desc" : "metadata_modified desc"
        case .modified(let ascending): "metadata_modified \(ascending ? "asc" : "desc")"
        case .created(let ascending): "metadata_created \(ascending ? "asc" : "desc")"
        case .title(let ascending): "title_string \(ascending ? "asc" : "desc")"
        case .name(let ascending): "name \(ascending ? "asc" : "desc")"
        }
    }
}
