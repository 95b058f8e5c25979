extension EntityType {
    /// A property path followed through the model: the navigations it crosses and the property it
    /// ends at.
    struct ResolvedPath {
        struct Hop {
            var navigation: Navigation
            var target: EntityType
        }

        var hops: [Hop]
        var property: Property
        /// The type the property belongs to.
        var owner: EntityType

        /// Whether some navigation on the way leads to many entities, so a condition on the path
        /// holds when it holds for any of them.
        var crossesToMany: Bool { hops.contains { !$0.navigation.toOne } }
    }

    /// Follows `path` from this type; nil when the model has no such path (the parser reports which
    /// name is wrong before a path is ever built).
    func resolve(_ path: FilterExpression.PropertyPath) -> ResolvedPath? {
        var hops: [ResolvedPath.Hop] = []
        var current = self
        for name in path.navigations {
            guard let navigation = current.navigation(name), let target = EntityModel.type(named: navigation.target)
            else { return nil }
            hops.append(ResolvedPath.Hop(navigation: navigation, target: target))
            current = target
        }
        guard let property = current.property(path.property) else { return nil }
        return ResolvedPath(hops: hops, property: property, owner: current)
    }

    /// "Thing has id, name, …": what a message about an unknown name suggests instead.
    var namesHint: String {
        let names = properties.map { $0.name == "@iot.id" ? "id" : $0.name } + navigations.map(\.name)
        return "\(name) has \(names.joined(separator: ", "))"
    }
}
