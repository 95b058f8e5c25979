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
        }
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
