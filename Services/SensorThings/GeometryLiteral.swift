/// A geometry written in a filter as `geography'POINT(7.1 51.2)'`: well-known text (WKT) with x the
/// longitude and y the latitude, as in GeoJSON.
///
/// Points, line strings and polygons (with holes) are understood; other types are refused, and so
/// is a literal of more than ``maximumPoints`` points, which keeps the SQL a polygon expands into
/// bounded.
package enum GeometryLiteral: Sendable, Hashable {
    case point(Point)
    case lineString([Point])
    /// The outer boundary first, then any holes; every ring closed (its last point is its first).
    case polygon([[Point]])

    package struct Point: Sendable, Hashable {
        package var x: Double
        package var y: Double

        package init(x: Double, y: Double) {
            self.x = x
            self.y = y
        }
    }

    /// The most points one literal may have, counting every ring's closing point.
    package static let maximumPoints = 1000

    package var points: [Point] {
        switch self {
        case .point(let point): [point]
        case .lineString(let points): points
        case .polygon(let rings): rings.flatMap { $0 }
        }
    }

    /// The smallest rectangle holding every point.
    var boundingBox: (minX: Double, minY: Double, maxX: Double, maxY: Double) {
        let points = points
        var box = (minX: points[0].x, minY: points[0].y, maxX: points[0].x, maxY: points[0].y)
        for point in points.dropFirst() {
            box.minX = min(box.minX, point.x)
            box.minY = min(box.minY, point.y)
            box.maxX = max(box.maxX, point.x)
            box.maxY = max(box.maxY, point.y)
        }
        return box
    }

    /// Reads well-known text, optionally after `SRID=4326;`.
    init(wellKnownText text: String) throws(LiteralSyntaxError) {
        var reader = WKTReader(characters: Array(text))
        self = try reader.geometry()
    }
}

/// Reads the little of WKT a filter needs, one character at a time.
private struct WKTReader {
    let characters: [Character]
    var index = 0
    var pointCount = 0

    mutating func geometry() throws(LiteralSyntaxError) -> GeometryLiteral {
        skipSpaces()
        var keyword = word()
        if keyword.uppercased() == "SRID" {
            try expect("=")
            let srid = number()
            guard srid == "4326" else {
                throw LiteralSyntaxError("only SRID 4326 (WGS 84 longitude and latitude) is supported")
            }
            try expect(";")
            skipSpaces()
            keyword = word()
        }
        let geometry: GeometryLiteral
        switch keyword.uppercased() {
        case "POINT":
            try expect("(")
            geometry = .point(try point())
            try expect(")")
        case "LINESTRING":
            let points = try pointList()
            guard points.count >= 2 else { throw LiteralSyntaxError("a LINESTRING needs at least two points") }
            geometry = .lineString(points)
        case "POLYGON":
            try expect("(")
            var rings = [try ring()]
            while peek(",") {
                index += 1
                rings.append(try ring())
            }
            try expect(")")
            geometry = .polygon(rings)
        case "":
            throw LiteralSyntaxError("expected POINT, LINESTRING or POLYGON")
        default:
            throw LiteralSyntaxError("\(keyword) is not supported; use POINT, LINESTRING or POLYGON")
        }
        skipSpaces()
        guard index == characters.count else {
            throw LiteralSyntaxError("unexpected '\(characters[index])' after the geometry")
        }
        return geometry
    }

    private mutating func ring() throws(LiteralSyntaxError) -> [GeometryLiteral.Point] {
        let points = try pointList()
        guard points.count >= 4, points.first == points.last else {
            throw LiteralSyntaxError("a POLYGON ring needs at least four points and must end at its first point")
        }
        return points
    }

    private mutating func pointList() throws(LiteralSyntaxError) -> [GeometryLiteral.Point] {
        try expect("(")
        var points = [try point()]
        while peek(",") {
            index += 1
            points.append(try point())
        }
        try expect(")")
        return points
    }

    private mutating func point() throws(LiteralSyntaxError) -> GeometryLiteral.Point {
        pointCount += 1
        guard pointCount <= GeometryLiteral.maximumPoints else {
            throw LiteralSyntaxError("more than \(GeometryLiteral.maximumPoints) points")
        }
        let x = try coordinate()
        let y = try coordinate()
        return GeometryLiteral.Point(x: x, y: y)
    }

    private mutating func coordinate() throws(LiteralSyntaxError) -> Double {
        skipSpaces()
        let text = number()
        guard !text.isEmpty else {
            let found = index < characters.count ? "'\(characters[index])'" : "the end"
            throw LiteralSyntaxError("expected a coordinate, found \(found)")
        }
        // Far beyond any longitude or latitude, and small enough that differences and slopes stay
        // finite in the SQL.
        guard let value = Double(text), value.isFinite, abs(value) <= 1e9 else {
            throw LiteralSyntaxError("'\(text)' is not a coordinate")
        }
        return value
    }

    private mutating func number() -> String {
        let start = index
        while index < characters.count, "0123456789.eE+-".contains(characters[index]) { index += 1 }
        return String(characters[start..<index])
    }

    private mutating func word() -> String {
        let start = index
        while index < characters.count, characters[index].isASCII, characters[index].isLetter { index += 1 }
        return String(characters[start..<index])
    }

    private mutating func skipSpaces() {
        while index < characters.count, characters[index].isWhitespace { index += 1 }
    }

    private mutating func peek(_ character: Character) -> Bool {
        skipSpaces()
        return index < characters.count && characters[index] == character
    }

    private mutating func expect(_ character: Character) throws(LiteralSyntaxError) {
        guard peek(character) else {
            let found = index < characters.count ? "'\(characters[index])'" : "the end"
            throw LiteralSyntaxError("expected '\(character)', found \(found)")
        }
        index += 1
    }
}
