/// The semantic rules that span files: references exist, no cycles, templates name real values,
/// and every environment resolves (placements match, parameters valid, no port claimed twice).
struct WorkspaceValidator {
    let workspace: Workspace
    let options: WorkspaceOptions
    let sink: DiagnosticSink

    func validate() {
        for name in workspace.blueprints.keys.sorted() {
            if let blueprint = workspace.blueprints[name] { check(blueprint) }
        }
        checkDependencyCycles()
        checkPromotionChain()
        for name in workspace.environmentNames {
            guard let environment = workspace.environments[name] else { continue }
            if let canary = environment.promotion.canarySite,
                !environment.sites.contains(where: { $0.name.value == canary.value })
            {
                sink.error(
                    "canary_site '\(canary.value)' is not a site of environment '\(name)'", at: canary.location,
                    hint: Suggestion.hint(for: canary.value, in: environment.sites.map(\.name.value)))
            }
            _ = EnvironmentResolver(workspace: workspace).resolve(environment, sink: sink)
        }
    }

    // MARK: Blueprints

    private func check(_ blueprint: Blueprint) {
        let context = "blueprint '\(blueprint.name.value)'"
        if case .product(let product) = blueprint.component.source, !options.knownProducts.contains(product) {
            sink.error(
                "\(context) runs the product '\(product)', which this repository does not build",
                at: blueprint.component.location,
                hint: Suggestion.hint(for: product, in: options.knownProducts.sorted()))
        }
        var seenParameters = Set<String>()
        for parameter in blueprint.parameters where !seenParameters.insert(parameter.name.value).inserted {
            sink.error(
                "parameter '\(parameter.name.value)' is declared twice in \(context)", at: parameter.name.location)
        }
        for (portName, parameterName) in blueprint.ports {
            guard let parameter = blueprint.parameter(named: parameterName.value) else {
                sink.error(
                    "port '\(portName.value)' names the parameter '\(parameterName.value)', which \(context) does not declare",
                    at: parameterName.location,
                    hint: Suggestion.hint(for: parameterName.value, in: blueprint.parameters.map(\.name.value)))
                continue
            }
            if case .port = parameter.type {
            } else {
                sink.error(
                    "port '\(portName.value)' names the parameter '\(parameterName.value)', which is of type \(parameter.type.name), not port",
                    at: parameterName.location)
            }
        }
        switch blueprint.health.probe {
        case .http(let port, _, _), .tcp(let port):
            if blueprint.port(named: port.value) == nil {
                sink.error(
                    "the health check uses the port '\(port.value)', which \(context) does not declare under ports",
                    at: port.location, hint: Suggestion.hint(for: port.value, in: blueprint.ports.map(\.name.value)))
            }
        case .command: break
        }
        var seenPaths = Set<String>()
        for file in blueprint.configFiles where !seenPaths.insert(file.path.value).inserted {
            sink.error("the config file '\(file.path.value)' is declared twice in \(context)", at: file.path.location)
        }
        var seenDependencies = Set<String>()
        for dependency in blueprint.dependencies {
            if !seenDependencies.insert(dependency.name.value).inserted {
                sink.error(
                    "the dependency '\(dependency.name.value)' is declared twice in \(context)",
                    at: dependency.name.location,
                    hint: "give the second one another name with 'as:'")
            }
            if workspace.blueprints[dependency.blueprint.value] == nil {
                sink.error(
                    "\(context) depends on the blueprint '\(dependency.blueprint.value)', which does not exist",
                    at: dependency.blueprint.location,
                    hint: Suggestion.hint(for: dependency.blueprint.value, in: workspace.blueprints.keys.sorted()))
            }
        }
        var seenExports = Set<String>()
        for (name, template) in blueprint.exports {
            if !seenExports.insert(name.value).inserted {
                sink.error("the export '\(name.value)' is declared twice in \(context)", at: name.location)
            }
            checkReferences(template, in: blueprint, allowDependencies: false)
        }
        for template in blueprint.component.arguments {
            checkReferences(template, in: blueprint, allowDependencies: true)
        }
        for file in blueprint.configFiles { checkReferences(file.template, in: blueprint, allowDependencies: true) }
    }

    static let fixedReferences: [String: [String]] = [
        "node": ["name", "address"], "site": ["name", "display_name"], "environment": ["name"], "instance": ["name"],
    ]

    private func checkReferences(_ template: Template, in blueprint: Blueprint, allowDependencies: Bool) {
        let namespaces = ["param", "dep"] + Self.fixedReferences.keys.sorted()
        for reference in template.references {
            let path = reference.path
            func fail(_ message: String, hint: String? = nil) {
                sink.error("the placeholder {{ \(reference.text) }} \(message)", at: reference.location, hint: hint)
            }
            switch path[0] {
            case "param":
                guard path.count == 2 else { return fail("must look like param.NAME") }
                if blueprint.parameter(named: path[1]) == nil, !blueprint.brokenParameters.contains(path[1]) {
                    fail(
                        "names a parameter that blueprint '\(blueprint.name.value)' does not declare",
                        hint: Suggestion.hint(for: path[1], in: blueprint.parameters.map(\.name.value)))
                }
            case "dep":
                guard allowDependencies else {
                    return fail("cannot be used in an export: exports may not depend on other services")
                }
                guard path.count == 3 else { return fail("must look like dep.DEPENDENCY.EXPORT") }
                guard let dependency = blueprint.dependencies.first(where: { $0.name.value == path[1] }) else {
                    return fail(
                        "names a dependency that blueprint '\(blueprint.name.value)' does not declare",
                        hint: Suggestion.hint(for: path[1], in: blueprint.dependencies.map(\.name.value)))
                }
                guard let provider = workspace.blueprints[dependency.blueprint.value] else { return }
                if !provider.exports.contains(where: { $0.name.value == path[2] }) {
                    fail(
                        "names an export that blueprint '\(provider.name.value)' does not declare",
                        hint: Suggestion.hint(for: path[2], in: provider.exports.map(\.name.value)))
                }
            default:
                guard let fields = Self.fixedReferences[path[0]] else {
                    return fail(
                        "uses an unknown namespace '\(path[0])'", hint: Suggestion.hint(for: path[0], in: namespaces))
                }
                guard path.count == 2, fields.contains(path[1]) else {
                    return fail(
                        "names nothing known",
                        hint: "\(path[0]) has: " + fields.map { "\(path[0]).\($0)" }.joined(separator: ", "))
                }
            }
        }
    }

    // MARK: Cycles

    private func checkDependencyCycles() {
        var state: [String: Bool] = [:]  // false: on the current path, true: done
        var path: [String] = []
        var reported = Set<String>()
        func visit(_ name: String) {
            if state[name] == true { return }
            if state[name] == false {
                guard let start = path.firstIndex(of: name) else { return }
                let cycle = Array(path[start...]) + [name]
                let key = cycle.dropLast().sorted().joined(separator: ",")
                guard reported.insert(key).inserted, let blueprint = workspace.blueprints[path[start]],
                    let edge = blueprint.dependencies.first(where: { $0.blueprint.value == cycle[1] })
                else { return }
                sink.error(
                    "blueprints depend on each other in a cycle: \(cycle.joined(separator: " → "))",
                    at: edge.blueprint.location,
                    hint: "a service cannot start before the services it needs; break the cycle")
                return
            }
            guard let blueprint = workspace.blueprints[name] else { return }
            state[name] = false
            path.append(name)
            for dependency in blueprint.dependencies { visit(dependency.blueprint.value) }
            path.removeLast()
            state[name] = true
        }
        for name in workspace.blueprints.keys.sorted() { visit(name) }
    }

    private func checkPromotionChain() {
        for name in workspace.environmentNames {
            guard let environment = workspace.environments[name], let target = environment.promotesTo else { continue }
            if target.value == name {
                sink.error("environment '\(name)' promotes to itself", at: target.location)
                continue
            }
            guard workspace.environments[target.value] != nil else {
                sink.error(
                    "environment '\(name)' promotes to '\(target.value)', which does not exist", at: target.location,
                    hint: Suggestion.hint(for: target.value, in: workspace.environmentNames))
                continue
            }
            var chain = [name]
            var current = target.value
            while let next = workspace.environments[current] {
                if chain.contains(current) {
                    if current == name {
                        sink.error(
                            "environments promote in a circle: \((chain + [current]).joined(separator: " → "))",
                            at: target.location, hint: "the last stage (live) promotes to nothing")
                    }
                    break
                }
                chain.append(current)
                guard let following = next.promotesTo?.value else { break }
                current = following
            }
        }
    }
}
