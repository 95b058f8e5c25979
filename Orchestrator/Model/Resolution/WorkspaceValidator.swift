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
                !environment.sites.contains(where: { $0.name.value == canary.value }),
                !environment.brokenSites.contains(canary.value)
            {
                sink.error(
                    "canary_site '\(canary.value)' is not a site of environment '\(name)'", at: canary.location,
                    hint: Suggestion.hint(for: canary.value, in: environment.sites.map(\.name.value)))
            }
            if environment.promotion.respectWindows {
                for site in environment.sites where site.maintenanceWindows.isEmpty {
                    sink.error(
                        "site '\(site.name.value)' has no maintenance_windows, but environment '\(name)' only changes "
                            + "sites inside their windows (promotion.windows: true)", at: site.name.location,
                        hint: "add at least one window, such as days: [tue], from: \"20:00\", to: \"23:00\"")
                }
            }
            _ = EnvironmentResolver(workspace: workspace).resolve(environment, sink: sink)
        }
    }

    // MARK: Blueprints

    private func check(_ blueprint: Blueprint) {
        let context = "blueprint '\(blueprint.name.value)'"
        if case .product(let product) = blueprint.component.source, options.checksProducts,
            !options.knownProducts.contains(product)
        {
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
                if blueprint.brokenParameters.contains(parameterName.value) { continue }
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
            if let parameterName = blueprint.port(named: port.value) {
                if let parameter = blueprint.parameter(named: parameterName.value), parameter.defaultValue == nil,
                    !parameter.required
                {
                    sink.error(
                        "the health check uses the port '\(port.value)', whose parameter '\(parameterName.value)' is optional "
                            + "and has no default", at: port.location,
                        hint: "give the parameter a default or make it required")
                }
            } else {
                sink.error(
                    "the health check uses the port '\(port.value)', which \(context) does not declare under ports",
                    at: port.location, hint: Suggestion.hint(for: port.value, in: blueprint.ports.map(\.name.value)))
            }
        case .command: break
        }
        checkRoutes(of: blueprint, context: context)
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
            if workspace.blueprints[dependency.blueprint.value] == nil,
                !workspace.brokenBlueprints.contains(dependency.blueprint.value)
            {
                sink.error(
                    "\(context) depends on the blueprint '\(dependency.blueprint.value)', which does not exist",
                    at: dependency.blueprint.location,
                    hint: Suggestion.hint(for: dependency.blueprint.value, in: workspace.blueprints.keys.sorted()))
            }
        }
        for (name, template) in blueprint.exports {
            checkReferences(template, in: blueprint, export: name.value)
        }
        for template in blueprint.component.arguments {
            checkReferences(template, in: blueprint)
        }
        for file in blueprint.configFiles { checkReferences(file.template, in: blueprint) }
        checkTextParameters(in: blueprint)
    }

    /// `public:` names a url parameter and a port; `proxy:` names two ports. A proxy routes others
    /// and is not routed itself.
    private func checkRoutes(of blueprint: Blueprint, context: String) {
        func checkPort(_ port: Located<String>, use: String) {
            guard blueprint.port(named: port.value) == nil else { return }
            sink.error(
                "\(use) names the port '\(port.value)', which \(context) does not declare under ports",
                at: port.location, hint: Suggestion.hint(for: port.value, in: blueprint.ports.map(\.name.value)))
        }
        if let route = blueprint.publicRoute {
            checkPort(route.port, use: "public")
            if let parameter = blueprint.parameter(named: route.url.value) {
                if case .url = parameter.type {
                } else {
                    sink.error(
                        "public names the parameter '\(route.url.value)' as its address, which is of type \(parameter.type.name), not url",
                        at: route.url.location)
                }
            } else if !blueprint.brokenParameters.contains(route.url.value) {
                sink.error(
                    "public names the parameter '\(route.url.value)', which \(context) does not declare",
                    at: route.url.location,
                    hint: Suggestion.hint(for: route.url.value, in: blueprint.parameters.map(\.name.value)))
            }
        }
        if let proxy = blueprint.proxy {
            checkPort(proxy.https, use: "proxy")
            checkPort(proxy.http, use: "proxy")
            for name in [proxy.certificate, proxy.key] {
                guard let parameter = blueprint.parameter(named: name.value) else {
                    if blueprint.brokenParameters.contains(name.value) { continue }
                    sink.error(
                        "proxy names the parameter '\(name.value)', which \(context) does not declare",
                        at: name.location,
                        hint: Suggestion.hint(for: name.value, in: blueprint.parameters.map(\.name.value)))
                    continue
                }
                if case .secret = parameter.type { continue }
                sink.error(
                    "proxy names the parameter '\(name.value)' for its certificate or key, which is of type \(parameter.type.name), not secret",
                    at: name.location)
            }
            if blueprint.publicRoute != nil {
                sink.error(
                    "\(context) is a proxy and has a public route: a proxy cannot be routed through itself",
                    at: proxy.location)
            }
        }
    }

    /// A text parameter holds lines of its own, so it may only be a config file's whole content: in a
    /// file of other values, or on a command line, its lines would become keys or arguments.
    private func checkTextParameters(in blueprint: Blueprint) {
        let text = Set(
            blueprint.parameters.filter {
                if case .text = $0.type { return true }
                return false
            }.map(\.name.value))
        guard !text.isEmpty else { return }
        var templates = blueprint.exports.map(\.value) + blueprint.component.arguments
        for file in blueprint.configFiles {
            let whole =
                file.template.references.count == 1
                && file.template.segments.allSatisfy {
                    if case .literal(let literal) = $0 { return literal.allSatisfy(\.isWhitespace) }
                    return true
                }
            if !whole { templates.append(file.template) }
        }
        for template in templates {
            for reference in template.references
            where reference.path.count == 2 && reference.path[0] == "param" && text.contains(reference.path[1]) {
                sink.error(
                    "the placeholder {{ \(reference.text) }} puts the text parameter '\(reference.path[1])' among other "
                        + "text", at: reference.location,
                    hint: "a text parameter is a config file's whole content: template: \"{{ \(reference.text) }}\"")
            }
        }
    }

    static let fixedReferences: [String: [String]] = [
        "node": ["name", "address"], "site": ["name", "display_name"], "environment": ["name"], "instance": ["name"],
    ]

    private func checkReferences(_ template: Template, in blueprint: Blueprint, export: String? = nil) {
        for reference in template.references {
            if let problem = problem(with: reference, in: blueprint, export: export) {
                sink.error(
                    "the placeholder {{ \(reference.text) }} \(problem.message)", at: reference.location,
                    hint: problem.hint)
            }
        }
    }

    /// What is wrong with one placeholder, if anything.
    private func problem(
        with reference: Template.Reference, in blueprint: Blueprint, export: String?
    ) -> (message: String, hint: String?)? {
        let path = reference.path
        switch path[0] {
        case "param":
            guard path.count == 2 else { return ("must look like param.NAME", nil) }
            guard let parameter = blueprint.parameter(named: path[1]) else {
                if blueprint.brokenParameters.contains(path[1]) { return nil }
                return (
                    "names a parameter that blueprint '\(blueprint.name.value)' does not declare",
                    Suggestion.hint(for: path[1], in: blueprint.parameters.map(\.name.value))
                )
            }
            if let filter = reference.filter, parameter.type.name != "secret" {
                return (
                    "applies '\(filter)' to a parameter of type \(parameter.type.name)",
                    "filters apply to secret parameters, which the agent fills in"
                )
            }
            if let export, parameter.type.name == "secret" {
                return (
                    "puts a secret into the export '\(export)', which is sent to the nodes of every service that "
                        + "depends on this one", "secrets go only to the nodes whose own services use them"
                )
            }
            return nil
        case _ where reference.filter != nil:
            return ("applies '\(reference.filter!)' to something other than a secret parameter", nil)
        case "proxy":
            guard blueprint.proxy != nil else {
                return (
                    "is for a proxy's blueprint: \(blueprint.name.value) has no proxy section",
                    "a blueprint with proxy: {https: PORT, http: PORT} gets its site's routes as {{ proxy.servers }}"
                )
            }
            guard path == ["proxy", "servers"] else { return ("names nothing known", "proxy has: proxy.servers") }
            return nil
        case "dep":
            guard export == nil else {
                return ("cannot be used in an export: exports may not depend on other services", nil)
            }
            guard path.count == 3 else { return ("must look like dep.DEPENDENCY.EXPORT", nil) }
            guard let dependency = blueprint.dependencies.first(where: { $0.name.value == path[1] }) else {
                return (
                    "names a dependency that blueprint '\(blueprint.name.value)' does not declare",
                    Suggestion.hint(for: path[1], in: blueprint.dependencies.map(\.name.value))
                )
            }
            guard let provider = workspace.blueprints[dependency.blueprint.value],
                !provider.exports.contains(where: { $0.name.value == path[2] })
            else { return nil }
            return (
                "names an export that blueprint '\(provider.name.value)' does not declare",
                Suggestion.hint(for: path[2], in: provider.exports.map(\.name.value))
            )
        default:
            guard let fields = Self.fixedReferences[path[0]] else {
                let namespaces = ["param", "dep", "proxy"] + Self.fixedReferences.keys.sorted()
                return ("uses an unknown namespace '\(path[0])'", Suggestion.hint(for: path[0], in: namespaces))
            }
            guard path.count == 2, fields.contains(path[1]) else {
                return (
                    "names nothing known",
                    "\(path[0]) has: " + fields.map { "\(path[0]).\($0)" }.joined(separator: ", ")
                )
            }
            return nil
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
        var reportedCycles = Set<String>()
        for name in workspace.environmentNames {
            guard let environment = workspace.environments[name], let target = environment.promotesTo else { continue }
            if target.value == name {
                sink.error("environment '\(name)' promotes to itself", at: target.location)
                continue
            }
            if workspace.brokenEnvironments.contains(target.value) { continue }
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
                    if current == name, reportedCycles.insert(chain.sorted().joined(separator: ",")).inserted {
                        sink.error(
                            "environments promote in a circle: \((chain + [current]).joined(separator: " → "))",
                            at: target.location, hint: "the last stage promotes to nothing; remove its promotes_to")
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
