extension FilterSQL {
    /// A spatial predicate between a stored geometry and a `geography'…'` literal, in plain SQL
    /// arithmetic on the stored bounding box (`<prefix>_min_x`, `_min_y`, `_max_x`, `_max_y`, x the
    /// longitude and y the latitude), so it needs neither SpatiaLite nor PostGIS:
    ///
    /// - A stored point (its box has no extent) is tested exactly: against a literal point by
    ///   equality, against a literal polygon by ray casting (point-in-polygon, holes included), the
    ///   polygon's edges expanded into the SQL.
    /// - A stored line or polygon is approximated by its bounding box: it intersects, is within,
    ///   contains or equals the literal when its box does with the literal's box. So a line passing
    ///   near a polygon may count as intersecting it.
    /// - Against a literal line string, every stored geometry is compared by bounding box.
    ///
    /// Coordinates are planar: no wrapping at the antimeridian.
    mutating func spatialPredicate(
        _ relation: FilterFunction.SpatialRelation, _ arguments: [FilterExpression], _ call: FilterExpression,
        _ scope: inout Scope
    ) throws(QueryError) -> String {
        let (source, prefix, literal, swapped) = try storedAndLiteral(arguments, call, &scope)
        let relation = swapped ? relation.swapped : relation
        let alias = source.alias
        let minX = "\(alias).\(prefix)_min_x"
        let minY = "\(alias).\(prefix)_min_y"
        let maxX = "\(alias).\(prefix)_max_x"
        let maxY = "\(alias).\(prefix)_max_y"
        let sql: String
        if case .point(let point) = literal {
            let x = bind(.real(point.x))
            let y = bind(.real(point.y))
            // For a stored point, covering the literal point is equality.
            let covers = "(\(minX) <= \(x) AND \(maxX) >= \(x) AND \(minY) <= \(y) AND \(maxY) >= \(y))"
            let equals = "(\(minX) = \(x) AND \(maxX) = \(x) AND \(minY) = \(y) AND \(maxY) = \(y))"
            sql =
                switch relation {
                case .intersects, .contains: covers
                case .within, .equals: equals
                case .disjoint: "NOT \(covers)"
                }
        } else {
            let box = literal.boundingBox
            let boxMinX = bind(.real(box.minX))
            let boxMinY = bind(.real(box.minY))
            let boxMaxX = bind(.real(box.maxX))
            let boxMaxY = bind(.real(box.maxY))
            let boxIntersects =
                "(\(minX) <= \(boxMaxX) AND \(maxX) >= \(boxMinX) AND \(minY) <= \(boxMaxY) AND \(maxY) >= \(boxMinY))"
            let boxWithin =
                "(\(minX) >= \(boxMinX) AND \(maxX) <= \(boxMaxX) AND \(minY) >= \(boxMinY) AND \(maxY) <= \(boxMaxY))"
            let boxContains =
                "(\(minX) <= \(boxMinX) AND \(maxX) >= \(boxMaxX) AND \(minY) <= \(boxMinY) AND \(maxY) >= \(boxMaxY))"
            let boxEquals =
                "(\(minX) = \(boxMinX) AND \(maxX) = \(boxMaxX) AND \(minY) = \(boxMinY) AND \(maxY) = \(boxMaxY))"
            if case .polygon(let rings) = literal {
                let isPoint = "(\(minX) = \(maxX) AND \(minY) = \(maxY))"
                switch relation {
                // A point contains and equals no polygon. Checked first: the ray casting binds the
                // vertices, and PostgreSQL refuses parameters a statement does not use.
                case .contains: sql = "(NOT \(isPoint) AND \(boxContains))"
                case .equals: sql = "(NOT \(isPoint) AND \(boxEquals))"
                case .intersects, .within, .disjoint:
                    let inside = insidePolygon(
                        x: minX, y: minY, rings: rings, box: (boxMinX, boxMinY, boxMaxX, boxMaxY))
                    let boxTest = relation == .within ? boxWithin : boxIntersects
                    let test = "((\(isPoint) AND \(inside)) OR (NOT \(isPoint) AND \(boxTest)))"
                    sql = relation == .disjoint ? "NOT \(test)" : test
                }
            } else {
                sql =
                    switch relation {
                    case .intersects: boxIntersects
                    case .within: boxWithin
                    case .contains: boxContains
                    case .equals: boxEquals
                    case .disjoint: "NOT \(boxIntersects)"
                    }
            }
        }
        return source.read(sql)
    }

    /// The square of `geo.distance` between a stored geometry and a literal point: planar, in
    /// degrees, from the centre of the stored bounding box (the point itself for a point). Squared
    /// because SQLite has no square root without its optional math functions; comparisons and
    /// ordering square the other side or need nothing more.
    mutating func distance(_ operands: [Operand], _ call: FilterExpression) throws(QueryError) -> Operand {
        var stored: (source: ColumnSource, prefix: String)?
        var point: GeometryLiteral.Point?
        for operand in operands {
            switch operand {
            case .geometry(.stored(let source, let prefix)): stored = (source, prefix)
            case .geometry(.literal(.point(let literal))): point = literal
            default: break
            }
        }
        guard let stored, let point else {
            throw internalError(call, "'geo.distance' needs a geometry property and a geography'POINT(x y)' literal")
        }
        let (source, prefix) = stored
        let alias = source.alias
        let x = bind(.real(point.x))
        let y = bind(.real(point.y))
        let centreX = "((\(alias).\(prefix)_min_x + \(alias).\(prefix)_max_x) / 2.0)"
        let centreY = "((\(alias).\(prefix)_min_y + \(alias).\(prefix)_max_y) / 2.0)"
        return .distance(
            source.read("((\(centreX) - \(x)) * (\(centreX) - \(x)) + (\(centreY) - \(y)) * (\(centreY) - \(y)))"))
    }

    /// The stored geometry and the literal of a spatial predicate, and whether the literal came
    /// first (so the relation reads the other way round).
    private mutating func storedAndLiteral(
        _ arguments: [FilterExpression], _ call: FilterExpression, _ scope: inout Scope
    ) throws(QueryError) -> (ColumnSource, String, GeometryLiteral, Bool) {
        var stored: (source: ColumnSource, prefix: String)?
        var literal: GeometryLiteral?
        var literalFirst = false
        for (index, argument) in arguments.enumerated() {
            switch try operand(argument, &scope) {
            case .geometry(.stored(let source, let prefix)): stored = (source, prefix)
            case .geometry(.literal(let geometry)):
                literal = geometry
                literalFirst = index == 0
            default: break
            }
        }
        guard let stored, let literal else {
            throw internalError(call, "a spatial function needs a geometry property and a geography'…' literal")
        }
        return (stored.source, stored.prefix, literal, literalFirst)
    }

    /// Whether the point (`x`, `y`) lies inside the polygon: inside its bounding box, and a ray from
    /// it towards +x crosses the rings' edges an odd number of times. An edge from its lower end
    /// (x1, y1) to its upper end (x2, y2) is crossed when y1 <= y < y2 and x < x1 + k (y - y1), its
    /// slope k = (x2 - x1) / (y2 - y1) computed here and bound like the coordinates, which keeps
    /// SQLite's work preparing the statement down (it grows faster than the polygon). Horizontal
    /// edges are never crossed and are left out; a coordinate is bound once however many edges use it,
    /// and only if used (PostgreSQL refuses a parameter the statement does not use).
    private mutating func insidePolygon(
        x: String, y: String, rings: [[GeometryLiteral.Point]],
        box: (minX: String, minY: String, maxX: String, maxY: String)
    ) -> String {
        var crossings: [String] = []
        for ring in rings {
            let vertices = Array(ring.dropLast())
            var bound: [Int: String] = [:]
            // Coordinate `axis` (0 for x, 1 for y) of a vertex, bound on first use.
            func placeholder(_ index: Int, _ axis: Int) -> String {
                if let placeholder = bound[index * 2 + axis] { return placeholder }
                let placeholder = bind(.real(axis == 0 ? vertices[index].x : vertices[index].y))
                bound[index * 2 + axis] = placeholder
                return placeholder
            }
            for index in vertices.indices {
                let next = (index + 1) % vertices.count
                let (lower, upper) = vertices[index].y < vertices[next].y ? (index, next) : (next, index)
                let slope = (vertices[upper].x - vertices[lower].x) / (vertices[upper].y - vertices[lower].y)
                // Horizontal edges give no slope; a nearly horizontal one an infinite slope, which
                // PostgreSQL's arithmetic would refuse: its band of y is too thin to matter.
                guard vertices[lower].y != vertices[upper].y, slope.isFinite else { continue }
                let (x1, y1, y2) = (placeholder(lower, 0), placeholder(lower, 1), placeholder(upper, 1))
                let crossed = "\(y) >= \(y1) AND \(y) < \(y2) AND \(x) < \(bind(.real(slope))) * (\(y) - \(y1)) + \(x1)"
                // A condition is 0 or 1 in SQLite already; PostgreSQL casts its boolean.
                crossings.append(dialect == .sqlite ? "(\(crossed))" : "CAST((\(crossed)) AS integer)")
            }
        }
        guard !crossings.isEmpty else { return "1 = 0" }
        return "(\(x) >= \(box.minX) AND \(x) <= \(box.maxX) AND \(y) >= \(box.minY) AND \(y) <= \(box.maxY)"
            + " AND (\(Self.balanced(crossings[...], " + "))) % 2 = 1)"
    }
}
