import StellwerkAPI

/// Places every site's services on its nodes, fills in parameters, resolves dependencies to the values
/// their providers export, and renders every template.
package struct EnvironmentResolver: Sendable {
    package var workspace: Workspace

    package init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// Resolves a loaded environment by name; throws when it does not exist or does not resolve.
    package func resolve(_ name: String) throws(ValidationFailure) -> ResolvedEnvironment {
        guard let environment = workspace.environments[name] else {
            let hint = Suggestion.hint(for: name, in: workspace.environmentNames)
            throw ValidationFailure(diagnostics: [
                Diagnostic(
                    at: .file(WorkspaceLoader.environmentsFolder), "there is no environment '\(name)'", hint: hint)
            ])
        }
        let sink = DiagnosticSink()
        guard let resolved = resolve(environment, sink: sink), !sink.collector.hasErrors else {
            throw ValidationFailure(diagnostics: sink.collector.sorted)
        }
        return resolved
    }

    /// One site's use of a blueprint, with its final parameters and the nodes it runs on.
    private struct Placement {
        var site: SiteDefinition
        var assignment: ServiceAssignment
        var blueprint: Blueprint
        var parameters: [String: ResolvedParameter]
        var nodes: [NodeDefinition]
    }

    func resolve(_ environment: EnvironmentDefinition, sink: DiagnosticSink) -> ResolvedEnvironment? {
        let errorsBefore = sink.collector.diagnostics.count
        checkNodes(of: environment, sink: sink)

        // Each stage goes on with what the earlier ones could place, so one run reports every problem;
        // what is already reported (a broken blueprint, site or service) is not reported again.
        var placements: [Placement] = []
        var declared = Set<String>()  // "site/blueprint" of every service whose blueprint exists
        for site in environment.sites {
            for assignment in site.services {
                if workspace.blueprints[assignment.blueprint.value] != nil {
                    declared.insert("\(site.name.value)/\(assignment.blueprint.value)")
                }
                if let placement = place(assignment, at: site, in: environment, sink: sink) {
                    placements.append(placement)
                }
            }
        }

        // Dependencies: each consumer's provider, found at its own site or the one the site names.
        var providers: [String: [String: Int]] = [:]  // "site/service" → dependency name → placement index
        var unresolved = Set<String>()  // "site/service" whose dependencies could not all be found
        for placement in placements {
            var resolved: [String: Int] = [:]
            let consumer = "\(placement.site.name.value)/\(placement.assignment.name.value)"
            for dependency in placement.blueprint.dependencies {
                let override = placement.assignment.dependencySites.first { $0.name.value == dependency.name.value }
                let providerSite = override?.site.value ?? placement.site.name.value
                let candidates = placements.indices.filter {
                    placements[$0].site.name.value == providerSite
                        && placements[$0].blueprint.name.value == dependency.blueprint.value
                }
                let at = override?.site.location ?? placement.assignment.name.location
                switch candidates.count {
                case 1:
                    resolved[dependency.name.value] = candidates[0]
                case 0:
                    unresolved.insert(consumer)
                    if declared.contains("\(providerSite)/\(dependency.blueprint.value)")
                        || workspace.brokenBlueprints.contains(dependency.blueprint.value)
                        || environment.brokenSites.contains(providerSite)
                        || !environment.sites.contains(where: { $0.name.value == providerSite })
                    {
                        continue  // the provider's own problem, or the unknown site, is reported already
                    }
                    sink.error(
                        "service '\(placement.assignment.name.value)' at site '\(placement.site.name.value)' needs '\(dependency.blueprint.value)', but site '\(providerSite)' runs none",
                        at: at,
                        hint: override == nil
                            ? "run it here, or name the site that serves it: dependencies: {\(dependency.name.value): {site: SITE}}"
                            : "run '\(dependency.blueprint.value)' at '\(providerSite)' or name another site")
                default:
                    unresolved.insert(consumer)
                    sink.error(
                        "service '\(placement.assignment.name.value)' at site '\(placement.site.name.value)' needs '\(dependency.blueprint.value)', and site '\(providerSite)' runs it \(candidates.count) times; Stellwerk cannot tell which",
                        at: at, hint: "run it once at that site")
                }
            }
            providers[consumer] = resolved
        }

        var exportCache: [Int: [String: String]] = [:]
        func exports(of index: Int) -> [String: String] {
            if let cached = exportCache[index] { return cached }
            let provider = placements[index]
            var values: [String: String] = [:]
            if let node = provider.nodes.first {
                for (name, template) in provider.blueprint.exports {
                    values[name.value] = render(template, placement: provider, node: node, environment: environment) {
                        _ in ""
                    }
                }
            }
            exportCache[index] = values
            return values
        }

        let routesBySite = routes(of: placements, in: environment, sink: sink)

        // Instances, per node.
        var instancesByNode: [String: [ResolvedInstance]] = [:]  // by "site/node"
        for placement in placements {
            let consumer = "\(placement.site.name.value)/\(placement.assignment.name.value)"
            guard !unresolved.contains(consumer) else { continue }
            let dependencyIndex = providers[consumer] ?? [:]
            for node in placement.nodes {
                var instance = makeInstance(
                    placement, node: node, environment: environment,
                    routes: routesBySite[placement.site.name.value] ?? []
                ) { reference in
                    guard reference.path.count == 3, let index = dependencyIndex[reference.path[1]] else { return "" }
                    return exports(of: index)[reference.path[2]] ?? ""
                }
                // Providers on this very node start first; the others are the network's business.
                instance.startsAfter = dependencyIndex.values.map { placements[$0] }.filter { provider in
                    provider.site.name.value == placement.site.name.value
                        && provider.nodes.contains { $0.name.value == node.name.value }
                }.map(\.assignment.name.value).sorted()
                instancesByNode["\(placement.site.name.value)/\(node.name.value)", default: []].append(instance)
            }
        }
        checkPorts(instancesByNode, placements: placements, environment: environment, sink: sink)
        guard sink.collector.diagnostics.count == errorsBefore, environment.brokenSites.isEmpty else { return nil }

        let sites = environment.sites.map { site in
            ResolvedSite(
                name: site.name.value, displayName: site.displayName,
                nodes: site.nodes.sorted { $0.name.value < $1.name.value }.map { node in
                    ResolvedNode(
                        name: node.name.value, address: node.address.value, labels: node.labels,
                        instances: (instancesByNode["\(site.name.value)/\(node.name.value)"] ?? []).sorted {
                            $0.service < $1.service
                        }, push: site.pushTarget(for: node))
                },
                maintenanceWindows: site.maintenanceWindows, routes: routesBySite[site.name.value] ?? [])
        }
        return ResolvedEnvironment(definition: environment, sites: sites)
    }

    // MARK: Checks

    private func checkNodes(of environment: EnvironmentDefinition, sink: DiagnosticSink) {
        var names: [String: String] = [:]
        var addresses: [String: String] = [:]
        for site in environment.sites {
            for node in site.nodes {
                if let other = names[node.name.value] {
                    sink.error(
                        "node '\(node.name.value)' is already declared at site '\(other)' of environment '\(environment.name.value)'",
                        at: node.name.location, hint: "node names are unique within an environment")
                } else {
                    names[node.name.value] = site.name.value
                }
                if let other = addresses[node.address.value] {
                    sink.error(
                        "node '\(node.name.value)' has the address \(node.address.value), which node '\(other)' already has",
                        at: node.address.location)
                } else {
                    addresses[node.address.value] = node.name.value
                }
            }
        }
    }

    private func place(
        _ assignment: ServiceAssignment, at site: SiteDefinition, in environment: EnvironmentDefinition,
        sink: DiagnosticSink
    ) -> Placement? {
        let where_ = "service '\(assignment.name.value)' at site '\(site.name.value)'"
        guard let blueprint = workspace.blueprints[assignment.blueprint.value] else {
            if workspace.brokenBlueprints.contains(assignment.blueprint.value) { return nil }
            sink.error(
                "\(where_) uses the blueprint '\(assignment.blueprint.value)', which does not exist",
                at: assignment.blueprint.location,
                hint: Suggestion.hint(for: assignment.blueprint.value, in: workspace.blueprints.keys.sorted()))
            return nil
        }
        var ok = true
        var parameters: [String: ResolvedParameter] = [:]
        for (name, input) in assignment.parameters {
            guard let definition = blueprint.parameter(named: name.value) else {
                if blueprint.brokenParameters.contains(name.value) {
                    ok = false
                    continue
                }
                sink.error(
                    "\(where_) sets '\(name.value)', which blueprint '\(blueprint.name.value)' does not declare",
                    at: name.location,
                    hint: Suggestion.hint(for: name.value, in: blueprint.parameters.map(\.name.value)))
                ok = false
                continue
            }
            switch input {
            case .plain(let scalar):
                switch definition.type.canonicalValue(of: scalar.text) {
                case .success(let value):
                    parameters[name.value] = .value(value)
                case .failure(let problem):
                    let shown = definition.type.showsValues ? "'\(Diagnostic.printable(scalar.text))'" : "the value"
                    sink.error(
                        "\(shown) of parameter '\(name.value)' (\(definition.type.name)) \(problem.message)",
                        at: scalar.location, hint: problem.hint, masksValue: !definition.type.showsValues)
                    ok = false
                }
            case .secret(let secret):
                guard definition.type.acceptsSecretReference else {
                    sink.error(
                        "parameter '\(name.value)' is of type \(definition.type.name) and takes a plain value, not a secret reference",
                        at: secret.location)
                    ok = false
                    continue
                }
                parameters[name.value] = .secret(secret.value)
            case .file(let written, let path):
                guard case .text = definition.type else {
                    sink.error(
                        "parameter '\(name.value)' is of type \(definition.type.name) and takes a value, not a file",
                        at: written.location, hint: "only parameters of type text are read from files")
                    ok = false
                    continue
                }
                // A file that could not be read is reported by the loader already.
                guard let text = workspace.parameterFiles[path] else {
                    ok = false
                    continue
                }
                switch definition.type.canonicalValue(of: text) {
                case .success(let value):
                    parameters[name.value] = .value(value)
                case .failure(let problem):
                    sink.error(
                        "the file \(path) of parameter '\(name.value)' (text) \(problem.message)", at: written.location,
                        hint: problem.hint)
                    ok = false
                }
            }
        }
        for definition in blueprint.parameters where parameters[definition.name.value] == nil {
            if let value = definition.defaultValue {
                parameters[definition.name.value] = .value(value)
            } else if definition.required {
                if assignment.parameters.contains(where: { $0.name.value == definition.name.value })
                    || assignment.brokenParameters.contains(definition.name.value)
                {
                    ok = false
                    continue
                }
                sink.error(
                    "\(where_) needs a value for the required parameter '\(definition.name.value)' (\(definition.type.name))",
                    at: assignment.name.location,
                    hint: definition.type.acceptsSecretReference && definition.type.name == "secret"
                        ? "add under parameters: \(definition.name.value): {secret: NAME}"
                        : "add it under parameters:")
                ok = false
            } else {
                parameters[definition.name.value] = .unset
            }
        }
        // Exports go to the nodes of every dependant; a secret given for an exported parameter would too.
        for (exportName, template) in blueprint.exports {
            for reference in template.references where reference.path.count == 2 && reference.path[0] == "param" {
                // Parameters of type secret are refused in exports by the blueprint check already.
                guard case .secret? = parameters[reference.path[1]],
                    blueprint.parameter(named: reference.path[1])?.type.name != "secret",
                    let given = assignment.parameters.first(where: { $0.name.value == reference.path[1] }),
                    case .secret(let secret) = given.value
                else { continue }
                sink.error(
                    "\(where_) gives '\(reference.path[1])' as a secret, but blueprint '\(blueprint.name.value)' exports it "
                        + "as '\(exportName.value)' to every service that depends on it", at: secret.location,
                    hint: "give a value without credentials here")
                ok = false
            }
        }
        for override in assignment.dependencySites {
            if !blueprint.dependencies.contains(where: { $0.name.value == override.name.value }) {
                sink.error(
                    "\(where_) says where to find '\(override.name.value)', but blueprint '\(blueprint.name.value)' has no such dependency",
                    at: override.name.location,
                    hint: Suggestion.hint(for: override.name.value, in: blueprint.dependencies.map(\.name.value)))
                ok = false
            }
            if !environment.sites.contains(where: { $0.name.value == override.site.value }),
                !environment.brokenSites.contains(override.site.value)
            {
                sink.error(
                    "\(where_) finds '\(override.name.value)' at site '\(override.site.value)', which is not a site of environment '\(environment.name.value)'",
                    at: override.site.location,
                    hint: Suggestion.hint(for: override.site.value, in: environment.sites.map(\.name.value)))
                ok = false
            }
        }
        let labels = assignment.placement ?? blueprint.placement
        let nodes = site.nodes.filter { node in labels.allSatisfy { node.labels[$0.key.value] == $0.value.value } }
            .sorted { $0.name.value < $1.name.value }
        if nodes.isEmpty, !site.nodes.isEmpty {
            let wanted = labels.map { "\($0.key.value)=\($0.value.value)" }.joined(separator: ", ")
            let have = site.nodes.map { node in
                "\(node.name.value) has "
                    + (node.labels.isEmpty
                        ? "no labels"
                        : node.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
            }.joined(separator: "; ")
            sink.error(
                "\(where_) must run on nodes labelled \(wanted), and site '\(site.name.value)' has none",
                at: assignment.placement?.first?.key.location ?? assignment.name.location,
                hint: have)
            ok = false
        }
        guard ok else { return nil }
        return Placement(site: site, assignment: assignment, blueprint: blueprint, parameters: parameters, nodes: nodes)
    }

    private func checkPorts(
        _ instancesByNode: [String: [ResolvedInstance]], placements: [Placement], environment: EnvironmentDefinition,
        sink: DiagnosticSink
    ) {
        for site in environment.sites {
            for node in site.nodes {
                var claimed: [Int: String] = [:]
                for instance in (instancesByNode["\(site.name.value)/\(node.name.value)"] ?? []).sorted(by: {
                    $0.service < $1.service
                }) {
                    for (portName, port) in instance.ports.sorted(by: { $0.key < $1.key }) {
                        if let other = claimed[port] {
                            let location =
                                site.services.first { $0.name.value == instance.service }?.name.location
                                ?? node.name.location
                            sink.error(
                                "services '\(other)' and '\(instance.service)' both claim port \(port) on node '\(node.name.value)'",
                                at: location,
                                hint: "set another value for the '\(portName)' port's parameter on one of them")
                        } else {
                            claimed[port] = instance.service
                        }
                    }
                }
            }
        }
    }

    // MARK: Public routes

    /// The value of the port named `name` on `placement`'s instances.
    private func port(_ name: Located<String>, of placement: Placement) -> Int? {
        guard let parameter = placement.blueprint.port(named: name.value),
            case .value(let text)? = placement.parameters[parameter.value]
        else { return nil }
        return Int(text)
    }

    /// Per site with a proxy, the routes of its public services. Each address is checked: HTTPS on
    /// the port the proxy listens on, a host and path the proxy's config can hold, and served once in
    /// the environment.
    private func routes(
        of placements: [Placement], in environment: EnvironmentDefinition, sink: DiagnosticSink
    ) -> [String: [ResolvedRoute]] {
        var routesBySite: [String: [ResolvedRoute]] = [:]
        var served: [String: String] = [:]  // "host:port/path" → "service 'x' at site 'y'"
        for site in environment.sites {
            let here = placements.filter { $0.site.name.value == site.name.value }
            let proxies = here.filter { $0.blueprint.proxy != nil }
            for extra in proxies.dropFirst() {
                sink.error(
                    "site '\(site.name.value)' runs a second proxy, '\(extra.assignment.name.value)', beside '\(proxies[0].assignment.name.value)'",
                    at: extra.assignment.name.location, hint: "one proxy serves all of a site's public addresses")
            }
            guard let proxy = proxies.first, let proxyDefinition = proxy.blueprint.proxy,
                let httpsPort = port(proxyDefinition.https, of: proxy)
            else { continue }
            var routes: [ResolvedRoute] = []
            for placement in here {
                guard let definition = placement.blueprint.publicRoute else { continue }
                let service = "service '\(placement.assignment.name.value)' at site '\(site.name.value)'"
                let location =
                    placement.assignment.parameters.first { $0.name.value == definition.url.value }?.name.location
                    ?? placement.assignment.name.location
                guard case .value(let text)? = placement.parameters[definition.url.value] else {
                    sink.error(
                        "\(service) has no public address, and site '\(site.name.value)' serves its services through its proxy",
                        at: location,
                        hint: "set its parameter \(definition.url.value) to https://HOST/ or https://HOST/PATH")
                    continue
                }
                guard let address = PublicAddress.parse(text) else {
                    sink.error(
                        "\(service): the proxy cannot serve '\(text)'", at: location,
                        hint:
                            "write https://HOST[:PORT][/PATH], with a host of letters, digits, dots and dashes and a path of letters, digits and -._~/"
                    )
                    continue
                }
                guard address.scheme == "https" else {
                    sink.error(
                        "\(service) is public at '\(text)', and site '\(site.name.value)'s proxy serves HTTPS only",
                        at: location, hint: "write https://\(address.host)\(address.path)")
                    continue
                }
                guard (address.port ?? 443) == httpsPort else {
                    sink.error(
                        "\(service) is public at '\(text)', on port \(address.port ?? 443), and site '\(site.name.value)'s proxy listens for HTTPS on \(httpsPort)",
                        at: location)
                    continue
                }
                let key = "\(address.host):\(httpsPort)\(address.path)/"
                if let first = served[key] {
                    sink.error(
                        "https://\(key) is served twice: by \(first) and by \(service)", at: location,
                        hint: "give one of them another host or path")
                    continue
                }
                served[key] = service
                guard let upstreamPort = port(definition.port, of: placement) else { continue }
                routes.append(
                    ResolvedRoute(
                        service: placement.assignment.name.value, host: address.host, port: httpsPort,
                        path: address.path,
                        upstreams: placement.nodes.map { "\($0.address.value):\(upstreamPort)" }.sorted(),
                        maxBodyBytes: definition.maxBodyBytes, requestsPerSecond: definition.requestsPerSecond))
            }
            routesBySite[site.name.value] = routes.sorted { ($0.host, $0.path) < ($1.host, $1.path) }
        }
        return routesBySite
    }

    // MARK: Rendering

    private func makeInstance(
        _ placement: Placement, node: NodeDefinition, environment: EnvironmentDefinition, routes: [ResolvedRoute],
        dependency: (Template.Reference) -> String
    ) -> ResolvedInstance {
        let blueprint = placement.blueprint
        func rendered(_ template: Template) -> String {
            render(template, placement: placement, node: node, environment: environment, dependency: dependency) {
                guard let proxy = blueprint.proxy, let https = port(proxy.https, of: placement),
                    let http = port(proxy.http, of: placement)
                else { return "" }
                return NginxServers.render(
                    routes, site: placement.site.name.value, address: node.address.value, httpsPort: https,
                    httpPort: http)
            }
        }
        let configFiles = blueprint.configFiles.map { file in
            let content = rendered(file.template)
            // A file holding a secret is readable by its owner only, whatever the blueprint says.
            let mode = content.contains("{{secret:") ? (file.mode & 0o700) | 0o400 : file.mode
            return ConfigFile(path: file.path.value, mode: mode, content: content, sha256: Digest.sha256(content))
        }.sorted { $0.path < $1.path }
        var ports: [String: Int] = [:]
        for (name, _) in blueprint.ports {
            if let number = port(name, of: placement) { ports[name.value] = number }
        }
        let probe: HealthCheckSpec.Probe
        switch blueprint.health.probe {
        case .http(let port, let path, let status):
            probe = .http(port: ports[port.value] ?? 0, path: path, status: status)
        case .tcp(let port): probe = .tcp(port: ports[port.value] ?? 0)
        case .command(let command): probe = .command(command)
        }
        let health = HealthCheckSpec(
            probe: probe, intervalSeconds: blueprint.health.interval.seconds,
            timeoutSeconds: blueprint.health.timeout.seconds, retries: blueprint.health.retries,
            startPeriodSeconds: blueprint.health.startPeriod.seconds)
        return ResolvedInstance(
            service: placement.assignment.name.value, blueprint: blueprint.name.value,
            component: blueprint.component.releaseName(blueprint: blueprint.name.value),
            source: blueprint.component.source, executable: blueprint.component.executable,
            arguments: blueprint.component.arguments.map(rendered), configFiles: configFiles,
            parameters: placement.parameters, ports: ports, health: health, migrations: blueprint.migrations,
            stopGraceSeconds: blueprint.stopGrace.seconds, user: blueprint.user)
    }

    private func render(
        _ template: Template, placement: Placement, node: NodeDefinition, environment: EnvironmentDefinition,
        dependency: (Template.Reference) -> String, proxyServers: () -> String = { "" }
    ) -> String {
        template.render { reference in
            let path = reference.path
            switch (path[0], path.count > 1 ? path[1] : "") {
            case ("param", let name):
                switch placement.parameters[name] {
                case .value(let value)?: return value
                case .secret(let secret)?: return "{{secret:\(secret)\(reference.filter.map { "|" + $0 } ?? "")}}"
                case .unset?, nil: return ""
                }
            case ("dep", _): return dependency(reference)
            case ("node", "name"): return node.name.value
            case ("node", "address"): return node.address.value
            case ("site", "name"): return placement.site.name.value
            case ("site", "display_name"): return placement.site.displayName
            case ("environment", "name"): return environment.name.value
            case ("instance", "name"): return placement.assignment.name.value
            case ("proxy", "servers"): return proxyServers()
            default: return ""
            }
        }
    }
}
