import StellwerkAPI

/// Reads `environment.yaml` and site documents, reporting every problem to the sink.
struct EnvironmentParser {
    let sink: DiagnosticSink

    static let environmentKeys = ["name", "description", "promotes_to", "rollout", "promotion"]
    static let rolloutKeys = [
        "canary", "max_in_flight", "min_healthy_time", "healthy_deadline", "progress_deadline", "auto_rollback",
        "lost_after", "on_disconnected",
    ]
    static let promotionKeys = ["soak", "approvals", "windows", "canary_site", "max_sites_in_flight"]
    static let siteKeys = ["name", "display_name", "nodes", "services", "maintenance_windows", "ssh"]

    func parseEnvironment(_ root: YAMLNode, file: String, sites: [SiteDefinition]) -> EnvironmentDefinition? {
        guard let fields = MappingFields(root, context: "the environment", allowed: Self.environmentKeys, sink: sink)
        else { return nil }
        let name = fields.name("name", required: true)
        let context = "environment '\(name?.value ?? "?")'"
        var rollout = RolloutPolicy.defaults
        if let node = fields.node("rollout"),
            let policy = MappingFields(node, context: "rollout of \(context)", allowed: Self.rolloutKeys, sink: sink)
        {
            rollout = parseRollout(policy)
        }
        var promotion = PromotionGates.defaults
        if let node = fields.node("promotion"),
            let gates = MappingFields(node, context: "promotion of \(context)", allowed: Self.promotionKeys, sink: sink)
        {
            promotion.soak = gates.timeSpan("soak")?.value ?? promotion.soak
            promotion.approvals = gates.int("approvals", range: 0...10)?.value ?? promotion.approvals
            promotion.respectWindows = gates.bool("windows")?.value ?? promotion.respectWindows
            promotion.canarySite = gates.name("canary_site")
            promotion.maxSitesInFlight =
                gates.int("max_sites_in_flight", range: 1...1000)?.value ?? promotion.maxSitesInFlight
        }
        guard let name else { return nil }
        return EnvironmentDefinition(
            name: name, file: file, description: fields.string("description")?.value ?? "",
            promotesTo: fields.name("promotes_to"), rollout: rollout, promotion: promotion,
            sites: sites.sorted { $0.name.value < $1.name.value })
    }

    private func parseRollout(_ fields: MappingFields) -> RolloutPolicy {
        var policy = RolloutPolicy.defaults
        policy.canary = fields.int("canary", range: 0...10_000)?.value ?? policy.canary
        if let scalar = fields.scalar("max_in_flight") {
            if scalar.text.hasSuffix("%"), let percent = Int(scalar.text.dropLast()), (1...100).contains(percent) {
                policy.maxInFlight = .percent(percent)
            } else if let count = Int(scalar.text), count >= 1 {
                policy.maxInFlight = .count(count)
            } else {
                sink.error(
                    "max_in_flight must be a count of at least 1 or a percentage from 1% to 100%, found '\(scalar.text)'",
                    at: scalar.location)
            }
        }
        policy.minHealthyTime = fields.timeSpan("min_healthy_time")?.value ?? policy.minHealthyTime
        policy.healthyDeadline = fields.timeSpan("healthy_deadline", allowZero: false)?.value ?? policy.healthyDeadline
        policy.progressDeadline =
            fields.timeSpan("progress_deadline", allowZero: false)?.value ?? policy.progressDeadline
        policy.autoRollback = fields.bool("auto_rollback")?.value ?? policy.autoRollback
        policy.lostAfter = fields.timeSpan("lost_after", allowZero: false)?.value ?? policy.lostAfter
        if let scalar = fields.scalar("on_disconnected") {
            if let choice = RolloutPolicy.DisconnectedNodes(rawValue: scalar.text) {
                policy.onDisconnected = choice
            } else {
                sink.error(
                    "on_disconnected must be wait or skip, found '\(scalar.text)'", at: scalar.location,
                    hint: Suggestion.hint(for: scalar.text, in: ["wait", "skip"]))
            }
        }
        if policy.minHealthyTime >= policy.healthyDeadline {
            sink.error(
                "min_healthy_time (\(policy.minHealthyTime)) must be shorter than healthy_deadline (\(policy.healthyDeadline))",
                at: fields.keyLocation("min_healthy_time"))
        }
        if policy.healthyDeadline > policy.progressDeadline {
            sink.error(
                "healthy_deadline (\(policy.healthyDeadline)) must not be longer than progress_deadline (\(policy.progressDeadline))",
                at: fields.keyLocation("healthy_deadline"))
        }
        return policy
    }

    // MARK: Sites

    func parseSite(_ root: YAMLNode, file: String) -> SiteDefinition? {
        guard let fields = MappingFields(root, context: "the site", allowed: Self.siteKeys, sink: sink) else {
            return nil
        }
        let name = fields.name("name", required: true)
        let context = "site '\(name?.value ?? "?")'"
        let displayName = fields.string("display_name", required: true)
        // Display names are rendered into config files through {{ site.display_name }}, like values.
        if let displayName,
            case .failure(let problem) = ParameterType.string(pattern: nil, minLength: 1, maxLength: 200)
                .canonicalValue(of: displayName.value)
        {
            sink.error("the display_name \(problem.message)", at: displayName.location, hint: problem.hint)
        }
        let nodes = (fields.list("nodes", required: true) ?? []).compactMap { parseNode($0, context: context) }
        if fields.has("nodes"), nodes.isEmpty, fields.list("nodes")?.isEmpty == true {
            sink.error("\(context) has no nodes", at: fields.keyLocation("nodes"))
        }
        let services = (fields.entries("services") ?? []).compactMap { parseService($0, context: context, file: file) }
        let windows = (fields.list("maintenance_windows") ?? []).compactMap { parseWindow($0, context: context) }
        let ssh = fields.node("ssh").flatMap { parseSSH($0, context: context, node: false) } ?? SSHSettings()
        guard let name else { return nil }
        let site = SiteDefinition(
            name: name, file: file, displayName: displayName?.value ?? "", nodes: nodes, services: services,
            maintenanceWindows: windows, ssh: ssh)
        checkPushNodes(of: site)
        return site
    }

    /// The workspace path of `path`, which a site file at `siteFile` (`Environments/ENV/sites/NAME.yaml`)
    /// names relative to its environment's folder; `nil` when it could leave that folder.
    static func environmentFile(_ path: String, siteFile: String) -> String? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/"), !path.hasSuffix("/"), !path.contains("\\"),
            !segments.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }),
            !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { return nil }
        let folder = siteFile.split(separator: "/").dropLast(2).joined(separator: "/")
        return folder.isEmpty ? path : "\(folder)/\(path)"
    }

    private static func stem(_ file: String) -> String {
        let name = file.split(separator: "/").last.map(String.init) ?? file
        return name.hasSuffix(".yaml") ? String(name.dropLast(5)) : name
    }

    private func parseNode(_ node: YAMLNode, context: String) -> NodeDefinition? {
        guard
            let fields = MappingFields(
                node, context: "a node of \(context)", allowed: ["name", "address", "labels", "ssh", "transport"],
                sink: sink),
            let name = fields.name("name", required: true),
            let address = fields.string("address", required: true)
        else { return nil }
        if !Self.isHostOrAddress(address.value) {
            sink.error(
                "the address '\(address.value)' of node '\(name.value)' is not a host name or IP address",
                at: address.location)
        }
        var labels: [String: String] = [:]
        for (key, value) in fields.stringMap("labels") ?? [] { labels[key.value] = value.value }
        let ssh =
            fields.node("ssh").flatMap { parseSSH($0, context: "node '\(name.value)' of \(context)", node: true) }
            ?? SSHSettings()
        var pushed: Located<Bool>?
        if let transport = fields.string("transport") {
            switch transport.value {
            case "pull": pushed = Located(false, at: transport.location)
            case "ssh": pushed = Located(true, at: transport.location)
            default:
                sink.error(
                    "'\(transport.value)' is not a transport", at: transport.location,
                    hint: Suggestion.hint(for: transport.value, in: ["pull", "ssh"]))
            }
        }
        return NodeDefinition(
            name: name, address: address, labels: labels, location: fields.location, ssh: ssh, pushed: pushed)
    }

    /// A push node is reached by the orchestrator itself, which has no known_hosts of an operator's:
    /// its host key (and a jump host's) must be pinned in the site file.
    private func checkPushNodes(of site: SiteDefinition) {
        for node in site.nodes {
            guard let pushed = node.pushed, pushed.value else { continue }
            let settings = site.ssh(for: node)
            if settings.hostKey == nil {
                sink.error(
                    "node '\(node.name.value)' is pushed to over SSH, but its host key is not pinned",
                    at: pushed.location,
                    hint:
                        "add ssh: {host_key: SHA256:…} to the node, as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the server"
                )
            }
            if settings.jump != nil, settings.jumpHostKey == nil {
                sink.error(
                    "node '\(node.name.value)' is pushed to through a jump host whose key is not pinned",
                    at: pushed.location, hint: "add jump_host_key: SHA256:… beside jump")
            }
        }
    }

    /// `ssh:` of a site (defaults for its nodes) or of one node.
    private func parseSSH(_ value: YAMLNode, context: String, node: Bool) -> SSHSettings? {
        guard
            let fields = MappingFields(
                value, context: "ssh of \(context)",
                allowed: ["user", "port", "host_key", "jump", "jump_host_key", "prefix"], sink: sink)
        else { return nil }
        var settings = SSHSettings(
            user: fields.string("user"), port: fields.int("port", range: 1...65535), hostKey: fields.string("host_key"),
            jump: fields.string("jump"), jumpHostKey: fields.string("jump_host_key"), prefix: fields.string("prefix"))
        if let user = settings.user, !SSHTarget.isUserName(user.value) {
            sink.error(
                "'\(user.value)' is not a user name", at: user.location,
                hint: "lowercase letters, digits, '_' and '-', starting with a letter or '_', at most 32 long")
            settings.user = nil
        }
        if let hostKey = settings.hostKey {
            if !node {
                sink.error(
                    "a host key belongs to one server, not to a site", at: hostKey.location,
                    hint: "put host_key under the ssh of the node it belongs to")
                settings.hostKey = nil
            } else if !SSHTarget.isFingerprint(hostKey.value) {
                sink.error(
                    "'\(hostKey.value)' is not a host key fingerprint", at: hostKey.location,
                    hint: "write SHA256:… as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the server"
                )
                settings.hostKey = nil
            }
        }
        if let jump = settings.jump {
            do {
                _ = try SSHTarget(parsing: jump.value)
            } catch {
                sink.error("the jump host \(error.description)", at: jump.location)
                settings.jump = nil
            }
        }
        if let key = settings.jumpHostKey {
            if !fields.has("jump") {
                sink.error(
                    "jump_host_key without a jump host", at: key.location,
                    hint: "give the bastion as jump: ssh://USER@HOST beside it")
            } else if !SSHTarget.isFingerprint(key.value) {
                sink.error(
                    "'\(key.value)' is not a host key fingerprint", at: key.location,
                    hint:
                        "write SHA256:… as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the bastion")
                settings.jumpHostKey = nil
            }
        }
        if let prefix = settings.prefix, !SSHTarget.isPlainPrefix(prefix.value) {
            sink.error(
                "'\(prefix.value)' cannot be the agent's folder", at: prefix.location,
                hint: "give an absolute folder of its own, two levels deep at least (letters, digits, . _ - /)")
            settings.prefix = nil
        }
        return settings
    }

    private func parseService(_ pair: YAMLPair, context: String, file: String) -> ServiceAssignment? {
        guard let name = MappingFields.name(pair.key, what: "a service name in \(context)", sink: sink) else {
            return nil
        }
        if case .scalar(let scalar) = pair.value, scalar.isNull {
            return ServiceAssignment(name: name, blueprint: name, placement: nil, parameters: [], dependencySites: [])
        }
        guard
            let fields = MappingFields(
                pair.value, context: "service '\(name.value)' of \(context)",
                allowed: ["blueprint", "placement", "parameters", "dependencies"], sink: sink)
        else { return nil }
        var placement: [(key: Located<String>, value: Located<String>)]?
        if let node = fields.node("placement"),
            let placementFields = MappingFields(
                node, context: "placement of service '\(name.value)'", allowed: ["labels"], sink: sink)
        {
            placement = placementFields.stringMap("labels", required: true) ?? []
        }
        var parameters: [(name: Located<String>, value: ParameterInput)] = []
        var brokenParameters = Set<String>()
        for parameter in fields.entries("parameters") ?? [] {
            brokenParameters.insert(parameter.key.text)
            guard let parameterName = MappingFields.name(parameter.key, what: "a parameter name", sink: sink) else {
                continue
            }
            switch parameter.value {
            case .scalar(let scalar) where !scalar.isNull:
                parameters.append((parameterName, .plain(scalar)))
                brokenParameters.remove(parameter.key.text)
            case .mapping:
                guard
                    let reference = MappingFields(
                        parameter.value, context: "the value of parameter '\(parameterName.value)'",
                        allowed: ["secret", "file"],
                        sink: sink)
                else { continue }
                if reference.has("file") {
                    if reference.has("secret") {
                        sink.error(
                            "parameter '\(parameterName.value)' is either {secret: NAME} or {file: PATH}, not both",
                            at: parameter.value.location)
                        continue
                    }
                    guard let path = reference.string("file", required: true) else { continue }
                    guard let source = Self.environmentFile(path.value, siteFile: file) else {
                        sink.error(
                            "the file '\(Diagnostic.printable(path.value))' of parameter '\(parameterName.value)' is not "
                                + "a path inside the environment's folder", at: path.location,
                            hint: "write a relative path without '..', such as dashboards/\(Self.stem(file)).yaml")
                        continue
                    }
                    parameters.append((parameterName, .file(path, source: source)))
                } else {
                    guard let secret = reference.name("secret", required: true) else { continue }
                    parameters.append((parameterName, .secret(secret)))
                }
                brokenParameters.remove(parameter.key.text)
            default:
                sink.error(
                    "parameter '\(parameterName.value)' must be a value, {secret: NAME} or {file: PATH}, found \(parameter.value.kindDescription)",
                    at: parameter.value.location)
            }
        }
        var dependencySites: [(name: Located<String>, site: Located<String>)] = []
        for dependency in fields.entries("dependencies") ?? [] {
            guard let dependencyName = MappingFields.name(dependency.key, what: "a dependency name", sink: sink),
                let dependencyFields = MappingFields(
                    dependency.value, context: "dependency '\(dependencyName.value)' of service '\(name.value)'",
                    allowed: ["site"], sink: sink),
                let site = dependencyFields.name("site", required: true)
            else { continue }
            dependencySites.append((dependencyName, site))
        }
        return ServiceAssignment(
            name: name, blueprint: fields.name("blueprint") ?? name, placement: placement, parameters: parameters,
            dependencySites: dependencySites, brokenParameters: brokenParameters)
    }

    private static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    private func parseWindow(_ node: YAMLNode, context: String) -> MaintenanceWindow? {
        guard
            let fields = MappingFields(
                node, context: "a maintenance window of \(context)", allowed: ["days", "from", "to"], sink: sink),
            let dayNames = fields.strings("days", required: true),
            let from = fields.string("from", required: true),
            let to = fields.string("to", required: true)
        else { return nil }
        var days: [Int] = []
        for day in dayNames {
            guard let index = Self.weekdays.firstIndex(of: day.value.lowercased()) else {
                sink.error(
                    "'\(day.value)' is not a weekday", at: day.location,
                    hint: Suggestion.hint(for: day.value, in: Self.weekdays))
                continue
            }
            days.append(index + 1)
        }
        if dayNames.isEmpty {
            sink.error("a maintenance window needs at least one day", at: fields.keyLocation("days"))
        }
        guard let fromMinutes = minutes(from), let toMinutes = minutes(to) else { return nil }
        if fromMinutes == toMinutes {
            sink.error("a maintenance window cannot open and close at the same time", at: to.location)
        }
        return MaintenanceWindow(days: days.sorted(), from: fromMinutes, to: toMinutes)
    }

    private func minutes(_ time: Located<String>) -> Int? {
        let parts = time.value.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hours = Int(parts[0]),
            let minutes = Int(parts[1]), (0...23).contains(hours), (0...59).contains(minutes)
        else {
            sink.error(
                "'\(time.value)' is not a time of day", at: time.location,
                hint: "write HH:MM in 24-hour Europe/Berlin time, such as 22:00")
            return nil
        }
        return hours * 60 + minutes
    }

    static func isHostOrAddress(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 253 else { return false }
        if text.contains(":") { return isIPv6(text) }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        if labels.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
            // All digits: an IPv4 address, which needs four parts of at most 255.
            return labels.count == 4 && labels.allSatisfy { $0.count <= 3 && (Int($0) ?? 256) <= 255 }
        }
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    /// Eight groups of one to four hex digits, or fewer around one `::`.
    static func isIPv6(_ text: String) -> Bool {
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        func groups(_ part: String) -> [Substring]? {
            if part.isEmpty { return [] }
            let groups = part.split(separator: ":", omittingEmptySubsequences: false)
            let valid = groups.allSatisfy { (1...4).contains($0.count) && $0.allSatisfy(\.isHexDigit) }
            return valid ? groups : nil
        }
        guard let head = groups(halves[0]) else { return false }
        if halves.count == 1 { return head.count == 8 }
        guard let tail = groups(halves[1]) else { return false }
        return head.count + tail.count <= 7
    }
}
