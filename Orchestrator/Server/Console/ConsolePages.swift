import Foundation
import StellwerkAPI
import Store

/// The console's pages, each from the engines the API uses, showing only what the operator may read.
extension ConsoleController {
    typealias Page = (title: String, body: String)

    private func e(_ text: String) -> String { ConsoleHTML.escape(text) }

    // MARK: Overview

    /// Environments × sites: the release each runs, health, drift, disconnected nodes; then what
    /// waits for a decision and the rollouts under way.
    func overview(_ visit: Visit) async throws -> Page {
        let t = visit.language.text
        let document = try await status.document(only: nil, mayRead: { visit.user.may(.read, in: $0) })
        let environments = document.environments.map(\.name)
        let sites = Set(document.environments.flatMap { $0.nodes.map(\.site) }).sorted()
        var rows: [[String]] = []
        for site in sites {
            var row = ["<th scope=\"row\">\(e(site))</th>"]
            for environment in document.environments {
                let nodes = environment.nodes.filter { $0.site == site }
                guard !nodes.isEmpty else {
                    row.append("<span class=\"muted\">–</span>")
                    continue
                }
                let instances = nodes.flatMap(\.instances)
                let releases = Set(instances.map(\.release)).sorted()
                let unhealthy = instances.filter { $0.state != .running }.count
                let drifting = instances.filter { !$0.drift.isEmpty }.count
                let away = nodes.filter { $0.connection != .connected }.count
                var cell =
                    "<a href=\"/console/sites/\(ConsoleHTML.query(environment.name))/\(ConsoleHTML.query(site))\">"
                    + e(
                        releases.isEmpty
                            ? t("nichts installiert", "nothing installed") : releases.joined(separator: ", "))
                    + "</a><br>"
                cell += ConsoleHTML.state(
                    unhealthy == 0,
                    unhealthy == 0
                        ? t("\(instances.count) gesund", "\(instances.count) healthy")
                        : t(
                            "\(unhealthy) von \(instances.count) nicht gesund",
                            "\(unhealthy) of \(instances.count) not healthy"))
                if drifting > 0 {
                    cell += "<br>" + ConsoleHTML.state(false, t("\(drifting) mit Abweichung", "\(drifting) drifted"))
                }
                if away > 0 {
                    cell +=
                        "<br>" + ConsoleHTML.state(false, t("\(away) Knoten getrennt", "\(away) node(s) disconnected"))
                }
                row.append(cell)
            }
            rows.append(row)
        }
        var body = "<div class=\"table\"><table>\n<caption>"
        body += t(
            "Kommunen und Umgebungen: Release, Zustand, Abweichungen", "Sites and environments: release, health, drift")
        body += "</caption>\n<thead><tr><th scope=\"col\">\(t("Kommune", "Site"))</th>"
        for environment in environments { body += "<th scope=\"col\">\(e(environment))</th>" }
        body += "</tr></thead>\n<tbody>\n"
        for row in rows { body += "<tr>" + row[0] + row.dropFirst().map { "<td>\($0)</td>" }.joined() + "</tr>\n" }
        if rows.isEmpty {
            body +=
                "<tr><td colspan=\"\(environments.count + 1)\">\(t("Noch kein Knoten ist beigetreten.", "No node has joined yet."))</td></tr>\n"
        }
        body += "</tbody>\n</table></div>\n"

        let waiting = try await store.promotions(active: true).filter {
            $0.state == .waiting && visit.user.may(.read, in: $0.target)
        }
        body += "<h2>\(t("Wartet auf Freigabe", "Waiting for approval"))</h2>\n"
        body += ConsoleHTML.table(
            caption: t("Promotionen, die auf Entscheidungen warten", "Promotions waiting for decisions"),
            head: ["ID", "Release", t("Nach", "Into"), t("Angefordert von", "Requested by")],
            rows: waiting.map {
                [
                    "<a href=\"/console/promotions/\(e($0.id))\">\(e($0.id))</a>", e($0.release), e($0.target),
                    e($0.requestedBy),
                ]
            }, empty: t("Nichts wartet.", "Nothing waits."))
        // Policy changes and operators' roles wait for a second person too; they are decided with the CLI.
        var others: [[String]] = []
        for environment in environments {
            if let proposal = try await policies.view(environment).proposal {
                others.append([
                    t("Richtlinie", "Policy"), e(environment),
                    e("\(proposal.proposedBy): \(proposal.differences.joined(separator: "; "))"),
                    "<code>stellwerk policy approve --env \(e(environment))</code>",
                ])
            }
        }
        if visit.user.may(.administer, in: "*") {  // as GET /v1/users: admins of every environment
            for record in try await store.operators() where record.awaitingApproval && record.revokedAt == nil {
                others.append([
                    t("Rollen", "Roles"), e(record.roles.keys.sorted().joined(separator: ", ")),
                    e("\(record.name) (\(record.createdBy))"), "<code>stellwerk user approve \(e(record.name))</code>",
                ])
            }
        }
        body += ConsoleHTML.table(
            caption: t(
                "Richtlinien und Rollen, die auf eine zweite Person warten",
                "Policies and roles waiting for a second person"),
            head: [
                t("Was", "What"), t("Wo", "Where"), t("Von wem, was", "By whom, what"),
                t("Entscheiden mit", "Decide with"),
            ],
            rows: others, empty: t("Nichts wartet.", "Nothing waits."))
        let running = document.environments.compactMap { environment in
            environment.activeRollout.map { (environment.name, $0) }
        }
        body += "<h2>\(t("Laufende Rollouts", "Rollouts under way"))</h2>\n"
        body += ConsoleHTML.table(
            caption: t("Rollouts, die gerade laufen", "Rollouts running now"),
            head: [t("Umgebung", "Environment"), "Rollout"],
            rows: running.map { [e($0.0), "<a href=\"/console/rollouts/\(e($0.1))\">\(e($0.1))</a>"] },
            empty: t("Keiner.", "None."))
        return (t("Übersicht", "Overview"), body)
    }

    // MARK: A site

    /// A site's nodes in one environment: connection, certificate, and each instance's state.
    func site(_ visit: Visit, environment: String, name: String) async throws -> Page {
        let t = visit.language.text
        guard visit.user.may(.read, in: environment) else {
            throw APIError.notFound("there is no site \(name) in \(environment)")
        }
        let document = try await status.document(only: environment, mayRead: { visit.user.may(.read, in: $0) })
        let nodes = document.environments.flatMap(\.nodes).filter { $0.site == name }
        guard !nodes.isEmpty else { throw APIError.notFound("there is no site \(name) in \(environment)") }
        let certificates = try await self.nodes.nodes(environment: environment, mayRead: { _ in true })
        var body = ""
        for node in nodes {
            let certificate = certificates.first { $0.node == node.node }
            body += "<h2><a href=\"/console/nodes/\(ConsoleHTML.query(environment))/\(ConsoleHTML.query(node.node))\">"
            body += "\(e(node.node))</a> <span class=\"muted\">\(e(node.address))</span></h2>\n"
            body += "<p>" + ConsoleHTML.state(node.connection == .connected, node.connection.rawValue)
            body += " · \(t("zuletzt gemeldet", "last report")) \(ConsoleHTML.time(node.lastSeen))"
            if let certificate {
                body +=
                    " · \(t("Zertifikat", "certificate")) \(e(certificate.state.rawValue)), \(t("gültig bis", "valid until")) \(ConsoleHTML.time(certificate.notAfter))"
            }
            body += "</p>\n"
            body += ConsoleHTML.table(
                caption: t("Instanzen auf \(node.node)", "Instances on \(node.node)"),
                head: [
                    t("Dienst", "Service"), "Release", t("Soll", "Desired"), t("Zustand", "State"),
                    t("Gesundheit", "Health"), t("Abweichung", "Drift"), t("Letzter Fehler", "Last error"),
                ],
                rows: node.instances.map { instance in
                    [
                        e(instance.service), e(instance.release), e(instance.desiredRelease ?? "–"),
                        ConsoleHTML.state(instance.state == .running, instance.state.rawValue),
                        e(instance.health ?? "–"),
                        instance.drift.isEmpty ? "–" : e(instance.drift.joined(separator: ", ")),
                        e(instance.lastError ?? "–"),
                    ]
                }, empty: t("Keine Instanz.", "No instance."))
        }
        return ("\(name) · \(environment)", body)
    }

    /// A node: its connection, certificate and instances, and its health history.
    func node(_ visit: Visit, environment: String, name: String) async throws -> Page {
        let t = visit.language.text
        guard visit.user.may(.read, in: environment) else {
            throw APIError.notFound("there is no node \(name) in \(environment)")
        }
        let document = try await status.document(only: environment, mayRead: { visit.user.may(.read, in: $0) })
        guard let node = document.environments.flatMap(\.nodes).first(where: { $0.node == name }) else {
            throw APIError.notFound("there is no node \(name) in \(environment)")
        }
        let certificate = try await nodes.nodes(environment: environment, mayRead: { _ in true }).first {
            $0.node == name
        }
        var body = "<p>\(t("Kommune", "Site")) <a href=\"/console/sites/\(ConsoleHTML.query(environment))/"
        body += "\(ConsoleHTML.query(node.site))\">\(e(node.site))</a> · \(e(node.address)) · "
        body += ConsoleHTML.state(node.connection == .connected, node.connection.rawValue)
        body += " · \(t("letzter Bericht", "last report")) \(ConsoleHTML.time(node.lastSeen))</p>\n"
        if let certificate {
            body += "<p>\(t("Zertifikat", "Certificate")) \(e(certificate.serial ?? "–")): "
            body += ConsoleHTML.state(certificate.state == .valid, certificate.state.rawValue)
            body += ", \(t("ausgestellt", "issued")) \(ConsoleHTML.time(certificate.issuedAt)), "
            body += "\(t("gültig bis", "valid until")) \(ConsoleHTML.time(certificate.notAfter))</p>\n"
        }
        body += ConsoleHTML.table(
            caption: t("Instanzen nach dem letzten Bericht", "Instances as last reported"),
            head: [
                t("Dienst", "Service"), "Release", t("Zustand", "State"), t("Gesundheit", "Health"),
                t("Letzter Fehler", "Last error"),
            ],
            rows: node.instances.map {
                [
                    e($0.service), e($0.release), ConsoleHTML.state($0.state == .running, $0.state.rawValue),
                    e($0.health ?? "–"), e($0.lastError ?? "–"),
                ]
            }, empty: t("Keine Instanz.", "No instance."))
        let history = try await store.healthHistory(environment: environment, node: name)
        body += ConsoleHTML.table(
            caption: t(
                "Gesundheitsverlauf: jede Änderung, die neueste zuerst", "Health history: every change, newest first"),
            head: [t("Seit", "Since"), t("Zustände", "States")],
            rows: history.map { line in
                [
                    ConsoleHTML.time(line.at),
                    line.states.isEmpty
                        ? t("keine Instanz", "no instance")
                        : line.states.map { ConsoleHTML.state($0.state == "running", "\($0.service): \($0.state)") }
                            .joined(separator: "<br>"),
                ]
            }, empty: t("Noch kein Bericht.", "No report yet."))
        return ("\(name) · \(environment)", body)
    }

    // MARK: Promotions

    func promotionList(_ visit: Visit) async throws -> Page {
        let t = visit.language.text
        let records = try await store.promotions().filter { visit.user.may(.read, in: $0.target) }
        let body = ConsoleHTML.table(
            caption: t("Promotionen, die neuesten zuerst", "Promotions, newest first"),
            head: [
                "ID", "Release", t("Von", "From"), t("Nach", "Into"), t("Zustand", "State"),
                t("Angefordert von", "Requested by"), t("Zeit", "Time"),
            ],
            rows: records.sorted { $0.createdAt > $1.createdAt }.prefix(200).map {
                [
                    "<a href=\"/console/promotions/\(e($0.id))\">\(e($0.id))</a>", e($0.release), e($0.source),
                    e($0.target), e($0.state.rawValue), e($0.requestedBy), ConsoleHTML.time($0.createdAt),
                ]
            }, empty: t("Noch keine Promotion.", "No promotion yet."))
        return (t("Promotionen", "Promotions"), body)
    }

    /// A promotion: its gates with why, its sites, the decisions, the plan's changes, and for an
    /// approver who may decide, the form.
    func promotion(_ visit: Visit, id: String, outcome: (ok: Bool, text: String)?) async throws -> Page {
        let t = visit.language.text
        let view = try await promotions.view(id: id)
        guard visit.user.may(.read, in: view.target) else { throw APIError.notFound("there is no promotion \(id)") }
        var body = ""
        if let outcome {
            body +=
                "<p class=\"\(outcome.ok ? "done" : "notice")\" role=\"\(outcome.ok ? "status" : "alert")\">\(e(outcome.text))</p>\n"
        }
        body += "<p>Release <strong>\(e(view.release))</strong>: \(e(view.source)) → \(e(view.target)) · "
        body +=
            "\(t("Zustand", "state")) <strong>\(e(view.state.rawValue))</strong> · \(t("angefordert von", "requested by")) \(e(view.requestedBy)) \(ConsoleHTML.time(view.createdAt))</p>\n"
        if !view.message.isEmpty { body += "<p>\(e(view.message))</p>\n" }
        if let emergency = view.emergency {
            body += "<p class=\"notice\">\(t("Notfall", "Emergency")): \(e(emergency))</p>\n"
        }
        body += ConsoleHTML.table(
            caption: t("Gates", "Gates"), head: ["Gate", t("Zustand", "State"), t("Warum", "Why")],
            rows: view.gates.map {
                [
                    e($0.name.rawValue), ConsoleHTML.state($0.open, $0.open ? t("offen", "open") : t("zu", "closed")),
                    e($0.detail),
                ]
            }, empty: "–")
        body += ConsoleHTML.table(
            caption: t("Kommunen", "Sites"),
            head: [t("Kommune", "Site"), t("Welle", "Wave"), t("Zustand", "State"), t("Was", "What")],
            rows: view.sites.map {
                [e($0.site), $0.wave.map(String.init) ?? "–", e($0.state.rawValue), e($0.detail)]
            }, empty: "–")
        body += ConsoleHTML.table(
            caption: t("Entscheidungen", "Decisions"),
            head: [t("Wer", "Who"), t("Entscheidung", "Decision"), t("Begründung", "Reason")],
            rows: view.decisions.map { [e($0.approver), e($0.decision.rawValue), e($0.reason)] },
            empty: t("Noch keine.", "None yet."))
        body += "<h2>\(t("Was sich ändert", "What changes"))</h2>\n"
        body += try await planChanges(of: id, language: visit.language)
        if view.state == .waiting {
            body += "<h2>\(t("Entscheiden", "Decide"))</h2>\n"
            if view.requestedBy == visit.user.name || view.requestedBy == visit.user.actor {
                body +=
                    "<p class=\"notice\">"
                    + t(
                        "Sie haben diese Promotion angefordert und können nicht selbst über sie entscheiden (vier Augen).",
                        "You requested this promotion and cannot decide on it yourself (four eyes).") + "</p>\n"
            } else if visit.user.may(.approve, in: view.target) {
                body += """
                    <form method="post" action="/console/promotions/\(e(view.id))/decision">
                    <input type="hidden" name="csrf" value="\(e(visit.session.csrf))">
                    <label for="reason">\(t("Begründung (für eine Ablehnung nötig)", "Reason (needed to reject)"))</label>
                    <input type="text" id="reason" name="reason" maxlength="2000">
                    <button type="submit" name="decision" value="approve">\(t("Freigeben", "Approve"))</button>
                    <button type="submit" name="decision" value="reject">\(t("Ablehnen", "Reject"))</button>
                    </form>

                    """
            } else {
                body +=
                    "<p class=\"muted\">"
                    + t(
                        "Entscheiden darf, wer die Rolle approver in \(view.target) hat.",
                        "Holders of the approver role in \(view.target) decide.") + "</p>\n"
            }
        }
        return (t("Promotion \(view.id)", "Promotion \(view.id)"), body)
    }

    /// The promotion's plan: per site and node, each service that changes and how.
    private func planChanges(of id: String, language: ConsoleLanguage) async throws -> String {
        let t = language.text
        guard let record = try await store.promotion(id: id)?.promotion,
            let plan = try? PromotionEngine.decode(record.document).plan
        else { return "<p class=\"muted\">–</p>\n" }
        var rows: [[String]] = []
        for site in plan.sites {
            for node in site.nodes {
                for change in node.changes where change.action != .unchanged {
                    let details = change.details.map { detail -> String in
                        var text = e(detail.kind.rawValue) + (detail.name.map { " " + e($0) } ?? "")
                        if let from = detail.from { text += ": <del>\(e(from))</del>" }
                        if let to = detail.to { text += " → <ins>\(e(to))</ins>" }
                        return text
                    }
                    rows.append([
                        e(site.site), e(node.node), e(change.service), e(change.action.rawValue),
                        details.isEmpty ? "–" : details.joined(separator: "<br>"),
                    ])
                }
            }
        }
        return ConsoleHTML.table(
            caption: t("Änderungen des Plans", "The plan's changes"),
            head: [
                t("Kommune", "Site"), t("Knoten", "Node"), t("Dienst", "Service"), t("Aktion", "Action"),
                t("Einzelheiten", "Details"),
            ],
            rows: rows, empty: t("Keine Änderung.", "No change."))
    }

    // MARK: Rollouts

    func rolloutList(_ visit: Visit) async throws -> Page {
        let t = visit.language.text
        let records = try await rollouts.list(environment: nil).filter { visit.user.may(.read, in: $0.environment) }
        let body = ConsoleHTML.table(
            caption: t("Rollouts, die neuesten zuerst", "Rollouts, newest first"),
            head: ["ID", t("Umgebung", "Environment"), "Release", t("Zustand", "State"), t("Zeit", "Time")],
            rows: records.sorted { $0.createdAt > $1.createdAt }.prefix(200).map {
                [
                    "<a href=\"/console/rollouts/\(e($0.id))\">\(e($0.id))</a>", e($0.environment), e($0.release),
                    e($0.state.rawValue), ConsoleHTML.time($0.createdAt),
                ]
            }, empty: t("Noch kein Rollout.", "No rollout yet."))
        return ("Rollouts", body)
    }

    /// One rollout's waves and steps, as the last report left them (reload to follow it).
    func rollout(_ visit: Visit, id: String) async throws -> Page {
        let t = visit.language.text
        let record = try await rollouts.record(id)
        guard visit.user.may(.read, in: record.environment) else {
            throw APIError.notFound("there is no rollout \(id)")
        }
        let view = try rollouts.view(record)
        var body =
            "<p>\(e(view.environment)) · Release \(e(view.release)) · \(t("Zustand", "state")) <strong>\(e(view.state.rawValue))</strong> · \(t("von", "by")) \(e(view.createdBy)) \(ConsoleHTML.time(view.createdAt))</p>\n"
        if !view.message.isEmpty { body += "<p>\(e(view.message))</p>\n" }
        body += ConsoleHTML.table(
            caption: t("Schritte nach Welle", "Steps by wave"),
            head: [
                t("Welle", "Wave"), t("Kommune", "Site"), t("Knoten", "Node"), t("Zustand", "State"), t("Was", "What"),
                t("Zuletzt", "Updated"),
            ],
            rows: view.steps.sorted { ($0.wave, $0.node) < ($1.wave, $1.node) }.map {
                [
                    String($0.wave), e($0.site), e($0.node),
                    ConsoleHTML.state($0.state != .failed && $0.state != .rollbackFailed, $0.state.rawValue),
                    e($0.detail),
                    ConsoleHTML.time($0.updatedAt),
                ]
            }, empty: "–")
        return ("Rollout \(view.id)", body)
    }

    // MARK: Releases, audit, secrets

    /// Every release with where it runs now.
    func releaseList(_ visit: Visit) async throws -> Page {
        let t = visit.language.text
        let document = try await status.document(only: nil, mayRead: { visit.user.may(.read, in: $0) })
        var runs: [String: Set<String>] = [:]
        for environment in document.environments {
            for node in environment.nodes {
                for instance in node.instances {
                    runs[instance.release, default: []].insert("\(environment.name)/\(node.site)")
                }
            }
        }
        let all = try await releases.releases().map(\.manifest).sorted {
            ($0.createdAt ?? .distantPast) > ($1.createdAt ?? .distantPast)
        }
        let body = ConsoleHTML.table(
            caption: t(
                "Releases, die neuesten zuerst, und wo sie laufen", "Releases, newest first, and where they run"),
            head: [
                "ID", "Version", t("Komponenten", "Components"), t("Erstellt", "Created"), t("Läuft in", "Runs in"),
            ],
            rows: all.prefix(200).map { manifest in
                [
                    e(manifest.id), e(manifest.version), e(manifest.components.keys.sorted().joined(separator: ", ")),
                    "\(ConsoleHTML.time(manifest.createdAt)) \(e(manifest.createdBy ?? ""))",
                    e((runs[manifest.id] ?? []).sorted().joined(separator: ", ")),
                ]
            }, empty: t("Noch kein Release.", "No release yet."))
        return ("Releases", body)
    }

    /// The audit log, newest first, filtered by actor, action, environment and time.
    func audit(_ visit: Visit, query: some Collection<(key: Substring, value: Substring)>) async throws -> Page {
        let t = visit.language.text
        var filter: [String: String] = [:]
        for (key, value) in query where ["actor", "action", "env", "from", "to"].contains(String(key)) {
            filter[String(key)] = String(value.prefix(200))
        }
        let environment = filter["env"].flatMap { $0.isEmpty ? nil : $0 }
        // As the API: the audit log is the admins' of every environment (`*`).
        guard visit.user.may(.administer, in: "*") else {
            throw APIError.forbidden("reading the audit log needs the admin role in every environment (*)")
        }
        func day(_ key: String) -> Date? {
            guard let text = filter[key], !text.isEmpty else { return nil }
            return try? Date(text + "T00:00:00Z", strategy: .iso8601)
        }
        let from = day("from")
        let to = day("to").map { $0 + 86_400 }
        let actor = filter["actor"] ?? ""
        let action = filter["action"] ?? ""
        let entries = try await store.auditEntries(environment: environment, limit: 10_000).map(\.view).filter {
            entry in
            (actor.isEmpty || entry.actor.contains(actor)) && (action.isEmpty || entry.action.hasPrefix(action))
                && from.map { entry.at >= $0 } ?? true && to.map { entry.at < $0 } ?? true
        }.sorted { $0.sequence > $1.sequence }
        func field(_ key: String, _ label: String, _ hint: String = "") -> String {
            "<label for=\"\(key)\">\(label)</label><input type=\"text\" id=\"\(key)\" name=\"\(key)\" value=\"\(e(filter[key] ?? ""))\"\(hint.isEmpty ? "" : " placeholder=\"\(hint)\"")>"
        }
        var body = "<form method=\"get\" action=\"/console/audit\">"
        body +=
            field("actor", t("Wer", "Actor")) + field("action", t("Aktion (Anfang)", "Action (start)"), "promotion.")
        body += field("env", t("Umgebung", "Environment")) + field("from", t("Von (Tag)", "From (day)"), "2026-12-01")
        body += field("to", t("Bis (Tag)", "To (day)"), "2026-12-31")
        body += "<button type=\"submit\">\(t("Filtern", "Filter"))</button></form>\n"
        body += ConsoleHTML.table(
            caption: t("\(entries.count) Einträge, die neuesten zuerst", "\(entries.count) entries, newest first"),
            head: [
                "#", t("Zeit", "Time"), t("Wer", "Actor"), t("Aktion", "Action"), t("Umgebung", "Environment"),
                t("Objekt", "Object"), t("Einzelheiten", "Detail"),
            ],
            rows: entries.prefix(500).map {
                [
                    String($0.sequence), ConsoleHTML.time($0.at), e($0.actor), e($0.action), e($0.environment),
                    e($0.object), e($0.detail),
                ]
            }, empty: t("Kein Eintrag passt.", "No entry matches."))
        return (t("Prüfprotokoll", "Audit log"), body)
    }

    /// The secrets of every environment the operator may read: names and where they are used, never values.
    func secretList(_ visit: Visit) async throws -> Page {
        let t = visit.language.text
        let document = try await status.document(only: nil, mayRead: { visit.user.may(.read, in: $0) })
        var rows: [[String]] = []
        for environment in document.environments.map(\.name) {
            for secret in try await secrets.list(environment) {
                rows.append([
                    e(environment), e(secret.name), e(secret.kind.rawValue), String(secret.version),
                    "\(ConsoleHTML.time(secret.updatedAt)) \(e(secret.updatedBy))",
                    e(secret.usedBy.joined(separator: ", ")),
                ])
            }
        }
        let body = ConsoleHTML.table(
            caption: t("Geheimnisse: Namen und Verwendung, nie Werte", "Secrets: names and use, never values"),
            head: [
                t("Umgebung", "Environment"), "Name", t("Art", "Kind"), "Version", t("Geändert", "Changed"),
                t("Verwendet von", "Used by"),
            ],
            rows: rows, empty: t("Keine Geheimnisse.", "No secrets."))
        return (t("Geheimnisse", "Secrets"), body)
    }
}
