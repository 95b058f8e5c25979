/// Parses `$filter` and `$orderby` text of SensorThings 1.1 (OGC 18-088 section 9.3.3.5, OData's
/// grammar) into ``FilterExpression``s, checking property paths against the model and operand
/// types, so what it returns can be compiled without further surprises.
///
/// Precedence, loosest first: `or`, `and`, `not`, `eq ne`, `gt ge lt le`, `add sub`, `mul div mod`.
/// `not` binds looser than comparisons (as in SQL, unlike OData), so `not name eq 'x'` means
/// `not (name eq 'x')`, which is what people mean by it. Operators and the words `true`, `false`,
/// `null` are recognized in any case; property names are case-sensitive.
///
/// Recursion is bounded: at most ``maximumNesting`` parentheses, function calls and `not`s inside
/// each other, and a tree at most ``maximumDepth`` deep, so no request can exhaust the stack.
struct FilterParser {
    /// The longest option text accepted, in UTF-8 bytes.
    static let maximumTextLength = 16 * 1024
    static let maximumNesting = 32
    static let maximumDepth = 128

    /// A parsed expression with the depth of its tree.
    private struct Node {
        var expression: FilterExpression
        var depth: Int
    }

    private var tokenizer: FilterTokenizer
    private var token: FilterTokenizer.Token
    private let type: EntityType
    private var nesting = 0

    private var source: OptionText { tokenizer.source }

    private init(_ source: OptionText, type: EntityType) throws(QueryError) {
        var tokenizer = FilterTokenizer(source)
        token = try tokenizer.next()
        self.tokenizer = tokenizer
        self.type = type
    }

    /// The condition `source` holds, for entities of `type`.
    static func filter(_ source: OptionText, for type: EntityType) throws(QueryError) -> FilterExpression {
        var parser = try FilterParser(source, type: type)
        let node = try parser.expression(above: 0)
        try parser.expectEnd(hint: "expected an operator")
        try FilterTypeChecker(type: type, option: source.option).checkCondition(node.expression)
        return node.expression
    }

    /// The terms of `$orderby` text: expressions, each optionally followed by `asc` or `desc`,
    /// separated by commas.
    static func orderBy(_ source: OptionText, for type: EntityType) throws(QueryError) -> [QueryOptions.OrderTerm] {
        var parser = try FilterParser(source, type: type)
        let checker = FilterTypeChecker(type: type, option: source.option)
        var terms: [QueryOptions.OrderTerm] = []
        while true {
            let node = try parser.expression(above: 0)
            try checker.checkOrderTerm(node.expression)
            var descending = false
            if let word = parser.token.word?.lowercased(), word == "asc" || word == "desc" {
                descending = word == "desc"
                try parser.advance()
            }
            terms.append(QueryOptions.OrderTerm(expression: node.expression, descending: descending))
            guard case .comma = parser.token.kind else { break }
            try parser.advance()
        }
        try parser.expectEnd(hint: "expected 'asc', 'desc' or ','")
        return terms
    }

    // MARK: Expressions

    private enum BinaryOperator {
        case logical(FilterExpression.LogicalOperator)
        case comparison(FilterExpression.ComparisonOperator)
        case arithmetic(FilterExpression.ArithmeticOperator)

        init?(_ word: String) {
            if let logical = FilterExpression.LogicalOperator(rawValue: word) {
                self = .logical(logical)
            } else if let comparison = FilterExpression.ComparisonOperator(rawValue: word) {
                self = .comparison(comparison)
            } else if let arithmetic = FilterExpression.ArithmeticOperator(rawValue: word) {
                self = .arithmetic(arithmetic)
            } else {
                return nil
            }
        }

        var precedence: Int {
            switch self {
            case .logical(.or): 1
            case .logical(.and): 2
            case .comparison(.eq), .comparison(.ne): 4
            case .comparison: 5
            case .arithmetic(.add), .arithmetic(.sub): 6
            case .arithmetic: 7
            }
        }
    }

    /// The precedence `not` parses its operand at: tighter than `and`, looser than comparisons.
    private static let notPrecedence = 3

    /// An expression whose binary operators all bind tighter than `minimum`.
    private mutating func expression(above minimum: Int) throws(QueryError) -> Node {
        var left = try prefix()
        while let word = token.word?.lowercased(), let binary = BinaryOperator(word), binary.precedence > minimum {
            let operatorToken = token
            try advance()
            let right = try expression(above: binary.precedence)
            let position = source.position(operatorToken.index)
            var flattened: [FilterExpression]?
            if case .logical(let logical) = binary, case .logical(logical, let operands) = left.expression.kind {
                flattened = operands
            }
            let depth = flattened == nil ? max(left.depth, right.depth) + 1 : max(left.depth, right.depth + 1)
            guard depth <= Self.maximumDepth else {
                throw source.error(
                    .limitExceeded, "too deeply nested: \(QueryError.quoted(operatorToken.text))",
                    at: operatorToken.index, detail: "makes the expression more than \(Self.maximumDepth) levels deep")
            }
            let kind: FilterExpression.Kind
            switch binary {
            case .logical(let logical):
                if let flattened {
                    left.expression.kind = .logical(logical, flattened + [right.expression])
                    left.depth = depth
                    continue
                }
                kind = .logical(logical, [left.expression, right.expression])
            case .comparison(let comparison): kind = .comparison(comparison, left.expression, right.expression)
            case .arithmetic(let arithmetic): kind = .arithmetic(arithmetic, left.expression, right.expression)
            }
            left = Node(expression: FilterExpression(kind, position: position), depth: depth)
        }
        return left
    }

    /// A value, a parenthesized expression, a `not`, a function call or a property path.
    private mutating func prefix() throws(QueryError) -> Node {
        let start = token
        let position = source.position(start.index)
        func literal(_ literal: FilterExpression.Literal) throws(QueryError) -> Node {
            try advance()
            return Node(expression: FilterExpression(.literal(literal), position: position), depth: 1)
        }
        switch start.kind {
        case .openParenthesis:
            try enterNesting()
            try advance()
            let inner = try expression(above: 0)
            guard case .closeParenthesis = token.kind else {
                throw source.error(
                    .syntax, "unexpected \(describe(token))", at: token.index,
                    hint: "expected an operator or ')' to close '(' at position \(position)")
            }
            nesting -= 1
            try advance()
            return inner
        case .string(let value): return try literal(.string(value))
        case .integer(let value): return try literal(.integer(value))
        case .decimal(let value): return try literal(.decimal(value))
        case .dateTime(let value): return try literal(.dateTime(value))
        case .timeOfDay(let value): return try literal(.timeOfDay(value))
        case .interval(let startTime, let endTime): return try literal(.interval(start: startTime, end: endTime))
        case .geometry(let geometry): return try literal(.geometry(geometry))
        case .path(let segments):
            if let word = start.word?.lowercased() {
                switch word {
                case "true": return try literal(.boolean(true))
                case "false": return try literal(.boolean(false))
                case "null": return try literal(.null)
                case "not":
                    try enterNesting()
                    try advance()
                    let operand = try expression(above: Self.notPrecedence)
                    nesting -= 1
                    return Node(
                        expression: FilterExpression(.not(operand.expression), position: position),
                        depth: operand.depth + 1)
                default:
                    if BinaryOperator(word) != nil {
                        throw source.error(
                            .syntax, "unexpected \(describe(start))", at: start.index, hint: "expected a value")
                    }
                }
            }
            try advance()
            if case .openParenthesis = token.kind { return try call(start, segments) }
            return Node(
                expression: FilterExpression(.property(try propertyPath(segments)), position: position), depth: 1)
        case .closeParenthesis, .comma, .end:
            throw source.error(.syntax, "unexpected \(describe(start))", at: start.index, hint: "expected a value")
        }
    }

    /// A function call; `token` is its opening parenthesis.
    private mutating func call(
        _ nameToken: FilterTokenizer.Token, _ segments: [FilterTokenizer.Token.Segment]
    ) throws(QueryError) -> Node {
        let name = nameToken.text.lowercased()
        guard segments.count == 1 else {
            if let last = segments.last?.name.lowercased(), last == "any" || last == "all" {
                throw source.error(
                    .notSupported, "lambda operator \(QueryError.quoted(nameToken.text))", at: nameToken.index,
                    detail: "is not supported",
                    hint: "a condition on a navigation path already holds when any entity matches")
            }
            throw source.error(.syntax, "unexpected '('", at: token.index, hint: "expected an operator")
        }
        guard let function = FilterFunction(rawValue: name) else {
            if FilterFunction.unsupportedNames.contains(name) {
                throw source.error(
                    .notSupported, "function \(QueryError.quoted(nameToken.text))", at: nameToken.index,
                    detail: "is not supported")
            }
            throw source.error(
                .unknownName, "unknown function \(QueryError.quoted(nameToken.text))", at: nameToken.index)
        }
        try enterNesting()
        try advance()
        var arguments: [FilterExpression] = []
        var depth = 0
        if case .closeParenthesis = token.kind {
        } else {
            while true {
                let argument = try expression(above: 0)
                arguments.append(argument.expression)
                depth = max(depth, argument.depth)
                if case .comma = token.kind {
                    try advance()
                    continue
                }
                guard case .closeParenthesis = token.kind else {
                    throw source.error(
                        .syntax, "unexpected \(describe(token))", at: token.index,
                        hint: "expected an operator, ',' or ')' to end the arguments of '\(function.rawValue)'")
                }
                break
            }
        }
        nesting -= 1
        try advance()
        guard function.arity.contains(arguments.count) else {
            let arity = function.arity
            let expected =
                arity.count == 1
                ? "\(arity.lowerBound) argument\(arity.lowerBound == 1 ? "" : "s")"
                : "\(arity.lowerBound) or \(arity.upperBound) arguments"
            throw source.error(
                .syntax, QueryError.quoted(nameToken.text), at: nameToken.index,
                detail: "takes \(expected), not \(arguments.count)")
        }
        return Node(
            expression: FilterExpression(.function(function, arguments), position: source.position(nameToken.index)),
            depth: depth + 1)
    }

    /// Checks a path against the model: navigations, then a property, then names inside a JSON
    /// property.
    private func propertyPath(
        _ segments: [FilterTokenizer.Token.Segment]
    ) throws(QueryError)
        -> FilterExpression.PropertyPath
    {
        var current = type
        var navigations: [String] = []
        for (offset, segment) in segments.enumerated() {
            if let navigation = current.navigation(segment.name),
                let target = EntityModel.type(named: navigation.target)
            {
                guard offset < segments.count - 1 else {
                    throw source.error(
                        .syntax, QueryError.quoted(segment.name), at: segment.index,
                        detail: "is a navigation property of \(current.name)",
                        hint:
                            "name a property of \(target.name) after it, such as \(segment.name)/\(target.properties[1].name)"
                    )
                }
                navigations.append(segment.name)
                current = target
                continue
            }
            var name = segment.name
            if name == "id", current.property("id") == nil { name = "@iot.id" }
            guard let property = current.property(name) else {
                throw source.error(
                    .unknownName, "unknown property or navigation \(QueryError.quoted(segment.name))",
                    at: segment.index,
                    hint: current.namesHint)
            }
            let subpath = segments[(offset + 1)...]
            if let first = subpath.first {
                switch property.storage {
                case .json, .result: break
                default:
                    throw source.error(
                        .syntax, "unexpected \(QueryError.quoted(first.name))", at: first.index,
                        detail: "after \(property.name) of \(current.name)",
                        hint: "only JSON properties such as properties have subproperties")
                }
            }
            return FilterExpression.PropertyPath(
                navigations: navigations, property: property.name, subpath: subpath.map(\.name))
        }
        // A path always has a segment, and its last one is not a navigation (checked above).
        throw source.error(
            .syntax, "unexpected \(QueryError.quoted(segments.map(\.name).joined(separator: "/")))", at: 0)
    }

    // MARK: Tokens

    private mutating func advance() throws(QueryError) {
        token = try tokenizer.next()
    }

    private mutating func enterNesting() throws(QueryError) {
        nesting += 1
        guard nesting <= Self.maximumNesting else {
            throw source.error(
                .limitExceeded, "too deeply nested: \(describe(token))", at: token.index,
                detail: "opens level \(nesting)",
                hint: "at most \(Self.maximumNesting) levels of parentheses, function calls and 'not' are allowed")
        }
    }

    private func expectEnd(hint: String) throws(QueryError) {
        switch token.kind {
        case .end: return
        case .closeParenthesis:
            throw source.error(.syntax, "unexpected ')'", at: token.index, hint: "there is no '(' for it to close")
        default:
            throw source.error(.syntax, "unexpected \(describe(token))", at: token.index, hint: hint)
        }
    }

    private func describe(_ token: FilterTokenizer.Token) -> String {
        if case .end = token.kind { return "end of text" }
        return QueryError.quoted(token.text)
    }
}
