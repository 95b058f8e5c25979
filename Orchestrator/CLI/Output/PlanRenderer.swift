import StellwerkAPI

/// The terminal view of a plan: grouped by site and node, one line per service, a summary at the end.
struct PlanRenderer {
    var terminal: Terminal
    var showUnchanged: Bool

    func render(_ plan: Plan) {
        terminal.line(terminal.bold("Plan for environment \(plan.environment)"))
        terminal.line(
            terminal.dim(
                "  release \(plan.release) · state serial \(plan.serial) · revision \(plan.revision.prefix(12))"))
        let nameWidth = plan.sites.flatMap { $0.nodes.flatMap { $0.changes.map(\.service.count) } }.max() ?? 0
        for site in plan.sites {
            let nodes = site.nodes.filter { node in showUnchanged || node.changes.contains { $0.action != .unchanged } }
            guard !nodes.isEmpty else { continue }
            terminal.line()
            terminal.line(terminal.bold(site.displayName) + " (\(site.site))")
            for address in site.serves ?? [] {
                terminal.line(terminal.dim("  serves \(address.url) → \(address.service)"))
            }
            for node in nodes {
                terminal.line("  \(node.node)  " + terminal.dim(node.address))
                for change in node.changes where showUnchanged || change.action != .unchanged {
                    let name = change.service.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                    let action = change.action.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
                    let details = change.details.map(describe).joined(separator: "; ")
                    let head =
                        "\(symbol(change.action)) \(name)  " + (details.isEmpty ? change.action.rawValue : action)
                    // What the node must bring itself: a Debian package is installed by its admin, not by
                    // the rollout.
                    let package = node.desired.instances.first { $0.service == change.service }?.artifact.package
                    let requirement =
                        change.action == .remove || package == nil
                        ? "" : terminal.dim(" · needs Debian package \(package!)")
                    terminal.line(
                        "    " + color(change.action, head) + (details.isEmpty ? "" : " " + details) + requirement)
                }
            }
        }
        if !plan.warnings.isEmpty {
            terminal.line()
            for warning in plan.warnings { terminal.line(terminal.yellow("warning: ") + warning) }
        }
        terminal.line()
        let counts = plan.summary
        if plan.isEmpty {
            let total = counts[.unchanged, default: 0]
            terminal.line(
                terminal.bold("No changes.") + " \(total) instance\(total == 1 ? " is" : "s are") up to date.")
        } else {
            let parts: [(PlanAction, String)] = [
                (.create, "to create"), (.update, "to update"), (.migrate, "to migrate"), (.restart, "to restart"),
                (.remove, "to remove"), (.unchanged, "unchanged"),
            ]
            terminal.line(
                terminal.bold("Plan:") + " "
                    + parts.map { "\(counts[$0.0, default: 0]) \($0.1)" }.joined(separator: ", ") + ".")
            if let line = Self.duration(plan) { terminal.line(line) }
        }
    }

    /// How the rollout will go under the environment's policy, and the least it takes: every wave
    /// stays healthy for `min_healthy_time` before the next starts.
    static func duration(_ plan: Plan) -> String? {
        guard let settings = plan.rollout else { return nil }
        let nodes = plan.sites.flatMap(\.nodes).filter { $0.changes.contains { $0.action != .unchanged } }.count
        let waves = settings.waveCount(of: nodes)
        guard waves > 0 else { return nil }
        let batch = settings.batchSize(of: nodes)
        let shape =
            settings.canary > 0
            ? "canary \(min(settings.canary, nodes)), then at most \(batch) at a time"
            : "at most \(batch) at a time"
        let least = waves * settings.minHealthySeconds
        return "Rollout: \(nodes) node\(nodes == 1 ? "" : "s") in \(waves) wave\(waves == 1 ? "" : "s") (\(shape)); "
            + (least == 0
                ? "each wave ends when its nodes report healthy."
                : "each stays healthy \(Self.span(settings.minHealthySeconds)) before the next: at least \(Self.span(least)).")
    }

    static func span(_ seconds: Int) -> String {
        let (hours, minutes, rest) = (seconds / 3600, seconds % 3600 / 60, seconds % 60)
        return (hours > 0 ? "\(hours)h" : "") + (minutes > 0 ? "\(minutes)m" : "")
            + (rest > 0 || seconds == 0 ? "\(rest)s" : "")
    }

    private func symbol(_ action: PlanAction) -> String {
        switch action {
        case .create: "+"
        case .update: "~"
        case .migrate: "»"
        case .restart: "↻"
        case .remove: "-"
        case .unchanged: "="
        }
    }

    private func color(_ action: PlanAction, _ text: String) -> String {
        switch action {
        case .create: terminal.green(text)
        case .update, .migrate, .restart: terminal.yellow(text)
        case .remove: terminal.red(text)
        case .unchanged: terminal.dim(text)
        }
    }

    private func describe(_ detail: ChangeDetail) -> String {
        let name = detail.name ?? ""
        switch detail.kind {
        case .release: return "release \(detail.from ?? "none") → \(detail.to ?? "none")"
        case .artifact:
            let what = name == "blueprint" || name == "package" ? name : "artifact \(name)"
            return "\(what) \(detail.from ?? "none") → \(detail.to ?? "none")"
        case .config: return "config \(name) \(detail.to ?? "changed")"
        case .parameter:
            switch (detail.from, detail.to) {
            case (let from?, let to?): return "\(name): \(from) → \(to)"
            case (let from?, nil): return "\(name): \(from) → (unset)"
            case (nil, let to?): return "\(name): (unset) → \(to)"
            case (nil, nil): return name
            }
        case .secret: return "secret \(name) changed"
        case .arguments: return "arguments changed"
        case .ports: return "port \(name): \(detail.from ?? "none") → \(detail.to ?? "none")"
        case .health: return "health check changed"
        case .migrations:
            if detail.name == "settings" { return "migration settings changed" }
            return "migrations \(detail.from ?? "none") → \(detail.to ?? "none")"
        case .user: return "user \(detail.from ?? "(agent's)") → \(detail.to ?? "(agent's)")"
        }
    }
}
