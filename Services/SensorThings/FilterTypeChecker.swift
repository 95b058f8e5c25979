/// Checks the operand types of a parsed filter before any SQL is written, so a mistake SQL would
/// not catch clearly (`name add 1`, `length(3)`, a geo function on a name) is told to the client
/// with the token and its position.
///
/// JSON properties (`properties/depth`) and an observation's `result` take the type of what they
/// are compared with or used as: a number next to a number, a string next to a string.
struct FilterTypeChecker {
    enum ValueType: Equatable {
        case number, string, boolean, dateTime, timeOfDay, interval, geometry, null
        /// `geo.distance`: compared with a number or ordered by, nothing else (SQLite has no square
        /// root, so the SQL compares squared distances).
        case distance
        /// A value inside a JSON property, of whatever type its document has.
        case json
        /// An observation's result, stored split by kind.
        case result

        var phrase: String {
            switch self {
            case .number: "a number"
            case .string: "a string"
            case .boolean: "a boolean"
            case .dateTime: "a date-time"
            case .timeOfDay: "a time of day"
            case .interval: "a time interval"
            case .geometry: "a geometry"
            case .null: "null"
            case .distance: "a distance"
            case .json: "a JSON value"
            case .result: "a result"
            }
        }

        /// Whether a value of this type can stand where `expected` is needed.
        func fits(_ expected: ValueType) -> Bool {
            switch expected {
            case .number, .string, .boolean: self == expected || self == .json || self == .result
            case .dateTime: self == .dateTime || self == .interval
            default: self == expected
            }
        }
    }

    let type: EntityType
    let option: String

    /// Checks that `expression` is a condition, as a whole `$filter` must be.
    func checkCondition(_ expression: FilterExpression) throws(QueryError) {
        try requireCondition(expression, try valueType(of: expression))
    }

    /// Checks that `expression` can order entities.
    func checkOrderTerm(_ expression: FilterExpression) throws(QueryError) {
        let valueType = try valueType(of: expression)
        guard valueType != .geometry else {
            throw error(
                .typeMismatch, label(expression), expression, detail: "is a geometry",
                hint: "geometries cannot be ordered")
        }
    }

    func valueType(of expression: FilterExpression) throws(QueryError) -> ValueType {
        switch expression.kind {
        case .literal(let literal):
            return switch literal {
            case .null: .null
            case .boolean: .boolean
            case .integer, .decimal: .number
            case .string: .string
            case .dateTime: .dateTime
            case .timeOfDay: .timeOfDay
            case .interval: .interval
            case .geometry: .geometry
            }
        case .property(let path):
            guard let resolved = type.resolve(path) else {
                throw error(.unknownName, "unknown property \(QueryError.quoted(path.description))", expression)
            }
            return switch resolved.property.storage {
            case .id: .number
            case .text: .string
            case .json: .json
            case .time: .dateTime
            case .interval: .interval
            case .geometry: .geometry
            case .result: path.subpath.isEmpty ? .result : .json
            }
        case .not(let operand):
            try requireCondition(operand, try valueType(of: operand))
            return .boolean
        case .logical(_, let operands):
            for operand in operands { try requireCondition(operand, try valueType(of: operand)) }
            return .boolean
        case .comparison(let comparison, let left, let right):
            try checkComparable(comparison, try valueType(of: left), try valueType(of: right), expression)
            return .boolean
        case .arithmetic(let arithmetic, let left, let right):
            for operand in [left, right] {
                let operandType = try valueType(of: operand)
                try requireNotDistance(operand, operandType)
                guard operandType.fits(.number) else {
                    throw error(
                        .typeMismatch, "'\(arithmetic.rawValue)'", at: expression.position,
                        detail: "needs numbers, but \(label(operand)) is \(operandType.phrase)")
                }
            }
            return .number
        case .function(let function, let arguments):
            return try functionType(function, arguments, expression)
        }
    }

    private func functionType(
        _ function: FilterFunction, _ arguments: [FilterExpression], _ call: FilterExpression
    ) throws(QueryError) -> ValueType {
        func require(_ expected: ValueType...) throws(QueryError) {
            for (index, argument) in arguments.enumerated() {
                let wanted = expected[min(index, expected.count - 1)]
                let actual = try valueType(of: argument)
                try requireNotDistance(argument, actual)
                guard actual.fits(wanted) else {
                    throw error(
                        .typeMismatch, "'\(function.rawValue)'", at: call.position,
                        detail:
                            "needs \(wanted.phrase) as argument \(index + 1), but \(label(argument)) is \(actual.phrase)"
                    )
                }
            }
        }
        switch function {
        case .substringof, .startswith, .endswith:
            try require(.string)
            return .boolean
        case .length, .indexof:
            try require(.string)
            return .number
        case .substring:
            try require(.string, .number)
            return .string
        case .tolower, .toupper, .trim, .concat:
            try require(.string)
            return .string
        case .year, .month, .day, .hour, .minute, .second, .fractionalseconds, .totaloffsetminutes:
            try require(.dateTime)
            return .number
        case .date:
            try require(.dateTime)
            return .dateTime
        case .time:
            try require(.dateTime)
            return .timeOfDay
        case .now, .mindatetime, .maxdatetime:
            return .dateTime
        case .round, .floor, .ceiling:
            try require(.number)
            return .number
        case .geoIntersects, .geoDistance, .stWithin, .stIntersects, .stContains, .stDisjoint, .stEquals:
            try require(.geometry)
            let literals = arguments.compactMap { argument -> GeometryLiteral? in
                if case .literal(.geometry(let geometry)) = argument.kind { return geometry }
                return nil
            }
            guard literals.count == 1 else {
                throw error(
                    .notSupported, "'\(function.rawValue)'", at: call.position,
                    detail: "needs one geometry property and one geography'…' literal")
            }
            if function == .geoDistance {
                guard case .point = literals[0] else {
                    throw error(
                        .notSupported, "'geo.distance'", at: call.position,
                        detail: "measures only to a geography'POINT(x y)' literal")
                }
                return .distance
            }
            return .boolean
        }
    }

    private func checkComparable(
        _ comparison: FilterExpression.ComparisonOperator, _ left: ValueType, _ right: ValueType,
        _ expression: FilterExpression
    ) throws(QueryError) {
        let types = [left, right]
        let mismatch = error(
            .typeMismatch, "'\(comparison.rawValue)'", at: expression.position,
            detail: "compares \(left.phrase) with \(right.phrase)")
        if types.contains(.null) {
            guard !types.contains(.distance) else { throw mismatch }
            return
        }
        if types.contains(.geometry) {
            throw error(
                .typeMismatch, "'\(comparison.rawValue)'", at: expression.position,
                detail: "compares \(left.phrase) with \(right.phrase)",
                hint: "geometries are compared with geo.intersects, st_within and the like")
        }
        if types.contains(.distance) {
            let other = left == .distance ? right : left
            guard other.fits(.number), other != .distance else { throw mismatch }
            return
        }
        let adaptive = types.filter { $0 == .json || $0 == .result }
        if adaptive.count == 2 {
            guard adaptive.contains(.result) else { return }
            throw error(
                .notSupported, "'\(comparison.rawValue)'", at: expression.position,
                detail: "compares a result with a JSON value or a result", hint: "compare each with a literal")
        }
        if adaptive.count == 1 {
            let other = left == adaptive[0] ? right : left
            guard [.number, .string, .boolean].contains(other) else { throw mismatch }
            return
        }
        let temporal: [ValueType] = [.dateTime, .interval]
        if temporal.contains(left), temporal.contains(right) { return }
        guard left == right else { throw mismatch }
    }

    private func requireCondition(_ expression: FilterExpression, _ valueType: ValueType) throws(QueryError) {
        guard valueType.fits(.boolean) else {
            throw error(
                .typeMismatch, label(expression), expression, detail: "is \(valueType.phrase)",
                hint: "expected a condition")
        }
    }

    private func requireNotDistance(_ expression: FilterExpression, _ valueType: ValueType) throws(QueryError) {
        guard valueType != .distance else {
            throw error(
                .notSupported, "'geo.distance'", expression,
                hint: "a distance can only be compared with a number or ordered by")
        }
    }

    /// How a message names an expression: its token as written, as near as the tree can tell.
    private func label(_ expression: FilterExpression) -> String {
        switch expression.kind {
        case .literal(let literal):
            return switch literal {
            case .null: "null"
            case .boolean(let value): String(value)
            case .integer(let value): String(value)
            case .decimal(let value): String(value)
            case .string(let value): QueryError.quoted("'" + value + "'")
            case .dateTime: "the date-time literal"
            case .interval: "the interval literal"
            case .timeOfDay: "the time literal"
            case .geometry: "the geography literal"
            }
        case .property(let path): return QueryError.quoted(path.description)
        case .not: return "'not'"
        case .logical(let logical, _): return "'\(logical.rawValue)'"
        case .comparison(let comparison, _, _): return "'\(comparison.rawValue)'"
        case .arithmetic(let arithmetic, _, _): return "'\(arithmetic.rawValue)'"
        case .function(let function, _): return "'\(function.rawValue)(…)'"
        }
    }

    private func error(
        _ code: QueryError.Code, _ what: String, _ expression: FilterExpression, detail: String? = nil,
        hint: String? = nil
    ) -> QueryError {
        error(code, what, at: expression.position, detail: detail, hint: hint)
    }

    private func error(
        _ code: QueryError.Code, _ what: String, at position: Int, detail: String? = nil, hint: String? = nil
    ) -> QueryError {
        QueryError(code, option: option, what, position: position, detail: detail, hint: hint)
    }
}
