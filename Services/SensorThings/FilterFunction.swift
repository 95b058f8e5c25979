/// The built-in functions of `$filter` this server evaluates (OGC 18-088 section 9.3.3.5.2), by the
/// name a request calls them.
package enum FilterFunction: String, Sendable, Hashable, CaseIterable {
    // Strings; positions are 0-based as in OData.
    case substringof, endswith, startswith, length, indexof, substring, tolower, toupper, trim, concat
    // Date and time.
    case year, month, day, hour, minute, second, fractionalseconds, date, time, totaloffsetminutes
    case now, mindatetime, maxdatetime
    // Mathematics.
    case round, floor, ceiling
    // Geospatial.
    case geoIntersects = "geo.intersects"
    case geoDistance = "geo.distance"
    case stWithin = "st_within"
    case stIntersects = "st_intersects"
    case stContains = "st_contains"
    case stDisjoint = "st_disjoint"
    case stEquals = "st_equals"

    /// Functions of the specification this server knows by name but does not evaluate, so a request
    /// using one is told so rather than that the function does not exist.
    static let unsupportedNames: Set<String> = [
        "geo.length", "st_touches", "st_overlaps", "st_crosses", "st_relate", "cast", "isof", "any", "all",
    ]

    /// How many arguments a call takes.
    var arity: ClosedRange<Int> {
        switch self {
        case .now, .mindatetime, .maxdatetime: 0...0
        case .length, .tolower, .toupper, .trim, .year, .month, .day, .hour, .minute, .second,
            .fractionalseconds, .date, .time, .totaloffsetminutes, .round, .floor, .ceiling:
            1...1
        case .substring: 2...3
        case .substringof, .endswith, .startswith, .indexof, .concat, .geoIntersects, .geoDistance, .stWithin,
            .stIntersects, .stContains, .stDisjoint, .stEquals:
            2...2
        }
    }

    /// The spatial relation a geospatial predicate tests, its first argument against its second.
    var spatialRelation: SpatialRelation? {
        switch self {
        case .geoIntersects, .stIntersects: .intersects
        case .stWithin: .within
        case .stContains: .contains
        case .stDisjoint: .disjoint
        case .stEquals: .equals
        default: nil
        }
    }

    /// Whether a call is a condition (true or false) rather than a value.
    var isPredicate: Bool {
        switch self {
        case .substringof, .startswith, .endswith: true
        default: spatialRelation != nil
        }
    }

    enum SpatialRelation: Sendable, Hashable {
        case intersects, within, contains, disjoint, equals

        /// The relation with its arguments swapped: `a within b` ⇔ `b contains a`.
        var swapped: SpatialRelation {
            switch self {
            case .within: .contains
            case .contains: .within
            case .intersects, .disjoint, .equals: self
            }
        }
    }
}
