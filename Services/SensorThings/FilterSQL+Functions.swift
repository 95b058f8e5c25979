extension FilterSQL {
    /// Milliseconds since 1970 of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z, the range of
    /// `mindatetime()` and `maxdatetime()`.
    static let earliestMilliseconds: Int64 = -62_135_596_800_000
    static let latestMilliseconds: Int64 = 253_402_300_799_999

    /// A function that gives a value. String positions are 0-based in the query language and
    /// 1-based in SQL; times are milliseconds since 1970 in UTC, the time zone they are stored in.
    mutating func valueFunction(
        _ function: FilterFunction, _ arguments: [FilterExpression], _ call: FilterExpression, _ scope: inout Scope
    ) throws(QueryError) -> Operand {
        var operands: [Operand] = []
        for argument in arguments { operands.append(try operand(argument, &scope)) }
        let sqlite = dialect == .sqlite
        func text(_ index: Int) throws(QueryError) -> String { try string(operands[index], arguments[index]) }
        func numeric(_ index: Int) throws(QueryError) -> String { try number(operands[index], arguments[index]) }
        func time(_ index: Int) throws(QueryError) -> String { try instant(operands[index], arguments[index]) }

        switch function {
        case .length:
            return .value("length(\(try text(0)))", .number)
        case .indexof:
            let position = sqlite ? "instr(\(try text(0)), \(try text(1)))" : "strpos(\(try text(0)), \(try text(1)))"
            return .value("(\(position) - 1)", .number)
        case .substring:
            // Clamped so a negative start or length means what it does in neither database's own
            // substr: nothing before the string, no characters.
            let (greatest, integer) = sqlite ? ("max", "INTEGER") : ("GREATEST", "integer")
            var sql = "substr(\(try text(0)), \(greatest)(CAST(\(try numeric(1)) AS \(integer)) + 1, 1)"
            if operands.count == 3 { sql += ", \(greatest)(CAST(\(try numeric(2)) AS \(integer)), 0)" }
            return .value(sql + ")", .string)
        case .tolower:
            return .value("lower(\(try text(0)))", .string)
        case .toupper:
            return .value("upper(\(try text(0)))", .string)
        case .trim:
            return .value("trim(\(try text(0)))", .string)
        case .concat:
            return .value("(\(try text(0)) || \(try text(1)))", .string)
        case .year, .month, .day, .hour, .minute, .second:
            return .value(datePart(function, try time(0)), .number)
        case .fractionalseconds:
            let fraction = "((((\(try time(0))) % 1000) + 1000) % 1000) / 1000.0"
            return .value(sqlite ? "(\(fraction))" : "CAST(\(fraction) AS double precision)", .number)
        case .date:
            let milliseconds = try time(0)
            return .value("(\(milliseconds) - (((\(milliseconds) % 86400000) + 86400000) % 86400000))", .dateTime)
        case .time:
            return .value("((((\(try time(0))) % 86400000) + 86400000) % 86400000)", .timeOfDay)
        case .totaloffsetminutes:
            // Times are kept in UTC; the offset a client wrote is not kept.
            return .value("CASE WHEN \(try time(0)) IS NULL THEN NULL ELSE 0 END", .number)
        case .now:
            return .value(bind(.integer(nowMilliseconds)), .dateTime)
        case .mindatetime:
            return .value(bind(.integer(Self.earliestMilliseconds)), .dateTime)
        case .maxdatetime:
            return .value(bind(.integer(Self.latestMilliseconds)), .dateTime)
        case .round:
            // SQLite rounds halves away from zero; PostgreSQL does so for numeric only (its
            // double precision round is to even).
            let value = try numeric(0)
            return .value(
                sqlite ? "round(\(value))" : "CAST(round(CAST(\(value) AS numeric)) AS double precision)", .number)
        case .floor:
            // SQLite's floor() is an optional extension; CAST truncates towards zero, one less for
            // negative non-integers.
            let value = try numeric(0)
            return .value(
                sqlite
                    ? "(CAST(\(value) AS INTEGER) - ((\(value)) < CAST(\(value) AS INTEGER)))"
                    : "floor(CAST(\(value) AS double precision))", .number)
        case .ceiling:
            let value = try numeric(0)
            return .value(
                sqlite
                    ? "(CAST(\(value) AS INTEGER) + ((\(value)) > CAST(\(value) AS INTEGER)))"
                    : "ceil(CAST(\(value) AS double precision))", .number)
        case .geoDistance:
            return try distance(operands, call)
        case .substringof, .startswith, .endswith, .geoIntersects, .stWithin, .stIntersects, .stContains,
            .stDisjoint, .stEquals:
            return .value("CASE WHEN \(try condition(of: call)) THEN 1 ELSE 0 END", .boolean)
        }
    }

    /// A function that is a condition.
    mutating func predicateFunction(
        _ function: FilterFunction, _ arguments: [FilterExpression], _ call: FilterExpression, _ scope: inout Scope
    ) throws(QueryError) -> String {
        if let relation = function.spatialRelation {
            return try spatialPredicate(relation, arguments, call, &scope)
        }
        var texts: [String] = []
        for argument in arguments { texts.append(try string(try operand(argument, &scope), argument)) }
        let sqlite = dialect == .sqlite
        switch function {
        case .substringof:
            // substringof(needle, haystack): the needle comes first.
            return sqlite ? "instr(\(texts[1]), \(texts[0])) > 0" : "strpos(\(texts[1]), \(texts[0])) > 0"
        case .startswith:
            return "substr(\(texts[0]), 1, length(\(texts[1]))) = \(texts[1])"
        case .endswith:
            return sqlite
                ? "(length(\(texts[0])) >= length(\(texts[1])) AND substr(\(texts[0]), length(\(texts[0])) - length(\(texts[1])) + 1) = \(texts[1]))"
                : "right(\(texts[0]), length(\(texts[1]))) = \(texts[1])"
        default:
            throw internalError(call, "'\(function.rawValue)' is not a condition")
        }
    }

    /// `year(t)` and the like, in UTC.
    private func datePart(_ function: FilterFunction, _ milliseconds: String) -> String {
        switch dialect {
        case .sqlite:
            let format =
                switch function {
                case .year: "%Y"
                case .month: "%m"
                case .day: "%d"
                case .hour: "%H"
                case .minute: "%M"
                default: "%S"
                }
            return "CAST(strftime('\(format)', (\(milliseconds)) / 1000.0, 'unixepoch') AS INTEGER)"
        case .postgres:
            let field = function == .second ? "SECOND" : function.rawValue.uppercased()
            let part = "EXTRACT(\(field) FROM to_timestamp((\(milliseconds)) / 1000.0) AT TIME ZONE 'UTC')"
            // EXTRACT(SECOND …) includes the fraction; second() is the whole seconds.
            return function == .second ? "CAST(floor(\(part)) AS integer)" : "CAST(\(part) AS integer)"
        }
    }
}
