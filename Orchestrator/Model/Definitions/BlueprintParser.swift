/// Reads a blueprint document, reporting every problem to the sink.
struct BlueprintParser {
    let file: String
    let sink: DiagnosticSink

    static let topLevelKeys = [
        "name", "description", "component", "parameters", "config", "health", "migrations", "dependencies",
        "exports", "ports", "placement", "stop_grace", "user", "public", "proxy",
    ]

    func parse(_ root: YAMLNode) -> Blueprint? {
        guard let fields = MappingFields(root, context: "the blueprint", allowed: Self.topLevelKeys, sink: sink) else {
            return nil
        }
        let name = fields.name("name", required: true)
        let context = "blueprint '\(name?.value ?? "?")'"
        let description = fields.string("description", required: true)?.value ?? ""
        let component = fields.node("component", required: true).flatMap { parseComponent($0, context: context) }
        let parameterPairs = fields.entries("parameters") ?? []
        let parameters = parameterPairs.compactMap { parseParameter($0, context: context) }
        // Parameters that are declared but broken are reported once, here, not again at every use.
        let brokenParameters = Set(parameterPairs.map(\.key.text)).subtracting(parameters.map(\.name.value))
        let configFiles = (fields.list("config") ?? []).compactMap { parseConfigFile($0, context: context) }
        let health = fields.node("health", required: true).flatMap { parseHealth($0, context: context) }
        var migrations = fields.node("migrations").flatMap { parseMigrations($0, context: context) }
        migrations?.databases = parameters.filter {
            if case .databaseURL = $0.type { return true }
            return false
        }.map(\.name.value).sorted()
        let dependencies = (fields.list("dependencies") ?? []).compactMap { parseDependency($0, context: context) }
        var exports: [(name: Located<String>, value: Template)] = []
        for pair in fields.entries("exports") ?? [] {
            guard let exportName = MappingFields.name(pair.key, what: "an export name in \(context)", sink: sink),
                let scalar = MappingFields.scalar(pair.value, what: "export '\(pair.key.text)'", sink: sink),
                let template = Template.parse(scalar, sink: sink)
            else { continue }
            exports.append((exportName, template))
        }
        var ports: [(name: Located<String>, parameter: Located<String>)] = []
        for pair in fields.entries("ports") ?? [] {
            guard let portName = MappingFields.name(pair.key, what: "a port name in \(context)", sink: sink),
                let scalar = MappingFields.scalar(pair.value, what: "port '\(pair.key.text)'", sink: sink),
                let parameter = MappingFields.name(scalar, what: "the parameter of port '\(pair.key.text)'", sink: sink)
            else { continue }
            ports.append((portName, parameter))
        }
        var placement: [(key: Located<String>, value: Located<String>)] = []
        if let node = fields.node("placement"),
            let placementFields = MappingFields(
                node, context: "placement of \(context)", allowed: ["labels"], sink: sink)
        {
            placement = placementFields.stringMap("labels", required: true) ?? []
        }
        let stopGrace = fields.timeSpan("stop_grace")?.value ?? TimeSpan(seconds: 10)
        let user = fields.name("user")?.value
        let publicRoute = fields.node("public").flatMap { parsePublicRoute($0, context: context) }
        let proxy = fields.node("proxy").flatMap { parseProxy($0, context: context) }
        guard let name, let component, let health else { return nil }
        return Blueprint(
            name: name, file: file, description: description, component: component, parameters: parameters,
            configFiles: configFiles, health: health, migrations: migrations, dependencies: dependencies,
            exports: exports, ports: ports, placement: placement, stopGrace: stopGrace, user: user,
            brokenParameters: brokenParameters, publicRoute: publicRoute, proxy: proxy)
    }

    // MARK: Parts

    private func parseComponent(_ node: YAMLNode, context: String) -> Component? {
        guard
            let fields = MappingFields(
                node, context: "component of \(context)",
                allowed: ["product", "artifact", "package", "executable", "args"], sink: sink)
        else { return nil }
        let arguments = (fields.list("args") ?? []).compactMap { item -> Template? in
            guard let scalar = MappingFields.scalar(item, what: "an argument in \(context)", sink: sink) else {
                return nil
            }
            return Template.parse(scalar, sink: sink)
        }
        let executableField = fields.string("executable")
        if fields.has("package") {
            return parsePackageComponent(fields, executable: executableField, arguments: arguments, context: context)
        }
        if let executable = executableField, !Self.isInsideFolder(executable.value) {
            sink.error(
                "the executable '\(executable.value)' must be a path inside the artifact", at: executable.location,
                hint: "use a relative path without '..', such as bin/server")
            return nil
        }
        switch (fields.name("product"), fields.node("artifact")) {
        case (let product?, nil):
            let executable = executableField?.value ?? product.value
            return Component(
                source: .product(product.value), executable: executable, arguments: arguments, location: fields.location
            )
        case (nil, let artifact?):
            // Pinned: url and sha256. Unpinned (no sha256): every release carries it (`stellwerk
            // release create --artifact BLUEPRINT=FILE`), so the release stays the one lock of its digest.
            guard
                let artifactFields = MappingFields(
                    artifact, context: "artifact of \(context)", allowed: ["url", "sha256"], sink: sink)
            else { return nil }
            let digest = artifactFields.string("sha256", required: false)
            // A pinned artifact is downloaded from its url; an unpinned one comes from the orchestrator.
            let url = artifactFields.string("url", required: digest != nil)
            if digest != nil, url == nil { return nil }
            if let url {
                guard let parsed = SimpleURL(url.value), ["https", "http"].contains(parsed.scheme) else {
                    sink.error(
                        "the artifact url '\(SimpleURL.redacted(url.value))' is not an http(s) URL", at: url.location)
                    return nil
                }
                guard !parsed.hasPassword else {
                    sink.error(
                        "the artifact url '\(SimpleURL.redacted(url.value))' holds a password", at: url.location,
                        hint: "blueprints and plans are read by many; pin the artifact by its sha256 on a public URL",
                        masksValue: true)
                    return nil
                }
            }
            if let digest, digest.value.count != 64 || !digest.value.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
                sink.error(
                    "sha256 must be 64 lowercase hex digits, found '\(digest.value)'", at: digest.location,
                    hint: "compute it with: sha256sum FILE; or leave it out, and each release carries the artifact")
                return nil
            }
            guard let executable = executableField else {
                sink.error("missing key 'executable' in component of \(context)", at: fields.location)
                return nil
            }
            return Component(
                source: .external(url: url?.value, sha256: digest?.value),
                executable: executable.value, arguments: arguments, location: fields.location)
        case (.some, .some):
            sink.error("component of \(context) names both a product and an artifact; give one", at: fields.location)
            return nil
        case (nil, nil):
            if !fields.has("product") {
                sink.error(
                    "component of \(context) needs 'product' (built from this repository), 'artifact' (url and sha256)"
                        + " or 'package' (a Debian package of the node)",
                    at: fields.location)
            }
            return nil
        }
    }

    /// `package: mosquitto` with `executable: /usr/sbin/mosquitto`: a program from the node's Debian
    /// packages.
    private func parsePackageComponent(
        _ fields: MappingFields, executable: Located<String>?, arguments: [Template], context: String
    ) -> Component? {
        guard let package = fields.string("package") else { return nil }
        if fields.has("product") || fields.has("artifact") {
            sink.error(
                "component of \(context) names a package and also a product or an artifact; give one",
                at: fields.location)
            return nil
        }
        guard Self.isDebianPackageName(package.value) else {
            sink.error(
                "'\(package.value)' is not a Debian package name", at: package.location,
                hint: "lowercase letters, digits and + - . , at least two characters, such as mosquitto")
            return nil
        }
        guard let executable else {
            sink.error(
                "missing key 'executable' in component of \(context): the program the package \(package.value) installs",
                at: fields.location, hint: "such as executable: /usr/sbin/\(package.value)")
            return nil
        }
        guard executable.value.hasPrefix("/"), Self.isInsideFolder(String(executable.value.dropFirst())) else {
            sink.error(
                "the executable '\(executable.value)' of the package \(package.value) must be an absolute path without '..'",
                at: executable.location, hint: "such as /usr/sbin/\(package.value)")
            return nil
        }
        return Component(
            source: .package(package.value), executable: executable.value, arguments: arguments,
            location: fields.location)
    }

    /// Debian policy 5.6.1: lowercase letters, digits, `+`, `-` and `.`, starting with a letter or
    /// digit, at least two characters.
    static func isDebianPackageName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (2...100).contains(bytes.count) else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        return alphanumeric(bytes[0])
            && bytes.allSatisfy {
                alphanumeric($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
            }
    }

    private static let parameterKeys = [
        "type", "default", "required", "description", "pattern", "min_length", "max_length", "min", "max", "values",
        "schemes", "format",
    ]

    private func parseParameter(_ pair: YAMLPair, context: String) -> ParameterDefinition? {
        guard let name = MappingFields.name(pair.key, what: "a parameter name in \(context)", sink: sink),
            let fields = MappingFields(
                pair.value, context: "parameter '\(name.value)' of \(context)", allowed: Self.parameterKeys, sink: sink),
            let typeName = fields.string("type", required: true)
        else { return nil }
        let where_ = "parameter '\(name.value)'"
        func refuse(_ keys: [String]) {
            for key in keys where fields.has(key) {
                sink.error(
                    "'\(key)' does not apply to \(where_) of type \(typeName.value)", at: fields.keyLocation(key))
            }
        }
        let type: ParameterType
        switch typeName.value {
        case "string":
            refuse(["min", "max", "values", "schemes"])
            let pattern = fields.string("pattern")
            if let pattern, (try? Regex(pattern.value)) == nil {
                sink.error("the pattern of \(where_) is not a valid regular expression", at: pattern.location)
            }
            let minLength = fields.int("min_length", range: 0...1_000_000)
            let maxLength = fields.int("max_length", range: 0...1_000_000)
            if let minLength, let maxLength, minLength.value > maxLength.value {
                sink.error("min_length of \(where_) is larger than its max_length", at: minLength.location)
            }
            type = .string(pattern: pattern?.value, minLength: minLength?.value, maxLength: maxLength?.value)
        case "int":
            refuse(["pattern", "min_length", "max_length", "values", "schemes"])
            let min = fields.int("min")
            let max = fields.int("max")
            if let min, let max, min.value > max.value {
                sink.error("min of \(where_) is larger than its max", at: min.location)
            }
            type = .int(min: min?.value, max: max?.value)
        case "bool":
            refuse(["pattern", "min_length", "max_length", "min", "max", "values", "schemes"])
            type = .bool
        case "port":
            refuse(["pattern", "min_length", "max_length", "min", "max", "values", "schemes"])
            type = .port
        case "duration":
            refuse(["pattern", "min_length", "max_length", "values", "schemes"])
            let min = fields.timeSpan("min")
            let max = fields.timeSpan("max")
            if let min, let max, min.value > max.value {
                sink.error("min of \(where_) is longer than its max", at: min.location)
            }
            type = .duration(min: min?.value, max: max?.value)
        case "url":
            refuse(["pattern", "min_length", "max_length", "min", "max", "values"])
            type = .url(schemes: schemes(fields, allowed: nil) ?? ["http", "https"])
        case "enum":
            refuse(["pattern", "min_length", "max_length", "min", "max", "schemes"])
            let values = fields.strings("values", required: true)?.map(\.value) ?? []
            if fields.has("values"), values.isEmpty {
                sink.error("\(where_) of type enum needs at least one value", at: fields.keyLocation("values"))
            }
            type = .enumeration(values)
        case "secret":
            refuse(["pattern", "min_length", "max_length", "min", "max", "values", "schemes"])
            type = .secret
        case "database_url":
            refuse(["pattern", "min_length", "max_length", "min", "max", "values"])
            type = .databaseURL(schemes: schemes(fields, allowed: ["sqlite", "postgres"]) ?? ["sqlite", "postgres"])
        case "text":
            refuse(["pattern", "min_length", "min", "max", "values", "schemes"])
            let maxLength = fields.int("max_length", range: 0...ParameterType.textLimit)
            var format: TextFormat?
            if let name = fields.string("format") {
                format = TextFormat(rawValue: name.value)
                if format == nil {
                    sink.error(
                        "'\(name.value)' is not a format of \(where_)", at: name.location,
                        hint: "formats: " + TextFormat.allCases.map(\.rawValue).joined(separator: ", "))
                }
            }
            type = .text(maxLength: maxLength?.value ?? ParameterType.textLimit, format: format)
        default:
            sink.error(
                "unknown parameter type '\(typeName.value)' for \(where_)", at: typeName.location,
                hint: Suggestion.hint(for: typeName.value, in: ParameterType.names))
            return nil
        }
        if fields.has("format"), typeName.value != "text" {
            sink.error(
                "'format' does not apply to \(where_) of type \(typeName.value)", at: fields.keyLocation("format"))
        }
        var defaultValue: String?
        if let node = fields.node("default") {
            if case .secret = type {
                sink.error(
                    "\(where_) is a secret and cannot have a default", at: node.location,
                    hint: "each site gives its own reference: {secret: NAME}")
            } else if let scalar = MappingFields.scalar(node, what: "the default of \(where_)", sink: sink) {
                switch type.canonicalValue(of: scalar.text) {
                case .success(let canonical): defaultValue = canonical
                case .failure(let problem):
                    let shown =
                        type.showsValues
                        ? "'\(Diagnostic.printable(scalar.text))'" : "'\(SimpleURL.redacted(scalar.text))'"
                    sink.error(
                        "the default \(shown) of \(where_) \(problem.message)", at: scalar.location, hint: problem.hint,
                        masksValue: !type.showsValues)
                    return nil  // reported once here; the parameter counts as broken, not as optional
                }
            }
        }
        let required = fields.bool("required")
        if let required, required.value, fields.has("default") {
            sink.error("\(where_) is required and has a default; a default makes it optional", at: required.location)
        }
        // Reported once at the key; the parameter counts as broken, so its sites get no follow-on errors.
        guard !fields.hasUnknownKeys else { return nil }
        return ParameterDefinition(
            name: name, type: type, defaultValue: defaultValue,
            required: required?.value ?? !fields.has("default"),
            description: fields.string("description")?.value)
    }

    /// The `schemes` of a url or database_url parameter, lowercased and checked against `allowed`.
    private func schemes(_ fields: MappingFields, allowed: [String]?) -> [String]? {
        guard let entries = fields.strings("schemes") else { return nil }
        if entries.isEmpty {
            sink.error("schemes must name at least one scheme", at: fields.keyLocation("schemes"))
        }
        for entry in entries {
            let scheme = entry.value.lowercased()
            if let allowed, !allowed.contains(scheme) {
                sink.error(
                    "'\(entry.value)' is not a database scheme Stellwerk knows", at: entry.location,
                    hint: "database_url schemes are " + allowed.joined(separator: " and "))
            } else if scheme.isEmpty
                || !scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
            {
                sink.error("'\(entry.value)' is not a URL scheme", at: entry.location)
            }
        }
        return entries.map { $0.value.lowercased() }
    }

    private func parseConfigFile(_ node: YAMLNode, context: String) -> ConfigTemplate? {
        guard
            let fields = MappingFields(
                node, context: "a config file of \(context)", allowed: ["path", "mode", "template"], sink: sink),
            let path = fields.string("path", required: true),
            let templateScalar = fields.scalar("template", required: true)
        else { return nil }
        guard Self.isInsideFolder(path.value), !path.value.hasSuffix("/") else {
            sink.error(
                "config path '\(path.value)' must stay inside the instance's folder", at: path.location,
                hint: "use a relative path without '..'")
            return nil
        }
        var mode = 0o644
        if let modeScalar = fields.scalar("mode") {
            guard (3...4).contains(modeScalar.text.count), let parsed = Int(modeScalar.text, radix: 8), parsed <= 0o777
            else {
                sink.error(
                    "mode must be octal permission bits such as 0640, found '\(modeScalar.text)'",
                    at: modeScalar.location)
                return nil
            }
            mode = parsed
        }
        guard let template = Template.parse(templateScalar, sink: sink) else { return nil }
        return ConfigTemplate(path: path, mode: mode, template: template)
    }

    /// A relative path that stays inside its folder: not empty, not absolute, no `..`.
    static func isInsideFolder(_ path: String) -> Bool {
        !path.isEmpty && !path.hasPrefix("/") && !path.split(separator: "/").contains("..")
            && !path.contains("\u{0}")
    }

    private func parseHealth(_ node: YAMLNode, context: String) -> HealthDefinition? {
        guard
            let fields = MappingFields(
                node, context: "health of \(context)",
                allowed: ["http", "tcp", "command", "interval", "timeout", "retries", "start_period"], sink: sink)
        else { return nil }
        let kinds = ["http", "tcp", "command"].filter { fields.has($0) }
        guard kinds.count == 1 else {
            sink.error(
                "health of \(context) needs exactly one of http, tcp or command, found \(kinds.isEmpty ? "none" : kinds.joined(separator: " and "))",
                at: fields.location)
            return nil
        }
        let probe: HealthDefinition.Probe
        switch kinds[0] {
        case "http":
            guard let node = fields.node("http"),
                let http = MappingFields(
                    node, context: "http health check", allowed: ["port", "path", "status"], sink: sink),
                let port = http.name("port", required: true)
            else { return nil }
            let path = http.string("path")?.value ?? "/health"
            guard path.hasPrefix("/") else {
                sink.error("the health check path must start with '/'", at: http.keyLocation("path"))
                return nil
            }
            probe = .http(port: port, path: path, status: http.int("status", range: 100...599)?.value ?? 200)
        case "tcp":
            guard let node = fields.node("tcp"),
                let tcp = MappingFields(node, context: "tcp health check", allowed: ["port"], sink: sink),
                let port = tcp.name("port", required: true)
            else { return nil }
            probe = .tcp(port: port)
        default:
            guard let command = fields.strings("command") else { return nil }
            guard !command.isEmpty else {
                sink.error("the health command must name a program to run", at: fields.keyLocation("command"))
                return nil
            }
            probe = .command(command.map(\.value))
        }
        let interval = fields.timeSpan("interval", allowZero: false)?.value ?? TimeSpan(seconds: 10)
        let timeout = fields.timeSpan("timeout", allowZero: false)?.value ?? TimeSpan(seconds: 2)
        if timeout > interval {
            sink.error(
                "the health timeout (\(timeout)) is longer than its interval (\(interval))",
                at: fields.keyLocation("timeout"))
        }
        return HealthDefinition(
            probe: probe, interval: interval, timeout: timeout,
            retries: fields.int("retries", range: 0...100)?.value ?? 3,
            startPeriod: fields.timeSpan("start_period")?.value ?? TimeSpan(seconds: 0), location: fields.location)
    }

    private func parseMigrations(_ node: YAMLNode, context: String) -> MigrationDefinition? {
        guard
            let fields = MappingFields(
                node, context: "migrations of \(context)", allowed: ["args", "backup", "reversible", "keep_backups"],
                sink: sink),
            let arguments = fields.strings("args", required: true)
        else { return nil }
        return MigrationDefinition(
            arguments: arguments.map(\.value), backup: fields.bool("backup")?.value ?? true,
            reversible: fields.bool("reversible")?.value ?? false,
            keepBackups: fields.int("keep_backups", range: 1...100)?.value)
    }

    private func parsePublicRoute(_ node: YAMLNode, context: String) -> PublicRouteDefinition? {
        guard
            let fields = MappingFields(
                node, context: "public of \(context)", allowed: ["url", "port", "max_body", "rate"], sink: sink),
            let url = fields.name("url", required: true), let port = fields.name("port", required: true)
        else { return nil }
        return PublicRouteDefinition(
            url: url, port: port, maxBodyBytes: fields.int("max_body", range: 1024...(1 << 30))?.value ?? 1 << 20,
            requestsPerSecond: fields.int("rate", range: 1...10_000)?.value ?? 20, location: fields.location)
    }

    private func parseProxy(_ node: YAMLNode, context: String) -> ProxyDefinition? {
        guard
            let fields = MappingFields(
                node, context: "proxy of \(context)", allowed: ["https", "http", "certificate", "key"], sink: sink),
            let https = fields.name("https", required: true), let http = fields.name("http", required: true),
            let certificate = fields.name("certificate", required: true), let key = fields.name("key", required: true)
        else { return nil }
        return ProxyDefinition(
            https: https, http: http, certificate: certificate, key: key, location: fields.location)
    }

    private func parseDependency(_ node: YAMLNode, context: String) -> DependencyDefinition? {
        guard
            let fields = MappingFields(
                node, context: "a dependency of \(context)", allowed: ["blueprint", "as"], sink: sink),
            let blueprint = fields.name("blueprint", required: true)
        else { return nil }
        return DependencyDefinition(name: fields.name("as") ?? blueprint, blueprint: blueprint)
    }
}
