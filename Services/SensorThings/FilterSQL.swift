package import Database

/// Compiles a parsed `$filter` into a SQL condition and `$orderby` into an ORDER BY list, for
/// SQLite or PostgreSQL, over the main table under the alias `e0`.
///
/// ```swift
/// var sql = FilterSQL(for: EntityModel.observation, dialect: .postgres, firstParameter: 2, nowMilliseconds: now)
/// let condition = try sql.condition(options.filter)   // "1 = 1" without a filter
/// let order = try sql.orderBy(options.orderBy)          // always ends with e0.id, so pages are stable
/// let rows = try connection.execute(
///     "SELECT e0.id FROM observations e0 WHERE e0.datastream_id = $1 AND \(condition) ORDER BY \(order)",
///     [.integer(datastream)] + sql.parameters)
/// ```
///
/// Every literal goes in as a parameter, numbered `$firstParameter`, `$firstParameter + 1`, … in
/// the order ``parameters`` lists them; SQL text gets only names from ``EntityModel`` and JSON
/// keys, which the tokenizer restricts to `[A-Za-z0-9_@.-]` and which are quoted.
///
/// How properties become SQL:
/// - A JSON property (`properties/depth`) is compared as a number, a string or a boolean,
///   whichever the other operand is; a document value of another kind compares as NULL (false).
/// - An observation's `result` reads `result_number`, `result_string` or `result_boolean` (0 or 1)
///   by the same rule.
/// - A time interval (`phenomenonTime`) is compared with an instant or another interval by its
///   bounds, an instant being an interval whose end is its start (and a stored interval without an
///   end being an instant):
///   `a gt b` ⇔ a.start > b.end, `a ge b` ⇔ a.start >= b.end, `a lt b` ⇔ a.end < b.start,
///   `a le b` ⇔ a.end <= b.start, `a eq b` ⇔ a.start = b.start and a.end = b.end, `ne` is not `eq`.
///   So `phenomenonTime lt 2026-01-01T00:00:00Z` holds for intervals that ended before then.
/// - A path through a to-one navigation (`Datastream/name`) reads a scalar subquery; a condition on
///   a path through a to-many navigation (`Datastreams/name eq 'x'`) becomes `EXISTS (…)`: it holds
///   when any of the related entities matches, as in FROST-Server. Paths in one comparison share
///   their navigations, so `Datastreams/name eq Datastreams/description` compares within one
///   datastream.
package struct FilterSQL: Sendable {
    /// The alias the caller gives the main table: `FROM observations e0`.
    package static let rootAlias = "e0"

    package let type: EntityType
    package let dialect: SQLDialect
    /// The number of the first placeholder this compiler writes (`$1` by default).
    package let firstParameter: Int
    /// What `now()` is, in milliseconds since 1970: the caller's clock, so compiling stays pure.
    package let nowMilliseconds: Int64
    /// The values for the placeholders written so far, in order.
    package private(set) var parameters: [SQLValue] = []
    /// The option being compiled, for messages.
    private var option = "$filter"
    private var aliasCount = 0

    /// The number the next placeholder will get: where the caller's own parameters may continue.
    package var nextParameter: Int { firstParameter + parameters.count }

    package init(for type: EntityType, dialect: SQLDialect, firstParameter: Int = 1, nowMilliseconds: Int64) {
        self.type = type
        self.dialect = dialect
        self.firstParameter = firstParameter
        self.nowMilliseconds = nowMilliseconds
    }

    /// A SQL condition selecting the entities `filter` selects; `1 = 1` when there is none.
    package mutating func condition(_ filter: FilterExpression?) throws(QueryError) -> String {
        option = "$filter"
        guard let filter else { return "1 = 1" }
        return try parsable(try condition(of: filter), filter)
    }

    /// The ORDER BY list for `terms`, ending with `e0.id` so equal values still come in one order
    /// and pages do not overlap. NULLs come last ascending and first descending in both databases
    /// (PostgreSQL's default). Terms that are literals order nothing and are left out.
    package mutating func orderBy(_ terms: [QueryOptions.OrderTerm]) throws(QueryError) -> String {
        option = "$orderby"
        var parts: [String] = []
        for term in terms {
            if case .literal = term.expression.kind { continue }
            var scope = Scope(allowsExists: false)
            let columns: [String]
            switch try operand(term.expression, &scope) {
            case .value(let sql, _): columns = [sql]
            case .interval(let start, let end): columns = [start, end]
            case .intervalLiteral: columns = []
            case .json(let reference): columns = [json(reference, as: nil)]
            case .result(let source):
                columns = ["result_number", "result_string", "result_boolean"].map {
                    source.read("\(source.alias).\($0)")
                }
            case .distance(let squared): columns = [squared]
            case .null: columns = []
            case .geometry:
                throw internalError(term.expression, "cannot order by a geometry")
            }
            let direction = term.descending ? "DESC NULLS FIRST" : "ASC NULLS LAST"
            for column in columns { parts.append("\(try parsable(column, term.expression)) \(direction)") }
        }
        parts.append("\(Self.rootAlias).id ASC")
        return parts.joined(separator: ", ")
    }

    // MARK: Conditions

    /// A condition: logical operators combine conditions; everything else is one predicate.
    mutating func condition(of expression: FilterExpression) throws(QueryError) -> String {
        switch expression.kind {
        case .logical(let logical, let operands):
            var parts: [String] = []
            for operand in operands { parts.append(try condition(of: operand)) }
            return try limited(Self.balanced(parts[...], logical == .and ? " AND " : " OR "), expression)
        case .not(let operand):
            return try limited("NOT (\(try condition(of: operand)))", expression)
        case .literal(.boolean(let value)):
            return value ? "1 = 1" : "1 = 0"
        default:
            return try limited(try predicate(expression), expression)
        }
    }

    /// `(a OR (b OR c))`: a long chain grouped in halves, so its tree is shallow. SQLite refuses
    /// expressions nested more than 1000 deep, and a flat chain of alternatives nests one per term.
    static func balanced(_ parts: ArraySlice<String>, _ separator: String) -> String {
        guard parts.count > 1 else { return parts.first ?? "" }
        let middle = parts.startIndex + parts.count / 2
        return "(" + balanced(parts[..<middle], separator) + separator + balanced(parts[middle...], separator) + ")"
    }

    /// The most SQL text one expression may compile to. A 1000-point polygon makes a few hundred
    /// kilobytes; the limit is there because SQLite's floor, mod and endswith repeat an operand,
    /// so nesting them would grow the text exponentially.
    static let maximumSQLLength = 4 * 1024 * 1024

    /// `sql`, if SQLite's parser can read it (see ``SQLiteParserDepth``).
    private func parsable(_ sql: String, _ expression: FilterExpression) throws(QueryError) -> String {
        guard dialect == .sqlite, SQLiteParserDepth.estimate(sql) > SQLiteParserDepth.limit else { return sql }
        throw QueryError(
            .limitExceeded, option: option, "the expression", position: expression.position,
            detail: "nests too deeply for SQLite to read", hint: "simplify it")
    }

    func limited(_ sql: String, _ expression: FilterExpression) throws(QueryError) -> String {
        guard sql.utf8.count <= Self.maximumSQLLength else {
            throw QueryError(
                .limitExceeded, option: option, "the expression", position: expression.position,
                detail: "compiles to more than \(Self.maximumSQLLength) bytes of SQL", hint: "simplify it")
        }
        return sql
    }

    /// One comparison or predicate function (or a JSON value or result taken as a boolean), with
    /// the to-many navigations its paths cross joined in one EXISTS around it.
    private mutating func predicate(_ expression: FilterExpression) throws(QueryError) -> String {
        var scope = Scope(allowsExists: true)
        let sql: String
        switch expression.kind {
        case .comparison(let comparison, let left, let right):
            sql = try self.comparison(comparison, left, right, expression, &scope)
        case .function(let function, let arguments) where function.isPredicate:
            sql = try predicateFunction(function, arguments, expression, &scope)
        default:
            let value = try operand(expression, &scope)
            sql = "\(try boolean(value, expression)) = 1"
        }
        return scope.wrap(sql)
    }

    private mutating func comparison(
        _ comparison: FilterExpression.ComparisonOperator, _ leftExpression: FilterExpression,
        _ rightExpression: FilterExpression, _ expression: FilterExpression, _ scope: inout Scope
    ) throws(QueryError) -> String {
        // Nothing is greater or less than null. Decided before compiling the operands, whose
        // parameters would otherwise be bound and never used, which both databases refuse.
        if comparison != .eq, comparison != .ne,
            [leftExpression, rightExpression].contains(where: { $0.kind == .literal(.null) })
        {
            return "1 = 0"
        }
        let left = try operand(leftExpression, &scope)
        let right = try operand(rightExpression, &scope)
        switch (left, right) {
        case (.null, .null):
            return comparison == .eq ? "1 = 1" : "1 = 0"
        case (.null, let other), (let other, .null):
            return try nullTest(comparison, other, expression)
        case (.distance(let squared), _):
            return distanceComparison(comparison, squared, try number(right, rightExpression))
        case (_, .distance(let squared)):
            return distanceComparison(comparison.swapped, squared, try number(left, leftExpression))
        default:
            break
        }
        if left.isTemporal, right.isTemporal { return temporalComparison(comparison, left, right) }
        // A JSON value or a result takes the type of the other operand; two JSON values compare as
        // JSON (SQLite's values, PostgreSQL's jsonb order).
        let kind = left.kind ?? right.kind
        let leftSQL = try value(left, as: kind, leftExpression)
        let rightSQL = try value(right, as: kind, rightExpression)
        return "\(leftSQL) \(comparison.sql) \(rightSQL)"
    }

    private func nullTest(
        _ comparison: FilterExpression.ComparisonOperator, _ operand: Operand, _ expression: FilterExpression
    ) throws(QueryError) -> String {
        let isNull: String
        switch operand {
        case .value(let sql, _): isNull = "\(sql) IS NULL"
        case .interval(let start, _): isNull = "\(start) IS NULL"
        case .intervalLiteral: isNull = "1 = 0"
        case .json(let reference):
            let column = "\(reference.source.alias).\(reference.column)"
            isNull =
                switch dialect {
                case .sqlite:
                    reference.source.read("json_extract(\(column), \(sqlitePath(reference.path)))") + " IS NULL"
                case .postgres:
                    reference.source.read("(\(column)::jsonb #>> \(postgresPath(reference.path)))") + " IS NULL"
                }
        case .result(let source):
            // A JSON null result has all kinds empty; its JSON text may be NULL or 'null'.
            let alias = source.alias
            isNull = source.read(
                "(\(alias).result_number IS NULL AND \(alias).result_string IS NULL AND \(alias).result_boolean IS NULL"
                    + " AND (\(alias).result_json IS NULL OR \(alias).result_json = 'null'))")
        case .geometry(.stored(let source, let prefix)):
            isNull = source.read("\(source.alias).\(prefix)_min_x") + " IS NULL"
        case .geometry(.literal):
            isNull = "1 = 0"
        case .distance, .null:
            throw internalError(expression, "cannot compare this with null")
        }
        return comparison == .ne ? "NOT (\(isNull))" : isNull
    }

    /// `geo.distance(…) op r`, compared squared: SQLite has no square root without its optional
    /// math functions, and a distance is never negative.
    private func distanceComparison(
        _ comparison: FilterExpression.ComparisonOperator, _ squared: String, _ bound: String
    ) -> String {
        let r = dialect == .postgres ? "CAST(\(bound) AS double precision)" : "(\(bound))"
        let square = "\(r) * \(r)"
        return switch comparison {
        case .lt: "(\(r) > 0 AND \(squared) < \(square))"
        case .le: "(\(r) >= 0 AND \(squared) <= \(square))"
        case .gt: "(\(squared) IS NOT NULL AND (\(r) < 0 OR \(squared) > \(square)))"
        case .ge: "(\(squared) IS NOT NULL AND (\(r) <= 0 OR \(squared) >= \(square)))"
        case .eq: "(\(r) >= 0 AND \(squared) = \(square))"
        case .ne: "(\(squared) IS NOT NULL AND NOT (\(r) >= 0 AND \(squared) = \(square)))"
        }
    }

    /// Instants and intervals by their bounds (see the type's documentation).
    private mutating func temporalComparison(
        _ comparison: FilterExpression.ComparisonOperator, _ left: Operand, _ right: Operand
    ) -> String {
        if case .value(let leftSQL, _) = left, case .value(let rightSQL, _) = right {
            return "\(leftSQL) \(comparison.sql) \(rightSQL)"
        }
        switch comparison {
        case .gt: return "\(bound(left, end: false)) > \(bound(right, end: true))"
        case .ge: return "\(bound(left, end: false)) >= \(bound(right, end: true))"
        case .lt: return "\(bound(left, end: true)) < \(bound(right, end: false))"
        case .le: return "\(bound(left, end: true)) <= \(bound(right, end: false))"
        case .eq, .ne:
            let equal =
                "\(bound(left, end: false)) = \(bound(right, end: false))"
                + " AND \(bound(left, end: true)) = \(bound(right, end: true))"
            return comparison == .eq ? "(\(equal))" : "NOT (\(equal))"
        }
    }

    /// The start or end of an instant or interval. A literal interval's bounds are bound only when
    /// used: PostgreSQL refuses a parameter the statement does not mention.
    private mutating func bound(_ operand: Operand, end: Bool) -> String {
        switch operand {
        case .value(let sql, _): sql
        case .interval(let start, let stop): end ? stop : start
        case .intervalLiteral(let start, let stop): bind(.integer(end ? stop : start))
        default: "NULL"
        }
    }

    // MARK: Operands

    /// A compiled operand: SQL for a value of a known type, or a reference whose SQL depends on
    /// what it is compared with or used as.
    enum Operand {
        case value(String, ValueKind)
        /// Bounds of a stored time interval; `end` is the start again where it is an instant.
        case interval(start: String, end: String)
        /// A `start/end` literal, in milliseconds, bound when a bound is used.
        case intervalLiteral(start: Int64, end: Int64)
        case json(JSONReference)
        case result(ColumnSource)
        case geometry(GeometryReference)
        /// The square of `geo.distance`.
        case distance(String)
        case null

        var kind: ValueKind? {
            if case .value(_, let kind) = self { return kind }
            return nil
        }

        var isTemporal: Bool {
            switch self {
            case .value(_, .dateTime), .interval, .intervalLiteral: true
            default: false
            }
        }
    }

    /// How a value is kept in SQL: booleans as 0 and 1 in both databases (as `result_boolean` is),
    /// instants as milliseconds, times of day as milliseconds since midnight.
    enum ValueKind {
        case number, string, boolean, dateTime, timeOfDay
    }

    struct JSONReference {
        var source: ColumnSource
        var column: String
        var path: [String]
    }

    enum GeometryReference {
        case stored(ColumnSource, prefix: String)
        case literal(GeometryLiteral)
    }

    mutating func operand(_ expression: FilterExpression, _ scope: inout Scope) throws(QueryError) -> Operand {
        let operand = try unlimitedOperand(expression, &scope)
        switch operand {
        case .value(let sql, _), .distance(let sql): _ = try limited(sql, expression)
        default: break
        }
        return operand
    }

    private mutating func unlimitedOperand(
        _ expression: FilterExpression, _ scope: inout Scope
    ) throws(QueryError)
        -> Operand
    {
        switch expression.kind {
        case .literal(let literal):
            switch literal {
            case .null: return .null
            case .boolean(let value): return .value(bind(.integer(value ? 1 : 0)), .boolean)
            case .integer(let value): return .value(bind(.integer(value)), .number)
            case .decimal(let value): return .value(bind(.real(value)), .number)
            case .string(let value): return .value(bind(.text(value)), .string)
            case .dateTime(let value): return .value(bind(.integer(value)), .dateTime)
            case .timeOfDay(let value): return .value(bind(.integer(value)), .timeOfDay)
            case .interval(let start, let end): return .intervalLiteral(start: start, end: end)
            case .geometry(let geometry): return .geometry(.literal(geometry))
            }
        case .property(let path):
            return try property(path, expression, &scope)
        case .arithmetic(let arithmetic, let left, let right):
            if dialect == .sqlite, arithmetic != .mod {
                return .value("(" + (try sqliteChain(expression, &scope)) + ")", .number)
            }
            let leftSQL = try number(try operand(left, &scope), left)
            let rightSQL = try number(try operand(right, &scope), right)
            return .value(self.arithmetic(arithmetic, leftSQL, rightSQL), .number)
        case .function(let function, let arguments) where !function.isPredicate:
            return try valueFunction(function, arguments, expression, &scope)
        case .function, .comparison, .logical, .not:
            return .value("CASE WHEN \(try condition(of: expression)) THEN 1 ELSE 0 END", .boolean)
        }
    }

    private mutating func property(
        _ path: FilterExpression.PropertyPath, _ expression: FilterExpression, _ scope: inout Scope
    ) throws(QueryError) -> Operand {
        guard let resolved = type.resolve(path) else {
            throw internalError(expression, "unknown property '\(path)'")
        }
        var isGeometry = false
        if case .geometry = resolved.property.storage { isGeometry = true }
        let source = try self.source(of: resolved, path, expression, &scope, isGeometry: isGeometry)
        let alias = source.alias
        switch resolved.property.storage {
        case .id: return .value(source.read("\(alias).id"), .number)
        case .text(let column): return .value(source.read("\(alias).\(column)"), .string)
        case .time(let column): return .value(source.read("\(alias).\(column)"), .dateTime)
        case .interval(let start, let end):
            return .interval(
                start: source.read("\(alias).\(start)"),
                end: source.read("COALESCE(\(alias).\(end), \(alias).\(start))"))
        case .json(let column):
            return .json(JSONReference(source: source, column: column, path: try jsonPath(path.subpath, expression)))
        case .result:
            guard !path.subpath.isEmpty else { return .result(source) }
            return .json(
                JSONReference(source: source, column: "result_json", path: try jsonPath(path.subpath, expression)))
        case .geometry(_, let prefix):
            return .geometry(.stored(source, prefix: prefix))
        }
    }

    /// Names inside a JSON property, checked once more before they go into SQL text: the tokenizer
    /// lets through nothing else, and this keeps it so should the tokenizer change.
    private func jsonPath(_ names: [String], _ expression: FilterExpression) throws(QueryError) -> [String] {
        for name in names {
            guard !name.isEmpty, name.allSatisfy({ FilterTokenizer.isNamePart($0) || $0 == "." || $0 == "-" }) else {
                throw QueryError(
                    .syntax, option: option, "JSON key \(QueryError.quoted(name))", position: expression.position,
                    detail: "may only have letters, digits, '_', '@', '.' and '-'")
            }
        }
        return names
    }

    /// `'$."a"."b"'`: SQLite's JSON path, keys quoted. The `$` follows a quote, which is how the
    /// SQLite connection tells it from a placeholder.
    func sqlitePath(_ names: [String]) -> String {
        "'$" + names.map { ".\"\($0)\"" }.joined() + "'"
    }

    /// `'{"a","b"}'`: PostgreSQL's text array for `#>`, elements quoted (so `null` is a key).
    func postgresPath(_ names: [String]) -> String {
        "'{" + names.map { "\"\($0)\"" }.joined(separator: ",") + "}'"
    }

    /// A JSON value as `kind`, or as the database's JSON value when `kind` is nil; a value of
    /// another kind reads as NULL.
    func json(_ reference: JSONReference, as kind: ValueKind?) -> String {
        let column = "\(reference.source.alias).\(reference.column)"
        let sql: String
        switch dialect {
        case .sqlite:
            let path = sqlitePath(reference.path)
            let value = "json_extract(\(column), \(path))"
            switch kind {
            case .number: sql = "CASE WHEN json_type(\(column), \(path)) IN ('integer', 'real') THEN \(value) END"
            case .string: sql = "CASE WHEN json_type(\(column), \(path)) = 'text' THEN \(value) END"
            case .boolean: sql = "CASE json_type(\(column), \(path)) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END"
            default: return reference.source.read(value)
            }
        case .postgres:
            let value = "(\(column)::jsonb #> \(postgresPath(reference.path)))"
            switch kind {
            case .number:
                sql = "CASE WHEN jsonb_typeof(\(value)) = 'number' THEN (\(value) #>> '{}')::double precision END"
            case .string: sql = "CASE WHEN jsonb_typeof(\(value)) = 'string' THEN \(value) #>> '{}' END"
            case .boolean:
                sql =
                    "CASE WHEN jsonb_typeof(\(value)) = 'boolean' THEN CASE WHEN (\(value) #>> '{}') = 'true' THEN 1 ELSE 0 END END"
            default: return reference.source.read(value)
            }
        }
        return reference.source.read(sql)
    }

    /// SQL for `operand` as a value of `kind` (nil: two JSON values, compared as they are).
    private func value(
        _ operand: Operand, as kind: ValueKind?, _ expression: FilterExpression
    ) throws(QueryError)
        -> String
    {
        switch operand {
        case .value(let sql, _): return sql
        case .json(let reference): return json(reference, as: kind)
        case .result(let source):
            switch kind {
            case .number: return source.read("\(source.alias).result_number")
            case .string: return source.read("\(source.alias).result_string")
            case .boolean: return source.read("\(source.alias).result_boolean")
            default: throw internalError(expression, "cannot compare a result with this")
            }
        default: throw internalError(expression, "cannot compare this")
        }
    }

    func number(_ operand: Operand, _ expression: FilterExpression) throws(QueryError) -> String {
        if case .value(_, let kind) = operand, kind != .number { throw internalError(expression, "expected a number") }
        return try value(operand, as: .number, expression)
    }

    func string(_ operand: Operand, _ expression: FilterExpression) throws(QueryError) -> String {
        if case .value(_, let kind) = operand, kind != .string { throw internalError(expression, "expected a string") }
        return try value(operand, as: .string, expression)
    }

    func boolean(_ operand: Operand, _ expression: FilterExpression) throws(QueryError) -> String {
        if case .value(_, let kind) = operand, kind != .boolean {
            throw internalError(expression, "expected a condition")
        }
        return try value(operand, as: .boolean, expression)
    }

    /// An instant, or the start of an interval.
    mutating func instant(_ operand: Operand, _ expression: FilterExpression) throws(QueryError) -> String {
        switch operand {
        case .value(let sql, .dateTime): return sql
        case .interval(let start, _): return start
        case .intervalLiteral(let start, _): return bind(.integer(start))
        default: throw internalError(expression, "expected a date-time")
        }
    }

    /// `a add b sub c` as `a + b - c`, without parentheses around its left-hand side: SQLite's
    /// parser stack holds about 100 open parentheses, and a chain written as `((a + b) - c)` opens
    /// one per operator. Left-associative like the query language, so the meaning is the same.
    /// Division multiplies by 1.0 first, so integers divide in floating point, still without a
    /// parenthesis.
    private mutating func sqliteChain(
        _ expression: FilterExpression, _ scope: inout Scope
    ) throws(QueryError)
        -> String
    {
        guard case .arithmetic(let arithmetic, let left, let right) = expression.kind else {
            return try number(try operand(expression, &scope), expression)
        }
        let leftSQL: String
        if case .arithmetic(let leftArithmetic, _, _) = left.kind, leftArithmetic != .mod,
            leftArithmetic.isMultiplicative == arithmetic.isMultiplicative
        {
            leftSQL = try sqliteChain(left, &scope)
        } else {
            leftSQL = try number(try operand(left, &scope), left)
        }
        // Compiled on its own, a right-hand arithmetic operand comes in parentheses.
        let rightSQL = try number(try operand(right, &scope), right)
        let sql =
            switch arithmetic {
            case .add: "\(leftSQL) + \(rightSQL)"
            case .sub: "\(leftSQL) - \(rightSQL)"
            case .mul: "\(leftSQL) * \(rightSQL)"
            case .div: "\(leftSQL) * 1.0 / NULLIF(\(rightSQL), 0)"
            case .mod: self.arithmetic(.mod, leftSQL, rightSQL)
            }
        return try limited(sql, expression)
    }

    private func arithmetic(
        _ arithmetic: FilterExpression.ArithmeticOperator, _ left: String, _ right: String
    )
        -> String
    {
        // Division is in floating point (SQLite would divide integers as integers), by zero gives
        // NULL in both databases, and PostgreSQL computes in double precision so no bigint overflow
        // can fail the query.
        switch dialect {
        case .sqlite:
            return switch arithmetic {
            case .add: "(\(left) + \(right))"
            case .sub: "(\(left) - \(right))"
            case .mul: "(\(left) * \(right))"
            case .div: "(\(left) * 1.0 / NULLIF(\(right), 0))"
            // SQLite's % works on integers only; this is the remainder of any numbers, with the
            // sign of the dividend like PostgreSQL's mod.
            case .mod: "(\(left) - (\(right)) * CAST(\(left) * 1.0 / NULLIF(\(right), 0) AS INTEGER))"
            }
        case .postgres:
            return switch arithmetic {
            case .add: "(CAST(\(left) AS double precision) + \(right))"
            case .sub: "(CAST(\(left) AS double precision) - \(right))"
            case .mul: "(CAST(\(left) AS double precision) * \(right))"
            case .div: "(CAST(\(left) AS double precision) / NULLIF(\(right), 0))"
            case .mod: "CAST(mod(CAST(\(left) AS numeric), NULLIF(CAST(\(right) AS numeric), 0)) AS double precision)"
            }
        }
    }

    // MARK: Parameters and errors

    /// A placeholder for `value`; in PostgreSQL with its type, as parameters are sent untyped and
    /// `$1 + $2` would otherwise be ambiguous.
    mutating func bind(_ value: SQLValue) -> String {
        parameters.append(value)
        let placeholder = "$\(firstParameter + parameters.count - 1)"
        guard dialect == .postgres else { return placeholder }
        return switch value {
        case .integer: "\(placeholder)::bigint"
        case .real: "\(placeholder)::double precision"
        case .text: "\(placeholder)::text"
        case .null: placeholder
        }
    }

    /// For what the type checker should have refused: a filter built by hand, or a checker gap.
    func internalError(_ expression: FilterExpression, _ what: String) -> QueryError {
        QueryError(.typeMismatch, option: option, what, position: expression.position)
    }

    // MARK: Navigation

    /// Where a property's columns are read: a table alias, and for a path through to-one
    /// navigations read in a scalar subquery, the subquery to read them in.
    struct ColumnSource {
        var alias: String
        var subquery: (from: String, conditions: String)?

        func read(_ expression: String) -> String {
            guard let subquery else { return expression }
            return "(SELECT \(expression) FROM \(subquery.from) WHERE \(subquery.conditions))"
        }
    }

    /// The tables one predicate joins in its EXISTS, by navigation path, so paths sharing a
    /// navigation use one alias.
    struct Scope {
        /// False in `$orderby`, where a to-many navigation has no single value to order by.
        var allowsExists: Bool
        var tables: [String] = []
        var conditions: [String] = []
        var aliases: [[String]: String] = [:]

        func wrap(_ sql: String) -> String {
            guard !tables.isEmpty else { return sql }
            return "EXISTS (SELECT 1 FROM \(tables.joined(separator: ", ")) WHERE "
                + (conditions + ["(\(sql))"]).joined(separator: " AND ") + ")"
        }
    }

    private mutating func source(
        of resolved: EntityType.ResolvedPath, _ path: FilterExpression.PropertyPath, _ expression: FilterExpression,
        _ scope: inout Scope, isGeometry: Bool
    ) throws(QueryError) -> ColumnSource {
        guard !resolved.hops.isEmpty else { return ColumnSource(alias: Self.rootAlias) }
        // A geometry is read many times by a spatial test, so a to-one path to one is joined too
        // rather than read in a subquery per column: equivalent, as there is at most one.
        if resolved.crossesToMany || (isGeometry && scope.allowsExists) {
            guard scope.allowsExists else {
                let toMany = resolved.hops.first { !$0.navigation.toOne }?.navigation.name ?? ""
                throw QueryError(
                    .notSupported, option: option, QueryError.quoted(path.description), position: expression.position,
                    detail: "crosses \(toMany), which leads to many entities", hint: "order by properties of one entity"
                )
            }
            var alias = Self.rootAlias
            var prefix: [String] = []
            for hop in resolved.hops {
                prefix.append(hop.navigation.name)
                if let joined = scope.aliases[prefix] {
                    alias = joined
                    continue
                }
                let join = self.join(hop, from: alias)
                scope.tables += join.tables
                scope.conditions += join.conditions
                scope.aliases[prefix] = join.alias
                alias = join.alias
            }
            return ColumnSource(alias: alias)
        }
        var tables: [String] = []
        var conditions: [String] = []
        var alias = Self.rootAlias
        for hop in resolved.hops {
            let join = self.join(hop, from: alias)
            tables += join.tables
            conditions += join.conditions
            alias = join.alias
        }
        return ColumnSource(
            alias: alias, subquery: (tables.joined(separator: ", "), conditions.joined(separator: " AND ")))
    }

    /// The tables and conditions that follow one navigation from the entity under `alias`.
    private mutating func join(
        _ hop: EntityType.ResolvedPath.Hop, from alias: String
    ) -> (
        tables: [String], conditions: [String], alias: String
    ) {
        switch hop.navigation.join {
        case .parent(let foreignKey):
            let target = nextAlias()
            return (["\(hop.target.table) \(target)"], ["\(target).id = \(alias).\(foreignKey)"], target)
        case .children(let foreignKey):
            let target = nextAlias()
            return (["\(hop.target.table) \(target)"], ["\(target).\(foreignKey) = \(alias).id"], target)
        case .link(let table, let here, let there):
            let link = nextAlias()
            let target = nextAlias()
            return (
                ["\(table) \(link)", "\(hop.target.table) \(target)"],
                ["\(link).\(here) = \(alias).id", "\(target).id = \(link).\(there)"], target
            )
        }
    }

    private mutating func nextAlias() -> String {
        aliasCount += 1
        return "e\(aliasCount)"
    }
}

extension FilterExpression.ArithmeticOperator {
    var isMultiplicative: Bool { self == .mul || self == .div || self == .mod }
}

extension FilterExpression.ComparisonOperator {
    var sql: String {
        switch self {
        case .eq: "="
        case .ne: "<>"
        case .gt: ">"
        case .ge: ">="
        case .lt: "<"
        case .le: "<="
        }
    }
}
