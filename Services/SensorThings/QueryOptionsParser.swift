/// Reads the values of query options, for a request's top level and for the options inside an
/// `$expand` item, which are the same options separated by `;`.
///
/// `$expand` is read with its positions kept: an error in a `$filter` inside it says where in the
/// `$expand` value it is, and semicolons, commas and parentheses inside quoted strings do not end
/// an option.
struct QueryOptionsParser {
    /// `$top` and `$skip` above this are refused rather than passed on to SQL.
    static let maximumCount = 10_000_000
    /// How deeply `$expand` may nest (`Things/Datastreams/Observations/FeatureOfInterest` is 4).
    static let maximumExpansionDepth = 5
    static let optionNames = ["$filter", "$orderby", "$top", "$skip", "$count", "$select", "$expand", "$resultFormat"]

    let type: EntityType
    /// How many expansions deep the options are: 0 at the top level.
    let expansionDepth: Int
    /// The navigations expanded to get here, for naming the place of an option in messages.
    var navigationPath: [String] = []

    /// Parses the value of option `name` into `options`; `nested` for an option inside `$expand`,
    /// whose name is at `namePosition` of `$expand`'s text.
    func apply(
        _ name: String, _ text: OptionText, to options: inout QueryOptions, nested: Bool, namePosition: Int? = nil
    ) throws(QueryError) {
        switch name {
        case "$filter": options.filter = try FilterParser.filter(text, for: type)
        case "$orderby": options.orderBy = try FilterParser.orderBy(text, for: type)
        case "$top": options.top = try count(text)
        case "$skip": options.skip = try count(text)
        case "$count":
            switch String(text.characters) {
            case "true": options.count = true
            case "false": options.count = false
            default:
                throw text.error(
                    .syntax, QueryError.quoted(String(text.characters)), at: 0, detail: "is neither true nor false")
            }
        case "$select": options.select = try select(text)
        case "$expand": options.expand = try expansions(text)
        case "$resultFormat":
            let value = String(text.characters)
            guard !nested else {
                throw text.error(.notSupported, "$resultFormat", at: 0, detail: "is only allowed outside $expand")
            }
            guard value == "dataArray" else {
                throw text.error(
                    .notSupported, QueryError.quoted(value), at: 0, hint: "the only result format is dataArray")
            }
            guard type == EntityModel.observation else {
                throw text.error(
                    .notSupported, "'dataArray'", at: 0, detail: "is only for Observations, not \(type.setName)")
            }
            options.resultFormat = .dataArray
        default:
            throw QueryError(
                .unknownName, option: text.option, "unknown query option \(QueryError.quoted(name))",
                position: namePosition, hint: "the options are \(Self.optionNames.joined(separator: ", "))")
        }
    }

    /// A non-negative integer up to ``maximumCount``, read digit by digit so no length of digits
    /// can overflow.
    private func count(_ text: OptionText) throws(QueryError) -> Int {
        let value = String(text.characters)
        guard !value.isEmpty, text.characters.allSatisfy(FilterTokenizer.isDigit) else {
            throw text.error(.syntax, QueryError.quoted(value), at: 0, detail: "is not a non-negative integer")
        }
        var number = 0
        for character in text.characters {
            number = number * 10 + (character.wholeNumberValue ?? 0)
            guard number <= Self.maximumCount else {
                throw text.error(
                    .limitExceeded, QueryError.quoted(value), at: 0, detail: "is more than \(Self.maximumCount)")
            }
        }
        return number
    }

    /// `$select=name,Datastreams`: properties and navigation properties of the type.
    private func select(_ text: OptionText) throws(QueryError) -> [String] {
        var names: [String] = []
        var start = 0
        let characters = text.characters
        while start <= characters.count {
            let end = characters[start...].firstIndex(of: ",") ?? characters.count
            var first = start
            while first < end, characters[first].isWhitespace { first += 1 }
            var last = end
            while last > first, characters[last - 1].isWhitespace { last -= 1 }
            let name = text.text(first, last)
            guard !name.isEmpty else {
                throw text.error(.syntax, "missing name", at: first, hint: "expected a property of \(type.name)")
            }
            let known = name == "id" && type.property("id") == nil ? "@iot.id" : name
            guard type.property(known) != nil || type.navigation(known) != nil else {
                throw text.error(
                    .unknownName, "unknown property or navigation \(QueryError.quoted(name))", at: first,
                    hint: type.namesHint)
            }
            if !names.contains(known) { names.append(known) }
            start = end + 1
        }
        return names
    }

    // MARK: $expand

    /// `Datastreams($top=2),Locations,Datastreams/Sensor`: items separated by commas; items of the
    /// same navigation are merged.
    private func expansions(_ text: OptionText) throws(QueryError) -> [QueryOptions.Expansion] {
        var expansions: [QueryOptions.Expansion] = []
        var index = 0
        let characters = text.characters
        while true {
            skipSpaces(characters, &index)
            let start = index
            let expansion = try item(text, &index)
            try Self.merge(expansion, into: &expansions, text, at: start)
            skipSpaces(characters, &index)
            guard index < characters.count else { return expansions }
            guard characters[index] == "," else {
                throw text.error(
                    .syntax, "unexpected \(QueryError.quoted(String(characters[index])))", at: index,
                    hint: "expected ',' or the end of $expand")
            }
            index += 1
        }
    }

    /// One item: a navigation, then `/` and a nested item, or options in parentheses, or nothing.
    private func item(_ text: OptionText, _ index: inout Int) throws(QueryError) -> QueryOptions.Expansion {
        let characters = text.characters
        let start = index
        while index < characters.count, characters[index].isASCII, characters[index].isLetter { index += 1 }
        let name = text.text(start, index)
        guard !name.isEmpty else {
            let found = index < characters.count ? QueryError.quoted(String(characters[index])) : "end of text"
            throw text.error(
                .syntax, "unexpected \(found)", at: index, hint: "expected a navigation property of \(type.name)")
        }
        guard let navigation = type.navigation(name), let target = EntityModel.type(named: navigation.target) else {
            throw text.error(
                .unknownName, "unknown navigation \(QueryError.quoted(name))", at: start,
                hint: "\(type.name) has \(type.navigations.map(\.name).joined(separator: ", "))")
        }
        let depth = expansionDepth + 1
        guard depth <= Self.maximumExpansionDepth else {
            throw text.error(
                .limitExceeded, QueryError.quoted(name), at: start,
                detail: "expands more than \(Self.maximumExpansionDepth) levels deep")
        }
        let inner = QueryOptionsParser(type: target, expansionDepth: depth, navigationPath: navigationPath + [name])
        var options = QueryOptions()
        if index < characters.count, characters[index] == "/" {
            index += 1
            options.expand = [try inner.item(text, &index)]
        } else if index < characters.count, characters[index] == "(" {
            index += 1
            try inner.options(text, &index, into: &options, openedAt: index - 1)
        }
        return QueryOptions.Expansion(navigation: name, options: options)
    }

    /// `$filter=…;$top=2)`: options up to and including the closing parenthesis.
    private func options(
        _ text: OptionText, _ index: inout Int, into options: inout QueryOptions, openedAt open: Int
    ) throws(QueryError) {
        let characters = text.characters
        var given: Set<String> = []
        while true {
            skipSpaces(characters, &index)
            let nameStart = index
            guard index < characters.count, characters[index] == "$" else {
                let found = index < characters.count ? QueryError.quoted(String(characters[index])) : "end of text"
                throw text.error(.syntax, "unexpected \(found)", at: index, hint: "expected an option such as $filter")
            }
            index += 1
            while index < characters.count, characters[index].isASCII, characters[index].isLetter { index += 1 }
            let name = text.text(nameStart, index)
            guard index < characters.count, characters[index] == "=" else {
                throw text.error(.syntax, QueryError.quoted(name), at: nameStart, detail: "needs '=' and a value")
            }
            index += 1
            let valueStart = index
            var depth = 0
            var inString = false
            scan: while index < characters.count {
                switch characters[index] {
                case "'": inString.toggle()
                case "(" where !inString: depth += 1
                case ")" where !inString:
                    if depth == 0 { break scan }
                    depth -= 1
                case ";" where !inString && depth == 0: break scan
                default: break
                }
                index += 1
            }
            guard index < characters.count else {
                throw text.error(
                    .syntax, "unexpected end of text", at: index,
                    hint: inString
                        ? "a string in \(name) is not closed with '"
                        : "expected ')' to close '(' at position \(text.position(open))")
            }
            guard given.insert(name).inserted else {
                throw text.error(.syntax, QueryError.quoted(name), at: nameStart, detail: "is given twice")
            }
            let label = "$expand=\(navigationPath.joined(separator: "/"))(\(name))"
            let value = OptionText(
                option: label, characters: Array(characters[valueStart..<index]), offset: text.offset + valueStart)
            try apply(name, value, to: &options, nested: true, namePosition: text.position(nameStart))
            let separator = characters[index]
            index += 1
            if separator == ")" { return }
        }
    }

    /// Adds `expansion` to `expansions`, or merges it with an item of the same navigation: the
    /// nested expansions of both are kept, other options may be given by one of them only.
    private static func merge(
        _ expansion: QueryOptions.Expansion, into expansions: inout [QueryOptions.Expansion], _ text: OptionText,
        at start: Int
    ) throws(QueryError) {
        guard let existing = expansions.firstIndex(where: { $0.navigation == expansion.navigation }) else {
            expansions.append(expansion)
            return
        }
        var merged = expansions[existing].options
        var added = expansion.options
        let nested = added.expand
        merged.expand = []
        added.expand = []
        if merged == QueryOptions() {
            merged = added
        } else if added != QueryOptions(), added != merged {
            throw text.error(
                .syntax, QueryError.quoted(expansion.navigation), at: start,
                detail: "is expanded twice with different options", hint: "give its options once")
        }
        merged.expand = expansions[existing].options.expand
        for item in nested { try merge(item, into: &merged.expand, text, at: start) }
        expansions[existing].options = merged
    }

    private func skipSpaces(_ characters: [Character], _ index: inout Int) {
        while index < characters.count, characters[index] == " " { index += 1 }
    }
}
