/// A SensorThings resource path below `/v1.1`, checked against the model: an entity set
/// (`Things`), an entity (`Things(1)`), navigation from it (`Things(1)/Datastreams`,
/// `Datastreams(1)/Thing`, `Things(1)/Datastreams(2)/Observations`), a property
/// (`Things(1)/name`), its raw value (`…/name/$value`), or links only (`…/Locations/$ref`).
package struct ResourcePath: Sendable, Equatable {
    package struct Step: Sendable, Equatable {
        /// The entity type this step lands on.
        package var type: EntityType
        /// How it was reached: `nil` for the first step (an entity set), else the navigation
        /// followed from the previous step's entity.
        package var navigation: Navigation?
        /// `Things(1)` names one entity; a to-one navigation names one without an id.
        package var id: Int64?
    }

    package var steps: [Step]
    /// A property of the last step's entity (`name`), if the path ends in one.
    package var property: Property?
    /// `/$value`: the property's value alone, as text.
    package var rawValue = false
    /// `/$ref`: only the entities' self links.
    package var referencesOnly = false

    package var last: Step { steps[steps.count - 1] }

    /// Whether the path names one entity (else a collection, or a property of one).
    package var namesOneEntity: Bool { property == nil && (last.id != nil || last.navigation?.toOne == true) }

    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// Parses the path segments after `/v1.1/` (already split at `/` and percent-decoded).
    package static func parse(_ segments: [String]) throws(Failure) -> ResourcePath {
        guard let first = segments.first, !first.isEmpty else {
            throw Failure(description: "no entity set in the path")
        }
        let (setName, firstID) = try split(first)
        guard let type = EntityModel.type(setName: setName) else {
            throw Failure(
                description: "'\(setName)' is not an entity set; the sets are "
                    + EntityModel.all.map(\.setName).joined(separator: ", "))
        }
        var path = ResourcePath(steps: [Step(type: type, navigation: nil, id: firstID)])
        for (position, segment) in segments.enumerated().dropFirst() {
            if path.referencesOnly || path.rawValue {
                throw Failure(description: "nothing may follow '\(segments[position - 1])' in the path")
            }
            if segment == "$value" {
                guard path.property != nil else { throw Failure(description: "$value follows a property only") }
                path.rawValue = true
                continue
            }
            if segment == "$ref" {
                guard path.property == nil, path.last.id == nil || position > 1 else {
                    throw Failure(description: "$ref follows a navigation or an entity set only")
                }
                path.referencesOnly = true
                continue
            }
            guard path.property == nil else {
                throw Failure(description: "'\(segment)' cannot follow the property \(path.property?.name ?? "")")
            }
            let previous = path.last
            guard previous.id != nil || previous.navigation?.toOne == true else {
                throw Failure(
                    description:
                        "'\(segment)' must follow one entity; name it first, as in \(previous.type.setName)(1)/\(segment)"
                )
            }
            let (name, id) = try split(segment)
            if let navigation = previous.type.navigation(name), let target = EntityModel.type(named: navigation.target)
            {
                if id != nil && navigation.toOne {
                    throw Failure(description: "\(name) is one entity; it takes no id")
                }
                path.steps.append(Step(type: target, navigation: navigation, id: id))
            } else if id == nil, let property = previous.type.property(name), name != "@iot.id" {
                path.property = property
            } else if id == nil, name == "id" {
                path.property = previous.type.property("@iot.id")
            } else {
                throw Failure(description: "a \(previous.type.name) has no property or navigation '\(name)'")
            }
        }
        return path
    }

    /// `Things(12)` → ("Things", 12); `Things` → ("Things", nil).
    private static func split(_ segment: String) throws(Failure) -> (String, Int64?) {
        guard let open = segment.firstIndex(of: "(") else { return (segment, nil) }
        guard segment.hasSuffix(")") else { throw Failure(description: "'\(segment)' is missing its closing ')'") }
        var inner = segment[segment.index(after: open)..<segment.index(before: segment.endIndex)]
        if inner.count >= 2, inner.hasPrefix("'"), inner.hasSuffix("'") { inner = inner.dropFirst().dropLast() }
        guard let id = Int64(inner), id > 0 else {
            throw Failure(description: "'\(inner)' in \(segment) is not an entity id (a positive integer)")
        }
        return (String(segment[..<open]), id)
    }
}
