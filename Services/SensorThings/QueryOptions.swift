/// The query options of a SensorThings 1.1 request (OGC 18-088 section 9.3): which entities
/// (`$filter`), in which order (`$orderby`), which page (`$top`, `$skip`), whether to count them
/// (`$count`), which properties (`$select`), which related entities to include (`$expand`) and how
/// to write observations (`$resultFormat`).
///
/// ```swift
/// let options = try QueryOptions(
///     parameters: [("$filter", "result gt 3"), ("$orderby", "phenomenonTime desc"), ("$top", "10")],
///     for: EntityModel.observation)
/// var sql = FilterSQL(for: EntityModel.observation, dialect: .sqlite, nowMilliseconds: now)
/// let condition = try sql.condition(options.filter)
/// let order = try sql.orderBy(options.orderBy)
/// // SELECT … FROM observations e0 WHERE \(condition) ORDER BY \(order) LIMIT … with sql.parameters
/// ```
package struct QueryOptions: Sendable, Hashable {
    /// One `$orderby` term: any expression a filter may use as a value, ascending unless `desc`.
    package struct OrderTerm: Sendable, Hashable {
        package var expression: FilterExpression
        package var descending: Bool

        package init(expression: FilterExpression, descending: Bool = false) {
            self.expression = expression
            self.descending = descending
        }
    }

    /// A navigation property to include in each entity, with the options for the entities it leads
    /// to: `Datastreams($top=2;$expand=Observations)`. `Datastreams/Observations` is the same as
    /// `Datastreams($expand=Observations)`.
    package struct Expansion: Sendable, Hashable {
        /// The navigation property's name, as the model spells it (`Datastreams`).
        package var navigation: String
        /// Options for the target type (``Navigation/target``); never a `resultFormat`.
        package var options: QueryOptions

        package init(navigation: String, options: QueryOptions = QueryOptions()) {
            self.navigation = navigation
            self.options = options
        }
    }

    package enum ResultFormat: Sendable, Hashable {
        /// Entities as JSON objects.
        case standard
        /// `$resultFormat=dataArray`: observations grouped by datastream as rows of values
        /// (section 14.3), only for Observations.
        case dataArray
    }

    package var filter: FilterExpression?
    package var orderBy: [OrderTerm]
    /// At most this many entities; nil when the request leaves it to the server.
    package var top: Int?
    package var skip: Int
    /// Whether to include `@iot.count`, the number of entities the filter selects.
    package var count: Bool
    /// Names of the properties and navigation properties to write (`@iot.id` for `id`); nil for
    /// all of them.
    package var select: [String]?
    package var expand: [Expansion]
    package var resultFormat: ResultFormat

    /// Options that select every entity in the default order.
    package init(
        filter: FilterExpression? = nil, orderBy: [OrderTerm] = [], top: Int? = nil, skip: Int = 0, count: Bool = false,
        select: [String]? = nil, expand: [Expansion] = [], resultFormat: ResultFormat = .standard
    ) {
        self.filter = filter
        self.orderBy = orderBy
        self.top = top
        self.skip = skip
        self.count = count
        self.select = select
        self.expand = expand
        self.resultFormat = resultFormat
    }

    /// Options from a request's query parameters (already percent-decoded), for entities of `type`.
    /// Parameters not starting with `$` are left to the caller; an unknown `$` option, one given
    /// twice, or a value that does not parse is an error that says what and where.
    package init(parameters: [(String, String)], for type: EntityType) throws(QueryError) {
        self.init()
        var given: Set<String> = []
        for (name, value) in parameters where name.hasPrefix("$") {
            guard given.insert(name).inserted else {
                throw QueryError(.syntax, option: name, "given twice", position: nil)
            }
            guard value.utf8.count <= FilterParser.maximumTextLength else {
                throw QueryError(
                    .limitExceeded, option: name, "the value is \(value.utf8.count) bytes long", position: nil,
                    hint: "at most \(FilterParser.maximumTextLength) are allowed")
            }
            let reader = QueryOptionsParser(type: type, expansionDepth: 0)
            try reader.apply(name, OptionText(option: name, text: value), to: &self, nested: false)
        }
    }
}
