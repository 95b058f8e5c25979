/// The SensorThings API 1.1 data model (OGC 18-088, section 8.2) as the store keeps it: each entity
/// type with its table, its properties and how each is stored, and its navigation properties with
/// the join that follows them. The store, the JSON writer, the query compiler and the URL parser all
/// read this one description.
package struct EntityType: Sendable, Hashable {
    /// `Thing`: the singular name, used in navigation to one entity and in MQTT topics.
    package let name: String
    /// `Things`: the entity set under `/v1.1`.
    package let setName: String
    package let table: String
    package let properties: [Property]
    package let navigations: [Navigation]

    package func property(_ name: String) -> Property? { properties.first { $0.name == name } }
    package func navigation(_ name: String) -> Navigation? { navigations.first { $0.name == name } }

    package static func == (left: EntityType, right: EntityType) -> Bool { left.name == right.name }
    package func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

/// One property of an entity and the column(s) it lives in.
package struct Property: Sendable, Hashable {
    package let name: String
    package let storage: Storage
    /// Whether a create request must give it (the spec's "mandatory").
    package let required: Bool

    package enum Storage: Sendable, Hashable {
        /// The entity's `@iot.id`, an integer column `id`.
        case id
        /// Text in one column.
        case text(String)
        /// Any JSON value (an object for `properties`, `parameters`, `unitOfMeasurement`), as JSON
        /// text in one column; a filter may reach inside with `properties/depth`.
        case json(String)
        /// An instant, as milliseconds since 1970 (UTC) in one integer column.
        case time(String)
        /// A time interval or an instant: start and end in milliseconds (end NULL for an instant,
        /// both NULL when absent). `phenomenonTime` of an observation may be either.
        case interval(start: String, end: String)
        /// A GeoJSON geometry (or Feature) as JSON text, with its bounding box in four double columns
        /// `<prefix>_min_x`, `_min_y`, `_max_x`, `_max_y` for spatial filters.
        case geometry(String, boundingBoxPrefix: String)
        /// An observation's `result`: any JSON value, split by kind so filters compare numbers as
        /// numbers and text as text (`result_number`, `result_string`, `result_boolean`,
        /// `result_json` holding the value as JSON text, and `result_type`).
        case result
    }
}

/// A navigation property and the join that follows it from the entity it belongs to.
package struct Navigation: Sendable, Hashable {
    package let name: String
    /// The target's type name (`Datastream`); `EntityModel.type(named:)` finds it. Kept as a name
    /// because the types refer to each other.
    package let target: String
    package let join: Join

    package enum Join: Sendable, Hashable {
        /// This entity's table holds the target's id (`datastreams.thing_id`): one target or none.
        case parent(foreignKey: String)
        /// The target's table holds this entity's id (`datastreams.thing_id` seen from a Thing).
        case children(foreignKey: String)
        /// A link table holds pairs (`things_locations (thing_id, location_id)`).
        case link(table: String, here: String, there: String)
    }

    /// Whether following it gives at most one entity (then its name is singular).
    package var toOne: Bool {
        if case .parent = join { return true }
        return false
    }
}

/// The eight entity types of the SensorThings Sensing core.
package enum EntityModel {
    package static let thing = EntityType(
        name: "Thing", setName: "Things", table: "things",
        properties: [
            Property(name: "@iot.id", storage: .id, required: false),
            Property(name: "name", storage: .text("name"), required: true),
            Property(name: "description", storage: .text("description"), required: true),
            Property(name: "properties", storage: .json("properties"), required: false),
        ],
        navigations: [
            Navigation(
                name: "Locations", target: "Location",
                join: .link(table: "things_locations", here: "thing_id", there: "location_id")),
            Navigation(
                name: "HistoricalLocations", target: "HistoricalLocation", join: .children(foreignKey: "thing_id")),
            Navigation(name: "Datastreams", target: "Datastream", join: .children(foreignKey: "thing_id")),
        ])

    package static let location = EntityType(
        name: "Location", setName: "Locations", table: "locations",
        properties: [
            Property(name: "@iot.id", storage: .id, required: false),
            Property(name: "name", storage: .text("name"), required: true),
            Property(name: "description", storage: .text("description"), required: true),
            Property(name: "encodingType", storage: .text("encoding_type"), required: true),
            Property(name: "location", storage: .geometry("location", boundingBoxPrefix: "location"), required: true),
            Property(name: "properties", storage: .json("properties"), required: false),
        ],
        navigations: [
            Navigation(
                name: "Things", target: "Thing",
                join: .link(table: "things_locations", here: "location_id", there: "thing_id")),
            Navigation(
                name: "HistoricalLocations", target: "HistoricalLocation",
                join: .link(
                    table: "locations_historical_locations", here: "location_id", there: "historical_location_id")),
        ])

    package static let historicalLocation = EntityType(
        name: "HistoricalLocation", setName: "HistoricalLocations", table: "historical_locations",
        properties: [
            Property(name: "@iot.id", storage: .id, required: false),
            Property(name: "time", storage: .time("time"), required: true),
        ],
        navigations: [
            Navigation(name: "Thing", target: "Thing", join: .parent(foreignKey: "thing_id")),
            Navigation(
                name: "Locations", target: "Location",
                join: .link(
                    table: "locations_historical_locations", here: "historical_location_id", there: "location_id")),
        ])

    package static let datastream = EntityType(
        name: "Datastream", setName: "Datastreams", table: "datastreams",
        properties: [
            Property(name: "@iot.id", storage: .id, required: false),
            Property(name: "name", storage: .text("name"), required: true),
            Property(name: "description", storage: .text("description"), required: true),
            Property(name: "unitOfMeasurement", storage: .json("unit_of_measurement"), required: true),
            Property(name: "observationType", storage: .text("observation_type"), required: true),
            Property(
                name: "observedArea", storage: .geometry("observed_area", boundingBoxPrefix: "observed_area"),
                required: false),
            Property(
                name: "phenomenonTime", storage: .interval(start: "phenomenon_time_start", end: "phenomenon_time_end"),
                required: false),
            Property(
                name: "resultTime", storage: .interval(start: "result_time_start", end: "result_time_end"),
                required: false),
            Property(name: "properties", storage: .json("properties"), required: false),
        ],
        navigations: [
            Navigation(name: "Thing", target: "Thing", join: .parent(foreignKey: "thing_id")),
            Navigation(name: "Sensor", target: "Sensor", join: .parent(foreignKey: "sensor_id")),
            Navigation(
                name: "ObservedProperty", target: "ObservedProperty", join: .parent(foreignKey: "observed_property_id")),
            Navigation(name: "Observations", target: "Observation", join: .children(foreignKey: "datastream_id")),
        ])

    package static let sensor = EntityType(
        name: "Sensor", setName: "Sensors", table: "sensors",
        properties: [
            Property(name: "@iot.id", storage: .id, required: false),
            Property(name: "name", storage: .text("name"), required: true),
            Property(name: "description", storage: .text("description"), required: true),
            Property(name: "encodingType", storage: .text("encoding_type"), required: true),
            Property(name: "metadata", storage: .json("metadata"), required: true),
            Property(name: "properties", storage: .json("properties"), required: false),
        ],
        navigations: [
            Navigation(name: "Datastreams", target: "Datastream", join: .children(foreignKey: "sensor_id"))
        ])

    package static let observedProperty = EntityType(
        name: "ObservedProperty", setName: "ObservedProperties", table: "observed_properties",
        properties: [
            Property(name: "@iot.id", storage: .id, required: false),
            Property(name: "name", storage: .text("name"), required: true),
            Property(name: "definition", storage: .text("definition"), required: true),
            Property(name: "description", storage: .text("description"), required: true),
            Property(name: "properties", storage: .json("properties"), required: false),
        ],
        navigations: [
            Navigation(name: "Datastreams", target: "Datastream", join: .children(foreignKey: "observed_property_id"))
        ])

    package static let observation = EntityType(
        name: "Observation", setName: "Observations", table: "observations",
        properties: [
            Property(name: "@iot.id", storage: .id, required: false),
            Property(
                name: "phenomenonTime", storage: .interval(start: "phenomenon_time_start", end: "phenomenon_time_end"),
                required: false),
            Property(name: "result", storage: .result, required: true),
            Property(name: "resultTime", storage: .time("result_time"), required: false),
            Property(name: "resultQuality", storage: .json("result_quality"), required: false),
            Property(
                name: "validTime", storage: .interval(start: "valid_time_start", end: "valid_time_end"),
                required: false),
            Property(name: "parameters", storage: .json("parameters"), required: false),
        ],
        navigations: [
            Navigation(name: "Datastream", target: "Datastream", join: .parent(foreignKey: "datastream_id")),
            Navigation(name: "FeatureOfInterest", target: "FeatureOfInterest", join: .parent(foreignKey: "feature_id")),
        ])

    package static let featureOfInterest = EntityType(
        name: "FeatureOfInterest", setName: "FeaturesOfInterest", table: "features",
        properties: [
            Property(name: "@iot.id", storage: .id, required: false),
            Property(name: "name", storage: .text("name"), required: true),
            Property(name: "description", storage: .text("description"), required: true),
            Property(name: "encodingType", storage: .text("encoding_type"), required: true),
            Property(name: "feature", storage: .geometry("feature", boundingBoxPrefix: "feature"), required: true),
            Property(name: "properties", storage: .json("properties"), required: false),
        ],
        navigations: [
            Navigation(name: "Observations", target: "Observation", join: .children(foreignKey: "feature_id"))
        ])

    /// In the order `GET /v1.1` lists them.
    package static let all: [EntityType] = [
        datastream, featureOfInterest, historicalLocation, location, observation, observedProperty, sensor, thing,
    ]

    package static func type(named name: String) -> EntityType? { all.first { $0.name == name } }
    package static func type(setName: String) -> EntityType? { all.first { $0.setName == setName } }
}
