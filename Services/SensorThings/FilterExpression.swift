/// A parsed `$filter` (or one `$orderby` term): the syntax tree of the SensorThings 1.1 query
/// language (OGC 18-088 section 9.3.3.5), with its property paths already checked against the
/// entity model and its operand types already checked.
///
/// ``FilterParser`` makes one; ``FilterSQL`` turns it into SQL.
package struct FilterExpression: Sendable, Hashable {
    package indirect enum Kind: Sendable, Hashable {
        case literal(Literal)
        case property(PropertyPath)
        case not(FilterExpression)
        /// `a and b and c`: chains of one operator are kept flat, so a long list of alternatives
        /// (`id eq 1 or id eq 2 or …`) does not make a deep tree.
        case logical(LogicalOperator, [FilterExpression])
        case comparison(ComparisonOperator, FilterExpression, FilterExpression)
        case arithmetic(ArithmeticOperator, FilterExpression, FilterExpression)
        case function(FilterFunction, [FilterExpression])
    }

    package enum Literal: Sendable, Hashable {
        case null
        case boolean(Bool)
        case integer(Int64)
        /// A finite double.
        case decimal(Double)
        case string(String)
        /// An instant, as milliseconds since 1970 (UTC); a date alone is its midnight UTC.
        case dateTime(Int64)
        /// A time of day (`13:45:00`), as milliseconds since midnight.
        case timeOfDay(Int64)
        /// `start/end`, in milliseconds since 1970 (UTC), start not after end.
        case interval(start: Int64, end: Int64)
        case geometry(GeometryLiteral)
    }

    package enum LogicalOperator: String, Sendable, Hashable {
        case and, or
    }

    package enum ComparisonOperator: String, Sendable, Hashable {
        case eq, ne, gt, ge, lt, le

        /// The operator that gives the same result with the operands swapped (`a lt b` ⇔ `b gt a`).
        var swapped: ComparisonOperator {
            switch self {
            case .eq, .ne: self
            case .gt: .lt
            case .ge: .le
            case .lt: .gt
            case .le: .ge
            }
        }
    }

    package enum ArithmeticOperator: String, Sendable, Hashable {
        case add, sub, mul, div, mod
    }

    /// A property of the filtered entity or of one reached through navigation properties:
    /// `name`, `properties/depth/value`, `Datastream/Thing/name`.
    package struct PropertyPath: Sendable, Hashable, CustomStringConvertible {
        /// Navigation properties followed from the filtered entity, in order (`Datastream`, `Thing`).
        package var navigations: [String]
        /// The property's name in the model (`id` is spelled `@iot.id` here).
        package var property: String
        /// Names inside a JSON property (`depth`, `value` of `properties/depth/value`).
        package var subpath: [String]

        package init(navigations: [String] = [], property: String, subpath: [String] = []) {
            self.navigations = navigations
            self.property = property
            self.subpath = subpath
        }

        package var description: String { (navigations + [property] + subpath).joined(separator: "/") }
    }

    package var kind: Kind
    /// Where the expression's token starts in the option's text (1-based): the operator of a
    /// binary expression, the name of a function or property, the first character of a literal.
    package var position: Int

    package init(_ kind: Kind, position: Int) {
        self.kind = kind
        self.position = position
    }
}
