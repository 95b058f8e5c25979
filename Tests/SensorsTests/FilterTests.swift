import Database
import Foundation
import SensorThings
import TestSupport
import Testing

/// A small SensorThings store in a fresh SQLite file, and the ids a query selects from it: the
/// filters and orderings are parsed, compiled and run exactly as the service runs them.
///
/// Three things (Aachen, Rur, Köln), four locations (three points and an area around Aachen),
/// three datastreams, seven observations: numbers, a string, a boolean and a null result; instants
/// and one interval; one at the last second of 2025.
struct FilterFixture {
    /// 2026-01-01T00:00:00Z.
    static let start: Int64 = 1_767_225_600_000
    static let hour: Int64 = 3_600_000
    /// What `now()` is in every test.
    static let now = start + 240 * hour

    /// An L-shaped polygon around Aachen: its bounding box holds the Rur bridge, the polygon does not.
    static let lShape =
        "geography'POLYGON((6.0 50.7, 6.5 50.7, 6.5 50.8, 6.1 50.8, 6.1 51.0, 6.0 51.0, 6.0 50.7))'"

    let connection: SQLiteConnection

    static func make() throws -> FilterFixture {
        let folder = try Fixtures.temporaryFolder("sensorthings-filter")
        let connection = try SQLiteConnection(path: folder.appendingPathComponent("sta.sqlite").path, create: true)
        try connection.executeScript(schema + rows)
        return FilterFixture(connection: connection)
    }

    /// The ids of the entities of `type` the query parameters select, in the order they ask for.
    func ids(_ type: EntityType, _ parameters: [(String, String)]) throws -> [Int] {
        let options = try QueryOptions(parameters: parameters, for: type)
        var sql = FilterSQL(for: type, dialect: .sqlite, nowMilliseconds: Self.now)
        let condition = try sql.condition(options.filter)
        let order = try sql.orderBy(options.orderBy)
        return try connection.execute(
            "SELECT e0.id FROM \(type.table) e0 WHERE \(condition) ORDER BY \(order)", sql.parameters
        ).map { $0.integer(0) }
    }

    func ids(_ type: EntityType, filter: String) throws -> [Int] {
        try ids(type, [("$filter", filter)])
    }

    static let schema = """
        CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT, description TEXT, properties TEXT);
        CREATE TABLE locations (
            id INTEGER PRIMARY KEY, name TEXT, description TEXT, encoding_type TEXT, location TEXT, properties TEXT,
            location_min_x REAL, location_min_y REAL, location_max_x REAL, location_max_y REAL);
        CREATE TABLE things_locations (thing_id INTEGER, location_id INTEGER);
        CREATE TABLE sensors (
            id INTEGER PRIMARY KEY, name TEXT, description TEXT, encoding_type TEXT, metadata TEXT, properties TEXT);
        CREATE TABLE observed_properties (
            id INTEGER PRIMARY KEY, name TEXT, definition TEXT, description TEXT, properties TEXT);
        CREATE TABLE datastreams (
            id INTEGER PRIMARY KEY, name TEXT, description TEXT, unit_of_measurement TEXT, observation_type TEXT,
            observed_area TEXT, observed_area_min_x REAL, observed_area_min_y REAL, observed_area_max_x REAL,
            observed_area_max_y REAL, phenomenon_time_start INTEGER, phenomenon_time_end INTEGER,
            result_time_start INTEGER, result_time_end INTEGER, properties TEXT,
            thing_id INTEGER, sensor_id INTEGER, observed_property_id INTEGER);
        CREATE TABLE features (
            id INTEGER PRIMARY KEY, name TEXT, description TEXT, encoding_type TEXT, feature TEXT, properties TEXT,
            feature_min_x REAL, feature_min_y REAL, feature_max_x REAL, feature_max_y REAL);
        CREATE TABLE observations (
            id INTEGER PRIMARY KEY, phenomenon_time_start INTEGER, phenomenon_time_end INTEGER, result_time INTEGER,
            result_type TEXT, result_number REAL, result_string TEXT, result_boolean INTEGER, result_json TEXT,
            result_quality TEXT, valid_time_start INTEGER, valid_time_end INTEGER, parameters TEXT,
            datastream_id INTEGER, feature_id INTEGER);

        """

    static let rows = """
        INSERT INTO things VALUES
            (1, 'Weather station Aachen', 'roof',
             '{"owner": "city", "floors": 3, "active": true, "depth": {"value": 2.5}}'),
            (2, 'River gauge Rur', 'bridge',
             '{"owner": "water board", "floors": 1, "active": false, "depth": {"value": 7}}'),
            (3, 'Air sensor Köln', 'Kate''s window', '{"owner": "city"}');
        INSERT INTO locations VALUES
            (1, 'Aachen Dom', '', 'application/geo+json', '', NULL, 6.0839, 50.7753, 6.0839, 50.7753),
            (2, 'Rur bridge', '', 'application/geo+json', '', NULL, 6.35, 50.9, 6.35, 50.9),
            (3, 'Köln', '', 'application/geo+json', '', NULL, 6.9583, 50.9413, 6.9583, 50.9413),
            (4, 'Aachen area', '', 'application/geo+json', '', NULL, 5.9, 50.7, 6.2, 50.85);
        INSERT INTO things_locations VALUES (1, 1), (1, 4), (2, 2), (3, 3);
        INSERT INTO sensors VALUES (1, 'DHT22', '', '', '{}', NULL), (2, 'Pegel', '', '', '{}', NULL);
        INSERT INTO observed_properties VALUES (1, 'Temperature', '', '', NULL), (2, 'Water level', '', '', NULL);
        INSERT INTO datastreams (
            id, name, description, unit_of_measurement, observation_type, phenomenon_time_start,
            phenomenon_time_end, properties, thing_id, sensor_id, observed_property_id) VALUES
            (1, 'Air temperature', '', '{"name": "degree Celsius", "symbol": "°C"}', 'OM_Measurement',
             \(start), \(start + 48 * hour), '{"interval": 60}', 1, 1, 1),
            (2, 'Water level', '', '{"symbol": "cm"}', 'OM_Observation', NULL, NULL, NULL, 2, 2, 2),
            (3, 'Humidity', '', '{"symbol": "%"}', 'OM_Measurement', \(start + 48 * hour), NULL, NULL, 1, 1, 1);
        INSERT INTO features VALUES
            (1, 'Aachen', '', '', '', NULL, 6.0839, 50.7753, 6.0839, 50.7753),
            (2, 'Köln', '', '', '', NULL, 6.9583, 50.9413, 6.9583, 50.9413);
        INSERT INTO observations (
            id, phenomenon_time_start, phenomenon_time_end, result_time, result_type, result_number, result_string,
            result_boolean, result_json, parameters, datastream_id, feature_id) VALUES
            (1, \(start + hour), NULL, \(start + hour), 'number', 3.5, NULL, NULL, '3.5',
             '{"quality": "good", "depth": {"value": 1}}', 1, 1),
            (2, \(start + 2 * hour), NULL, \(start + 2 * hour), 'number', 5, NULL, NULL, '5', '{"quality": "bad"}', 1, 1),
            (3, \(start + 3 * hour), \(start + 5 * hour), \(start + 5 * hour), 'number', 7.25, NULL, NULL, '7.25',
             NULL, 1, 1),
            (4, \(start + 24 * hour), NULL, NULL, 'string', NULL, 'high', NULL, '"high"', NULL, 2, 1),
            (5, \(start + 25 * hour), NULL, NULL, 'boolean', NULL, NULL, 1, 'true', NULL, 2, 1),
            (6, \(start + 48 * hour), NULL, NULL, 'null', NULL, NULL, NULL, 'null', NULL, 3, 1),
            (7, \(start - 1750), NULL, NULL, 'number', -2, NULL, NULL, '-2', NULL, 3, 2);
        """
}

/// A filter or ordering and the ids it must select, for parameterized tests.
struct FilterCase: Sendable, CustomTestStringConvertible {
    var type: EntityType
    var parameters: [(String, String)]
    var expected: [Int]

    var testDescription: String {
        "\(type.setName)?" + parameters.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static func filter(_ type: EntityType, _ filter: String, _ expected: [Int]) -> FilterCase {
        FilterCase(type: type, parameters: [("$filter", filter)], expected: expected)
    }
}

@Suite struct FilterTests {
    static let things = EntityModel.thing
    static let observations = EntityModel.observation

    static func check(_ scenario: FilterCase) throws {
        let fixture = try FilterFixture.make()
        #expect(try fixture.ids(scenario.type, scenario.parameters) == scenario.expected)
    }

    // MARK: Comparison, logic and arithmetic

    static let comparisons: [FilterCase] = [
        .filter(observations, "result gt 3", [1, 2, 3]),
        .filter(observations, "result ge 5 and result lt 7.25", [2]),
        .filter(observations, "result eq 'high'", [4]),
        .filter(observations, "result eq true", [5]),
        .filter(observations, "result eq null", [6]),
        .filter(observations, "result ne null and result lt 4", [1, 7]),
        .filter(observations, "result lt 0 or result eq 'high'", [4, 7]),
        // SQL's three-valued logic, as FROST-Server: observations without a number are neither.
        .filter(observations, "not (result gt 3)", [7]),
        .filter(observations, "not result gt 3", [7]),
        .filter(observations, "result gt 3 and result lt 5 or result eq 'high'", [1, 4]),
        .filter(observations, "result gt 3 and (result lt 5 or result eq 'high')", [1]),
        .filter(observations, "id eq 3", [3]),
        .filter(observations, "@iot.id ge 6", [6, 7]),
        .filter(observations, "-2 eq result", [7]),
        .filter(observations, "true", [1, 2, 3, 4, 5, 6, 7]),
        .filter(observations, "false or id le 1", [1]),
        .filter(things, "name eq 'Air sensor Köln'", [3]),
        .filter(things, "description eq 'Kate''s window'", [3]),
        .filter(things, "name gt 'S'", [1]),
        // A literal never becomes SQL text, so quotes in it are only data.
        .filter(things, "name eq 'x'' OR 1=1 --'", []),
        .filter(things, "(startswith(name, 'River') eq true) and not (endswith(name, 'x') eq true)", [2]),
    ]

    @Test(arguments: comparisons)
    func comparisonFilter_whenRunOnSQLite_selectsTheMatchingEntities(_ scenario: FilterCase) throws {
        try Self.check(scenario)
    }

    static let arithmetic: [FilterCase] = [
        .filter(observations, "result add 1 gt 6", [3]),
        .filter(observations, "result mul 2 eq 7", [1]),
        .filter(observations, "result div 2 eq 2.5", [2]),
        .filter(observations, "result sub 10 lt -10", [7]),
        .filter(observations, "result mod 2 eq 1", [2]),
        .filter(observations, "result mod 2 eq 1.5", [1]),
        // Division is in floating point, also of integers.
        .filter(observations, "id div 2 eq 1.5", [3]),
        .filter(observations, "id mod 3 eq 1", [1, 4, 7]),
        .filter(observations, "id add 2 mul 3 eq 9", [3]),
        .filter(observations, "(id add 2) mul 3 eq 9", [1]),
        .filter(observations, "id div 0 eq 1", []),
        .filter(observations, "round(result) eq 4", [1]),
        .filter(observations, "round(result) eq -2", [7]),
        .filter(observations, "floor(result) eq 7", [3]),
        .filter(observations, "floor(result sub 0.5) eq -3", [7]),
        .filter(observations, "ceiling(result) eq 4", [1]),
        .filter(observations, "ceiling(result) eq -2", [7]),
    ]

    @Test(arguments: arithmetic)
    func arithmeticFilter_whenRunOnSQLite_computesLikeTheSpecification(_ scenario: FilterCase) throws {
        try Self.check(scenario)
    }

    // MARK: Strings

    static let strings: [FilterCase] = [
        .filter(things, "startswith(name, 'River')", [2]),
        .filter(things, "startswith(name, '')", [1, 2, 3]),
        .filter(things, "endswith(name, 'Rur')", [2]),
        .filter(things, "endswith(name, 'a very long suffix indeed, longer than any name')", []),
        .filter(things, "substringof('station', name)", [1]),
        .filter(things, "indexof(name, 'gauge') eq 6", [2]),
        .filter(things, "indexof(name, 'nowhere') eq -1", [1, 2, 3]),
        .filter(things, "length(description) eq 4", [1]),
        .filter(things, "substring(name, 6, 5) eq 'gauge'", [2]),
        .filter(things, "substring(name, 8) eq 'station Aachen'", [1]),
        .filter(things, "tolower(name) eq 'river gauge rur'", [2]),
        .filter(things, "toupper(description) eq 'ROOF'", [1]),
        .filter(things, "trim(concat(' ', description)) eq 'roof'", [1]),
        .filter(things, "concat(name, description) eq 'River gauge Rurbridge'", [2]),
    ]

    @Test(arguments: strings)
    func stringFunction_whenRunOnSQLite_countsPositionsFromZero(_ scenario: FilterCase) throws {
        try Self.check(scenario)
    }

    // MARK: Times and intervals

    static let times: [FilterCase] = [
        .filter(observations, "year(phenomenonTime) eq 2025", [7]),
        .filter(observations, "month(phenomenonTime) eq 1 and day(phenomenonTime) eq 2", [4, 5]),
        .filter(
            observations,
            "hour(phenomenonTime) eq 23 and minute(phenomenonTime) eq 59 and second(phenomenonTime) eq 58",
            [7]),
        .filter(observations, "fractionalseconds(phenomenonTime) eq 0.25", [7]),
        .filter(observations, "date(phenomenonTime) eq 2026-01-02", [4, 5]),
        .filter(observations, "time(phenomenonTime) eq 01:00:00", [1, 5]),
        .filter(observations, "time(phenomenonTime) lt 02:00", [1, 4, 5, 6]),
        .filter(observations, "resultTime eq 2026-01-01T01:00:00Z", [1]),
        .filter(observations, "resultTime eq 2026-01-01T02:00:00+01:00", [1]),
        .filter(observations, "resultTime ge 2026-01-01T01:30:00.000-00:30", [2, 3]),
        .filter(observations, "phenomenonTime lt now()", [1, 2, 3, 4, 5, 6, 7]),
        .filter(observations, "phenomenonTime gt now()", []),
        .filter(
            observations, "phenomenonTime ge mindatetime() and phenomenonTime le maxdatetime()", [1, 2, 3, 4, 5, 6, 7]),
        .filter(observations, "totaloffsetminutes(phenomenonTime) eq 0", [1, 2, 3, 4, 5, 6, 7]),
        // Observation 3's phenomenon time is the interval 03:00 to 05:00.
        .filter(observations, "phenomenonTime gt 2026-01-01T03:30:00Z", [4, 5, 6]),
        .filter(observations, "phenomenonTime ge 2026-01-01T03:00:00Z", [3, 4, 5, 6]),
        .filter(observations, "phenomenonTime lt 2026-01-01T04:00:00Z", [1, 2, 7]),
        .filter(observations, "phenomenonTime le 2026-01-01T05:00:00Z", [1, 2, 3, 7]),
        .filter(observations, "phenomenonTime eq 2026-01-01T03:00:00Z/2026-01-01T05:00:00Z", [3]),
        .filter(observations, "phenomenonTime ne 2026-01-01T03:00:00Z/2026-01-01T05:00:00Z and id le 4", [1, 2, 4]),
        .filter(observations, "phenomenonTime eq 2026-01-01T01:00:00Z", [1]),
        .filter(observations, "phenomenonTime gt 2026-01-01T00:00:00Z/2026-01-01T02:30:00Z", [3, 4, 5, 6]),
        .filter(observations, "2026-01-01T04:00:00Z gt phenomenonTime", [1, 2, 7]),
        // Observation 3's result time is the end of its phenomenon time: after it, not before.
        .filter(observations, "resultTime le phenomenonTime", [1, 2]),
        .filter(observations, "resultTime ge phenomenonTime", [1, 2, 3]),
        .filter(EntityModel.datastream, "phenomenonTime ge 2026-01-01T00:00:00Z", [1, 3]),
        .filter(EntityModel.datastream, "phenomenonTime lt 2026-01-03T00:00:01Z", [1, 3]),
    ]

    @Test(arguments: times)
    func timeFilter_whenRunOnSQLite_comparesInstantsAndIntervalsInUTC(_ scenario: FilterCase) throws {
        try Self.check(scenario)
    }

    // MARK: JSON properties

    static let json: [FilterCase] = [
        .filter(things, "properties/owner eq 'city'", [1, 3]),
        .filter(things, "properties/floors gt 2", [1]),
        .filter(things, "properties/depth/value ge 2.5", [1, 2]),
        .filter(things, "properties/active eq true", [1]),
        .filter(things, "properties/active", [1]),
        .filter(things, "not properties/active", [2]),
        .filter(things, "properties/floors eq null", [3]),
        // A number in the document is not the string '3', nor a string the number 3.
        .filter(things, "properties/floors eq '3'", []),
        .filter(things, "properties/owner eq 3", []),
        .filter(things, "properties/floors add 1 eq 4", [1]),
        .filter(things, "length(properties/owner) eq 4", [1, 3]),
        .filter(things, "properties/floors lt properties/depth/value", [2]),
        .filter(observations, "parameters/quality eq 'good'", [1]),
        .filter(observations, "parameters/depth/value eq 1", [1]),
        .filter(EntityModel.datastream, "unitOfMeasurement/symbol eq '°C'", [1]),
    ]

    @Test(arguments: json)
    func jsonPropertyFilter_whenRunOnSQLite_comparesByTheOtherOperandsType(_ scenario: FilterCase) throws {
        try Self.check(scenario)
    }

    // MARK: Navigation

    static let navigation: [FilterCase] = [
        .filter(observations, "Datastream/name eq 'Water level'", [4, 5]),
        .filter(observations, "Datastream/Thing/name eq 'Weather station Aachen'", [1, 2, 3, 6, 7]),
        .filter(observations, "Datastream/Thing/properties/owner eq 'water board'", [4, 5]),
        .filter(observations, "Datastream/Sensor/name eq 'DHT22' and result gt 4", [2, 3]),
        .filter(observations, "Datastream/phenomenonTime ge 2026-01-01T00:00:00Z and id lt 4", [1, 2, 3]),
        .filter(observations, "FeatureOfInterest/name eq 'Köln'", [7]),
        .filter(things, "Datastreams/name eq 'Humidity'", [1]),
        .filter(things, "not (Datastreams/name eq 'Humidity')", [2, 3]),
        .filter(things, "Datastreams/Observations/result gt 6", [1]),
        .filter(things, "Datastreams/Sensor/name eq 'Pegel'", [2]),
        .filter(things, "Locations/name eq 'Köln'", [3]),
        .filter(things, "Datastreams/name eq 'Humidity' and Datastreams/name eq 'Air temperature'", [1]),
        .filter(things, "startswith(Datastreams/name, 'Hum')", [1]),
        .filter(EntityModel.datastream, "Observations/result eq 'high'", [2]),
        .filter(EntityModel.datastream, "Thing/Locations/name eq 'Aachen area'", [1, 3]),
        .filter(EntityModel.location, "Things/name eq 'River gauge Rur'", [2]),
    ]

    @Test(arguments: navigation)
    func navigationFilter_whenRunOnSQLite_followsToOneAndAnyOfToMany(_ scenario: FilterCase) throws {
        try Self.check(scenario)
    }

    // MARK: Geometry

    static let geometry: [FilterCase] = [
        // Location 2 lies in the L's bounding box but not in the L; location 4 is an area whose box
        // overlaps the L.
        .filter(EntityModel.location, "geo.intersects(location, \(FilterFixture.lShape))", [1, 4]),
        .filter(EntityModel.location, "st_intersects(\(FilterFixture.lShape), location)", [1, 4]),
        .filter(EntityModel.location, "st_within(location, \(FilterFixture.lShape))", [1]),
        .filter(EntityModel.location, "st_contains(\(FilterFixture.lShape), location)", [1]),
        .filter(EntityModel.location, "st_disjoint(location, \(FilterFixture.lShape))", [2, 3]),
        .filter(EntityModel.location, "st_equals(location, geography'POINT(6.35 50.9)')", [2]),
        .filter(EntityModel.location, "geo.intersects(location, geography'POINT(6.0 50.8)')", [4]),
        .filter(
            EntityModel.location,
            "st_within(location, geography'POLYGON((6 50.5, 7 50.5, 7 51.5, 6 51.5, 6 50.5), (6.3 50.85, 6.4 50.85, 6.4 50.95, 6.3 50.95, 6.3 50.85))')",
            [1, 3]),
        .filter(EntityModel.location, "st_within(location, geography'LINESTRING(6.3 50.8, 7 51)')", [2, 3]),
        .filter(EntityModel.location, "geo.distance(location, geography'POINT(6.0839 50.7753)') lt 0.3", [1, 2, 4]),
        .filter(EntityModel.location, "geo.distance(location, geography'POINT(6.0839 50.7753)') le 0.2", [1, 4]),
        .filter(EntityModel.location, "0.2 lt geo.distance(location, geography'POINT(6.0839 50.7753)')", [2, 3]),
        .filter(EntityModel.location, "geo.distance(location, geography'POINT(6.0839 50.7753)') gt -1", [1, 2, 3, 4]),
        .filter(things, "geo.intersects(Locations/location, \(FilterFixture.lShape))", [1]),
        .filter(observations, "st_within(FeatureOfInterest/feature, \(FilterFixture.lShape))", [1, 2, 3, 4, 5, 6]),
    ]

    @Test(arguments: geometry)
    func geoFilter_whenRunOnSQLite_testsPointsExactlyAndAreasByBoundingBox(_ scenario: FilterCase) throws {
        try Self.check(scenario)
    }

    // MARK: Ordering

    static let orderings: [FilterCase] = [
        FilterCase(
            type: observations, parameters: [("$filter", "result gt -100"), ("$orderby", "result desc")],
            expected: [3, 2, 1, 7]),
        FilterCase(
            type: observations, parameters: [("$orderby", "phenomenonTime desc")], expected: [6, 5, 4, 3, 2, 1, 7]),
        FilterCase(
            type: observations, parameters: [("$orderby", "Datastream/name,id desc")], expected: [3, 2, 1, 7, 6, 5, 4]),
        FilterCase(type: things, parameters: [("$orderby", "properties/floors desc")], expected: [3, 1, 2]),
        FilterCase(type: things, parameters: [("$orderby", "length(name) asc")], expected: [2, 3, 1]),
        FilterCase(type: things, parameters: [("$orderby", "'constant', name")], expected: [3, 2, 1]),
        FilterCase(
            type: EntityModel.location,
            parameters: [("$orderby", "geo.distance(location, geography'POINT(6.0839 50.7753)')")],
            expected: [1, 4, 2, 3]),
    ]

    @Test(arguments: orderings)
    func orderBy_whenRunOnSQLite_ordersThenBreaksTiesById(_ scenario: FilterCase) throws {
        try Self.check(scenario)
    }

    @Test func parameters_whenNumberedFromAGivenStart_continueTheCallersNumbering() throws {
        let fixture = try FilterFixture.make()
        let options = try QueryOptions(
            parameters: [("$filter", "result gt 3 and Datastream/name eq 'Air temperature'")], for: Self.observations)
        var sql = FilterSQL(for: Self.observations, dialect: .sqlite, firstParameter: 2, nowMilliseconds: 0)
        let condition = try sql.condition(options.filter)
        #expect(condition.contains("$2") && condition.contains("$3") && !condition.contains("$1"))
        #expect(sql.nextParameter == 4)
        let rows = try fixture.connection.execute(
            "SELECT e0.id FROM observations e0 WHERE e0.datastream_id = $1 AND \(condition) ORDER BY e0.id",
            [.integer(1)] + sql.parameters)
        #expect(rows.map { $0.integer(0) } == [1, 2, 3])
    }

    // MARK: SQL text

    @Test func jsonComparison_whenCompiledForSQLite_extractsWithAQuotedPath() throws {
        let options = try QueryOptions(parameters: [("$filter", "properties/depth/value eq 'deep'")], for: Self.things)
        var sql = FilterSQL(for: Self.things, dialect: .sqlite, nowMilliseconds: 0)
        #expect(
            try sql.condition(options.filter)
                == """
                CASE WHEN json_type(e0.properties, '$."depth"."value"') = 'text' THEN json_extract(e0.properties, '$."depth"."value"') END = $1
                """)
        #expect(sql.parameters == [.text("deep")])
    }

    @Test func jsonComparison_whenCompiledForPostgreSQL_comparesNumbersAsDoubles() throws {
        let options = try QueryOptions(parameters: [("$filter", "properties/depth/value gt 2")], for: Self.things)
        var sql = FilterSQL(for: Self.things, dialect: .postgres, nowMilliseconds: 0)
        #expect(
            try sql.condition(options.filter)
                == """
                CASE WHEN jsonb_typeof((e0.properties::jsonb #> '{"depth","value"}')) = 'number' \
                THEN ((e0.properties::jsonb #> '{"depth","value"}') #>> '{}')::double precision END > $1::bigint
                """)
        #expect(sql.parameters == [.integer(2)])
    }

    @Test func navigation_whenCompiledForPostgreSQL_readsToOneInASubqueryAndToManyInExists() throws {
        let observationOptions = try QueryOptions(
            parameters: [("$filter", "Datastream/name eq 'x'"), ("$orderby", "Datastream/Thing/name desc")],
            for: Self.observations)
        var observationSQL = FilterSQL(for: Self.observations, dialect: .postgres, nowMilliseconds: 0)
        #expect(
            try observationSQL.condition(observationOptions.filter)
                == "(SELECT e1.name FROM datastreams e1 WHERE e1.id = e0.datastream_id) = $1::text")
        #expect(
            try observationSQL.orderBy(observationOptions.orderBy)
                == "(SELECT e3.name FROM datastreams e2, things e3 WHERE e2.id = e0.datastream_id AND e3.id = e2.thing_id)"
                + " DESC NULLS FIRST, e0.id ASC")

        let thingOptions = try QueryOptions(parameters: [("$filter", "Locations/name eq 'x'")], for: Self.things)
        var thingSQL = FilterSQL(for: Self.things, dialect: .postgres, firstParameter: 5, nowMilliseconds: 0)
        #expect(
            try thingSQL.condition(thingOptions.filter)
                == "EXISTS (SELECT 1 FROM things_locations e1, locations e2 WHERE e1.thing_id = e0.id"
                + " AND e2.id = e1.location_id AND (e2.name = $5::text))")
    }

    @Test func timeFunctions_whenCompiledForPostgreSQL_extractInUTC() throws {
        let thingOptions = try QueryOptions(parameters: [("$filter", "indexof(name, 'x') eq 0")], for: Self.things)
        var thingSQL = FilterSQL(for: Self.things, dialect: .postgres, nowMilliseconds: 0)
        #expect(try thingSQL.condition(thingOptions.filter) == "(strpos(e0.name, $1::text) - 1) = $2::bigint")

        let yearOptions = try QueryOptions(
            parameters: [("$filter", "year(resultTime) eq 2026")], for: Self.observations)
        var yearSQL = FilterSQL(for: Self.observations, dialect: .postgres, nowMilliseconds: 0)
        #expect(
            try yearSQL.condition(yearOptions.filter)
                == "CAST(EXTRACT(YEAR FROM to_timestamp((e0.result_time) / 1000.0) AT TIME ZONE 'UTC') AS integer)"
                + " = $1::bigint")
    }
}

// MARK: - Query options

@Suite struct QueryOptionsTests {
    static let things = EntityModel.thing

    @Test func expand_whenNestedWithQuotedSeparators_keepsEachOptionWhole() throws {
        let options = try QueryOptions(
            parameters: [
                (
                    "$expand",
                    "Datastreams($filter=name eq 'a;b),c';$top=2;$expand=Observations($filter=result gt 3;$orderby=phenomenonTime desc;$top=1)),Locations"
                ),
                ("$count", "true"), ("$skip", "5"), ("$top", "0"), ("$select", "id, name,Datastreams"),
                ("page", "ignored"),
            ], for: Self.things)
        #expect(options.count && options.skip == 5 && options.top == 0)
        #expect(options.select == ["@iot.id", "name", "Datastreams"])
        #expect(options.expand.map(\.navigation) == ["Datastreams", "Locations"])
        let datastreams = options.expand[0].options
        #expect(datastreams.top == 2)
        #expect(
            datastreams.filter?.kind
                == .comparison(
                    .eq, FilterExpression(.property(.init(property: "name")), position: 21),
                    FilterExpression(.literal(.string("a;b),c")), position: 29)))
        let observations = try #require(datastreams.expand.first)
        #expect(observations.navigation == "Observations")
        #expect(observations.options.top == 1)
        #expect(observations.options.orderBy.first?.descending == true)
        #expect(observations.options.filter != nil)
    }

    @Test func expand_whenWrittenAsAPath_equalsTheNestedForm() throws {
        let path = try QueryOptions(parameters: [("$expand", "Datastreams/Observations")], for: Self.things)
        let nested = try QueryOptions(parameters: [("$expand", "Datastreams($expand=Observations)")], for: Self.things)
        #expect(path == nested)
        let merged = try QueryOptions(
            parameters: [("$expand", "Datastreams/Observations,Datastreams/Sensor,Datastreams($top=3)")],
            for: Self.things)
        #expect(merged.expand.count == 1)
        #expect(merged.expand[0].options.expand.map(\.navigation) == ["Observations", "Sensor"])
        #expect(merged.expand[0].options.top == 3)
    }

    @Test func resultFormat_whenDataArrayOnObservations_isAccepted() throws {
        let options = try QueryOptions(parameters: [("$resultFormat", "dataArray")], for: EntityModel.observation)
        #expect(options.resultFormat == .dataArray)
    }

    struct BadInput: Sendable, CustomTestStringConvertible {
        var parameters: [(String, String)]
        var type = EntityModel.thing
        var message: String

        var testDescription: String { parameters.map { "\($0.0)=\($0.1.prefix(60))" }.joined(separator: "&") }
    }

    static let badInput: [BadInput] = [
        BadInput(
            parameters: [("$filter", "foo eq 1")],
            message:
                "$filter: unknown property or navigation 'foo' at position 1; Thing has id, name, description, properties, Locations, HistoricalLocations, Datastreams"
        ),
        BadInput(
            parameters: [("$filter", "Datastreams/nam eq 'x'")],
            message:
                "$filter: unknown property or navigation 'nam' at position 13; Datastream has id, name, description, unitOfMeasurement, observationType, observedArea, phenomenonTime, resultTime, properties, Thing, Sensor, ObservedProperty, Observations"
        ),
        BadInput(parameters: [("$filter", "foo(name) eq 1")], message: "$filter: unknown function 'foo' at position 1"),
        BadInput(
            parameters: [("$filter", "substring(name) eq 'x'")],
            message: "$filter: 'substring' at position 1 takes 2 or 3 arguments, not 1"),
        BadInput(
            parameters: [("$filter", "now(1) eq 1")], message: "$filter: 'now' at position 1 takes 0 arguments, not 1"),
        BadInput(
            parameters: [("$filter", "(name eq 'a'")],
            message:
                "$filter: unexpected end of text at position 13; expected an operator or ')' to close '(' at position 1"
        ),
        BadInput(
            parameters: [("$filter", "name eq 'a')")],
            message: "$filter: unexpected ')' at position 12; there is no '(' for it to close"),
        BadInput(
            parameters: [("$filter", "name eq 'abc")],
            message:
                "$filter: unterminated string 'abc at position 9; close it with ' (and write a quote inside it as '')"),
        BadInput(
            parameters: [("$filter", "id eq 99999999999999999999")],
            message:
                "$filter: integer '99999999999999999999' at position 7 is out of range; integers must lie between -9223372036854775808 and 9223372036854775807"
        ),
        BadInput(
            parameters: [
                ("$filter", String(repeating: "(", count: 1000) + "name eq 'a'" + String(repeating: ")", count: 1000))
            ],
            message:
                "$filter: too deeply nested: '(' at position 33 opens level 33; at most 32 levels of parentheses, function calls and 'not' are allowed"
        ),
        BadInput(
            parameters: [("$filter", String(repeating: "not ", count: 1000) + "true")],
            message:
                "$filter: too deeply nested: 'not' at position 129 opens level 33; at most 32 levels of parentheses, function calls and 'not' are allowed"
        ),
        BadInput(
            parameters: [("$filter", "id eq 1" + String(repeating: " add 1", count: 200))],
            message: "$filter: too deeply nested: 'add' at position 771 makes the expression more than 128 levels deep"),
        // Within the parser's limits, but SQLite's parser stack (100 symbols) would overflow.
        BadInput(
            parameters: [
                (
                    "$filter",
                    String(repeating: "tolower(", count: 30) + "name" + String(repeating: ")", count: 30) + " eq 'a'"
                )
            ],
            message: "$filter: the expression at position 276 nests too deeply for SQLite to read; simplify it"),
        // SQLite's floor repeats its operand, so nested floors would grow the SQL exponentially.
        BadInput(
            parameters: [
                ("$filter", String(repeating: "floor(", count: 30) + "id" + String(repeating: ")", count: 30) + " eq 1")
            ],
            message: "$filter: the expression at position 115 compiles to more than 4194304 bytes of SQL; simplify it"),
        BadInput(
            parameters: [("$filter", "name eq 'x' foo")],
            message: "$filter: unexpected 'foo' at position 13; expected an operator"),
        BadInput(
            parameters: [("$filter", "name add 1 eq 2")],
            message: "$filter: 'add' at position 6 needs numbers, but 'name' is a string"),
        BadInput(
            parameters: [("$filter", "length(3) eq 1")],
            message: "$filter: 'length' at position 1 needs a string as argument 1, but 3 is a number"),
        BadInput(
            parameters: [("$filter", "geo.intersects(name, geography'POINT(1 2)')")],
            message: "$filter: 'geo.intersects' at position 1 needs a geometry as argument 1, but 'name' is a string"),
        BadInput(
            parameters: [("$filter", "name eq 1")],
            message: "$filter: 'eq' at position 6 compares a string with a number"),
        BadInput(
            parameters: [("$filter", "name")],
            message: "$filter: 'name' at position 1 is a string; expected a condition"),
        BadInput(
            parameters: [("$filter", "geo.length(name) eq 1")],
            message: "$filter: function 'geo.length' at position 1 is not supported"),
        BadInput(
            parameters: [("$filter", "Datastreams/any(d:d/name eq 'x')")],
            message:
                "$filter: lambda operator 'Datastreams/any' at position 1 is not supported; a condition on a navigation path already holds when any entity matches"
        ),
        BadInput(
            parameters: [("$filter", "Locations/location eq 1")], type: EntityModel.thing,
            message:
                "$filter: 'eq' at position 20 compares a geometry with a number; geometries are compared with geo.intersects, st_within and the like"
        ),
        BadInput(
            parameters: [("$filter", "phenomenonTime gt 2026-13-01T00:00:00Z")], type: EntityModel.observation,
            message: "$filter: invalid date-time '2026-13-01T00:00:00Z' at position 19; month 13 is not 1 to 12"),
        BadInput(
            parameters: [("$filter", "phenomenonTime gt 2026-01-01T00:00:00")], type: EntityModel.observation,
            message:
                "$filter: invalid date-time '2026-01-01T00:00:00' at position 19; a date-time needs a time zone: Z or an offset such as +01:00"
        ),
        BadInput(
            parameters: [
                (
                    "$filter",
                    "geo.intersects(location, geography'LINESTRING("
                        + Array(repeating: "1 2", count: 1001).joined(separator: ",") + ")')"
                )
            ], type: EntityModel.location,
            message:
                "$filter: invalid geography literal 'geography'LINESTRING(1 2,1 2,1 2,1 2,1 2…' at position 26; more than 1000 points"
        ),
        BadInput(
            parameters: [("$filter", "st_within(location, geography'POLYGON((0 0, 1 0, 1 1))')")],
            type: EntityModel.location,
            message:
                "$filter: invalid geography literal 'geography'POLYGON((0 0, 1 0, 1 1))'' at position 21; a POLYGON ring needs at least four points and must end at its first point"
        ),
        BadInput(
            parameters: [("$filter", "name eq '" + String(repeating: "x", count: 17000) + "'")],
            message: "$filter: the value is 17010 bytes long; at most 16384 are allowed"),
        BadInput(parameters: [("$top", "-1")], message: "$top: '-1' at position 1 is not a non-negative integer"),
        BadInput(
            parameters: [("$top", "99999999999999999999")],
            message: "$top: '99999999999999999999' at position 1 is more than 10000000"),
        BadInput(parameters: [("$skip", "1e3")], message: "$skip: '1e3' at position 1 is not a non-negative integer"),
        BadInput(parameters: [("$count", "yes")], message: "$count: 'yes' at position 1 is neither true nor false"),
        BadInput(
            parameters: [("$foo", "1")],
            message:
                "$foo: unknown query option '$foo'; the options are $filter, $orderby, $top, $skip, $count, $select, $expand, $resultFormat"
        ),
        BadInput(parameters: [("$top", "1"), ("$top", "2")], message: "$top: given twice"),
        BadInput(
            parameters: [("$expand", "Datastreams,Foo")],
            message:
                "$expand: unknown navigation 'Foo' at position 13; Thing has Locations, HistoricalLocations, Datastreams"
        ),
        BadInput(
            parameters: [("$expand", "Datastreams($filter=foo eq 1)")],
            message:
                "$expand=Datastreams($filter): unknown property or navigation 'foo' at position 21; Datastream has id, name, description, unitOfMeasurement, observationType, observedArea, phenomenonTime, resultTime, properties, Thing, Sensor, ObservedProperty, Observations"
        ),
        BadInput(
            parameters: [("$expand", "Datastreams($top=1;$bar=2)")],
            message:
                "$expand=Datastreams($bar): unknown query option '$bar' at position 20; the options are $filter, $orderby, $top, $skip, $count, $select, $expand, $resultFormat"
        ),
        BadInput(
            parameters: [("$expand", "Datastreams($filter=name eq 'x'")],
            message: "$expand: unexpected end of text at position 32; expected ')' to close '(' at position 12"),
        BadInput(
            parameters: [("$expand", "Datastreams/Thing/Datastreams/Thing/Datastreams/Thing")],
            message: "$expand: 'Thing' at position 49 expands more than 5 levels deep"),
        BadInput(
            parameters: [("$expand", "Datastreams($top=1),Datastreams($top=2)")],
            message:
                "$expand: 'Datastreams' at position 21 is expanded twice with different options; give its options once"),
        BadInput(
            parameters: [("$select", "name,foo")],
            message:
                "$select: unknown property or navigation 'foo' at position 6; Thing has id, name, description, properties, Locations, HistoricalLocations, Datastreams"
        ),
        BadInput(
            parameters: [("$orderby", "Datastreams/name")],
            message:
                "$orderby: 'Datastreams/name' at position 1 crosses Datastreams, which leads to many entities; order by properties of one entity"
        ),
        BadInput(
            parameters: [("$orderby", "name sideways")],
            message: "$orderby: unexpected 'sideways' at position 6; expected 'asc', 'desc' or ','"),
        BadInput(
            parameters: [("$resultFormat", "dataArray")],
            message: "$resultFormat: 'dataArray' at position 1 is only for Observations, not Things"),
    ]

    @Test(arguments: badInput)
    func queryOptions_whenInvalid_failWithTheOptionTokenAndPosition(_ input: BadInput) throws {
        let error = #expect(throws: QueryError.self) {
            let options = try QueryOptions(parameters: input.parameters, for: input.type)
            // Some mistakes only the SQL compiler sees (a to-many path in $orderby).
            var sql = FilterSQL(for: input.type, dialect: .sqlite, nowMilliseconds: 0)
            _ = try sql.condition(options.filter)
            _ = try sql.orderBy(options.orderBy)
        }
        #expect(error?.description == input.message)
    }
}
