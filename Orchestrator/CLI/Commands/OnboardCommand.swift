import ArgumentParser
import Authority
import Foundation
import Identity
import Model
import OrchestratorClient
import StellwerkAPI

/// `stellwerk onboard`: a new municipality's site, from a site template, checked with the whole
/// workspace before anything is written; then its secrets, its plan, its join tokens and the next
/// command for each node. With `bootstrap` and `apply`, three commands take a municipality from
/// nothing to its sandbox services running.
struct OnboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onboard",
        abstract: "Create a new municipality's site from a site template, with its plan and join tokens.",
        discussion: """
            Fills Blueprints/templates/TEMPLATE.yaml for the new site, checks it with the whole workspace,
            writes Environments/ENV/sites/ID.yaml (and an inactive live skeleton, ID.yaml.skeleton), and
            shows what the municipality gets. With an orchestrator (STELLWERK_SERVER) it also makes the
            site's secrets and a join token per node, and prints the next command for each node.

            Example:
              stellwerk onboard --id neustadt --name "Verbandsgemeinde Neustadt" --domain neustadt.de \\
                  --address 10.20.0.11
              stellwerk node bootstrap ssh://root@10.20.0.11 --env sandbox --site neustadt --node neustadt-1 \\
                  --host-key SHA256:…
              stellwerk apply --env sandbox --release r-…
            """)

    @Option(help: ArgumentHelp("The new site's name: lowercase letters, digits and '-'.", valueName: "ID"))
    var id: String

    @Option(help: ArgumentHelp("The municipality's name, as people write it.", valueName: "NAME"))
    var name: String

    @Option(help: ArgumentHelp("The municipality's domain (default: ID.example).", valueName: "DOMAIN"))
    var domain: String?

    @Option(
        help: ArgumentHelp(
            "The municipality's organisation in the catalog (its name there), which its portal searches first (default: none, the whole cluster).",
            valueName: "NAME"))
    var organization: String?

    @Option(help: ArgumentHelp("The site template in Blueprints/templates/.", valueName: "TEMPLATE"))
    var template = "municipality"

    @Option(help: ArgumentHelp("How many servers the site has (1 to 20).", valueName: "N"))
    var nodes: Int?

    @Option(
        name: .customLong("address"),
        help: ArgumentHelp(
            "A server's address (host name or IP), once per server in order (default: ID-N.DOMAIN).", valueName: "HOST"
        ))
    var addresses: [String] = []

    @Option(help: ArgumentHelp("The environment the site runs in first.", valueName: "ENV"))
    var env = "sandbox"

    @Option(help: ArgumentHelp("How long the join tokens stay valid (default 24h).", valueName: "DURATION"))
    var tokenTTL = "24h"

    @Option(
        help: ArgumentHelp(
            "Where the join tokens are written, one file per node (default: ~/.stellwerk/join-tokens/ENV-ID).",
            valueName: "DIR"))
    var tokenDir: String?

    @Flag(help: "Check and show the plan; write nothing, make no secrets or tokens.")
    var dryRun = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup var workspace: WorkspaceOption
    @OptionGroup var connection: ServerConnectionOption

    /// What `--json` prints.
    struct Result: Codable {
        var site: String
        var environment: String
        var files: [String]
        var secretsGenerated: [String]
        var plan: Plan
        var joinTokens: [Token]
        var nextCommands: [String]

        struct Token: Codable {
            var node: String
            var id: String
            var file: String
            var expiresAt: Date?
        }
    }

    func run() async throws {
        let terminal = Terminal.detect()
        let site = try OnboardingSite(
            id: id, name: name, domain: domain ?? "\(id).example", nodes: nodes, addresses: addresses,
            organization: organization)
        // Every option is checked before anything is written or made.
        let ttl = try tokenLifetime()
        let root = try workspace.rootURL()
        let (current, _) = try workspace.load(terminal: terminal, checkingProducts: false)
        guard current.environments[env] != nil else {
            throw CLIError(
                "no environment '\(env)'; the environments are \(current.environmentNames.sorted().joined(separator: ", "))"
            )
        }
        try site.refuseClashes(with: current)
        let templatePath = "Blueprints/templates/\(template).yaml"
        let templateText: String
        do {
            templateText = try String(contentsOf: root.appendingPathComponent(templatePath), encoding: .utf8)
        } catch {
            let known =
                (try? FileManager.default.contentsOfDirectory(
                    atPath: root.appendingPathComponent("Blueprints/templates").path))?.filter { $0.hasSuffix(".yaml") }
                .map { String($0.dropLast(5)) }.sorted().joined(separator: ", ") ?? ""
            throw CLIError("no site template \(templatePath); the templates are: \(known.isEmpty ? "none" : known)")
        }
        // The live skeleton: the same template for the environment this one promotes to, inactive
        // until its servers are known (the loader reads only .yaml files).
        let live = current.environments[env]?.promotesTo?.value
        var files = [
            "Environments/\(env)/sites/\(id).yaml": try site.fill(
                templateText, path: templatePath, environment: env, template: template)
        ]
        var checked = files
        if let live {
            let skeleton = try OnboardingSite(
                id: id, name: name, domain: domain ?? "\(id).example", nodes: site.addresses.count, addresses: [],
                organization: organization
            ).fill(templateText, path: templatePath, environment: live, template: template, skeleton: true)
            files["Environments/\(live)/sites/\(id).yaml.skeleton"] = skeleton
            // Checked as if active, so that filling it in later starts from a site that works there.
            checked["Environments/\(live)/sites/\(id).yaml"] = skeleton
        }
        // Everything checked together before anything is written: a problem writes nothing.
        let (checkedWorkspace, _) = try workspace.load(terminal: terminal, checkingProducts: false, added: checked)
        let proxySite = (try? EnvironmentResolver(workspace: checkedWorkspace).resolve(env)).flatMap {
            ProxyCertificates.sites(of: $0, in: checkedWorkspace).first { $0.site == id }
        }
        for path in files.keys.sorted()
        where FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path) {
            throw CLIError("\(path) exists already; move it away or choose another --id; nothing was written")
        }

        let connected = connection.isConfigured
        var generated: [String] = []
        var tokens: [Result.Token] = []
        var plan: Plan
        let computation = PlanComputation(
            workspace: workspace, terminal: terminal, added: files, checksProducts: false)
        if connected, !dryRun {
            plan = try await connection.with { server in
                generated = try await generateSecrets(for: computation, server: server, terminal: terminal)
                try write(files, under: root)
                return try await computation.plan(env, release: nil, server: server)
            }
        } else {
            let recorded =
                connected ? try await connection.with { try await $0.send(.snapshot(env)) } : .empty(environment: env)
            plan = try computation.plan(env, manifest: nil, recorded: recorded)
            if !dryRun { try write(files, under: root) }
        }
        if connected, !dryRun {
            tokens = try await connection.with { try await createTokens(site, lifetime: ttl, on: $0) }
        }
        // What the municipality gets: its own part of the plan, not every other site's.
        plan.sites = plan.sites.filter { $0.site == id }
        plan.warnings = plan.warnings.filter { $0.contains(" at \(id)") || $0.contains("'\(id)") }
        let next = nextCommands(site, tokens: tokens)
        if json {
            try Output.json(
                Result(
                    site: id, environment: env, files: files.keys.sorted(), secretsGenerated: generated, plan: plan,
                    joinTokens: tokens, nextCommands: next))
            return
        }
        report(
            site, files: files, generated: generated, proxySite: proxySite, plan: plan, tokens: tokens, next: next,
            terminal: terminal)
    }

    /// Makes the secrets the new site names and the orchestrator does not hold yet (random, seen by
    /// nobody), so that its plan can be applied.
    private func generateSecrets(
        for computation: PlanComputation, server: OrchestratorConnection, terminal: Terminal
    ) async throws -> [String] {
        let (loaded, _) = try workspace.load(terminal: terminal, checkingProducts: false, added: computation.added)
        guard let environment = loaded.environments[env] else { return [] }
        let held = try await server.send(.snapshot(env)).secrets
        let wanted = PlanComputation.secretReferences(in: environment.sites.filter { $0.name.value == id })
        var made: [String] = []
        // The proxy's certificate cannot be a random string: it gets one for the site's host names from a
        // throwaway CA, which browsers do not trust, until the municipality sets its own.
        let resolved = try EnvironmentResolver(workspace: loaded).resolve(env)
        var provided = Set<String>()
        for site in ProxyCertificates.sites(of: resolved, in: loaded) where site.site == id {
            provided.formUnion([site.certificateSecret, site.keySecret])
            guard held[site.certificateSecret] == nil || held[site.keySecret] == nil else { continue }
            let (chain, key) = try ProxyCertificates.issue(
                for: site.hosts, by: try CertificateAuthority.create(name: "Stellwerk stand-in for \(id)"))
            for (name, value) in [(site.certificateSecret, chain), (site.keySecret, key)] {
                _ = try await server.send(
                    .setSecret(name, environment: env, SecretValueRequest(value: value, site: id)))
                made.append(name)
            }
        }
        for name in Set(wanted.map(\.value)).subtracting(provided).sorted() where held[name] == nil {
            _ = try await server.send(
                .generateSecret(name, environment: env, SecretGenerateRequest(kind: .password, site: id)))
            made.append(name)
        }
        return made
    }

    /// `--token-ttl` in seconds, or one line saying what it must be.
    private func tokenLifetime() throws -> Int {
        guard let ttl = DurationText.seconds(tokenTTL), (60...30 * 86_400).contains(ttl) else {
            throw CLIError("--token-ttl \(tokenTTL) is not a duration from 1m to 30d (as 24h, 3d)")
        }
        return ttl
    }

    /// Writes each file, none over an existing one (checked before, and refused again here should one
    /// have appeared meanwhile); folders are made as needed.
    private func write(_ files: [String: String], under root: URL) throws {
        for (path, text) in files.sorted(by: { $0.key < $1.key }) {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            do {
                try Data(text.utf8).write(to: url, options: .withoutOverwriting)
            } catch {
                throw CLIError("\(path): cannot write the file: \(error.localizedDescription)")
            }
        }
    }

    /// One join token per node, each in a file only the operator may read.
    private func createTokens(
        _ site: OnboardingSite, lifetime ttl: Int, on server: OrchestratorConnection
    ) async throws -> [Result.Token] {
        let folder = URL(
            fileURLWithPath: tokenDir
                ?? "\(FileManager.default.homeDirectoryForCurrentUser.path)/.stellwerk/join-tokens/\(env)-\(id)")
        try FileManager.default.createDirectory(
            at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var tokens: [Result.Token] = []
        for node in site.nodeNames {
            let issued = try await server.send(
                .createJoinToken(JoinTokenRequest(environment: env, site: id, node: node, ttlSeconds: ttl)))
            let file = folder.appendingPathComponent("\(node).token")
            guard
                FileManager.default.createFile(
                    atPath: file.path, contents: Data((issued.token + "\n").utf8),
                    attributes: [.posixPermissions: 0o600])
            else { throw CLIError("\(file.path): cannot write the join token") }
            tokens.append(Result.Token(node: node, id: issued.id, file: file.path, expiresAt: issued.expiresAt))
        }
        return tokens
    }

    /// The commands that come next: per node, bootstrap over SSH or join by hand; then apply.
    private func nextCommands(_ site: OnboardingSite, tokens: [Result.Token]) -> [String] {
        var commands: [String] = []
        let orchestrator = connection.givenURL ?? "https://ORCHESTRATOR:8443"
        var fingerprint = "SHA256:…"
        if let path = connection.givenAuthorityFile, let pem = try? String(contentsOfFile: path, encoding: .utf8),
            let found = try? CertificateFingerprint.of(pem: pem)
        {
            fingerprint = found
        }
        for (index, node) in site.nodeNames.enumerated() {
            let address = site.addresses[index]
            commands.append(
                "stellwerk node bootstrap ssh://root@\(address) --env \(env) --site \(id) --node \(node) --host-key SHA256:…"
            )
            let file = tokens.first { $0.node == node }?.file ?? "\(node).token"
            commands.append(
                "stellwerk-agent join \(orchestrator) --token-file \(URL(fileURLWithPath: file).lastPathComponent) "
                    + "--ca-fingerprint \(fingerprint) --data /var/lib/stellwerk/data")
        }
        commands.append("stellwerk apply --env \(env) --release RELEASE")
        return commands
    }

    private func report(
        _ site: OnboardingSite, files: [String: String], generated: [String], proxySite: ProxyCertificates.Site?,
        plan: Plan, tokens: [Result.Token], next: [String], terminal: Terminal
    ) {
        terminal.line(
            "\(dryRun ? "Would onboard" : "Onboarded") \(name) as site \(id) of \(env), from Blueprints/templates/\(template).yaml:"
        )
        for path in files.keys.sorted() {
            let what =
                path.hasSuffix(".skeleton")
                ? "inactive: give the live servers, then rename it to \(id).yaml"
                : "\(site.nodeNames.count) node(s): "
                    + zip(site.nodeNames, site.addresses).map { "\($0) at \($1)" }.joined(separator: ", ")
            terminal.line("  \(dryRun ? "would write" : "wrote") \(path) (\(what))")
        }
        if !generated.isEmpty {
            terminal.line(
                "Secrets made by the orchestrator for \(env) (nobody sees them): \(generated.joined(separator: ", "))")
        }
        if let proxied = proxySite, generated.contains(proxied.certificateSecret) {
            terminal.line(
                "The proxy serves \(proxied.hosts.joined(separator: ", ")) with a stand-in certificate that browsers do not trust;"
            )
            terminal.line(
                "  set the municipality's own (chain and key as PEM): stellwerk secret set \(proxied.certificateSecret) --env \(env) --site \(id) --from-file chain.pem"
            )
            terminal.line(
                "  and stellwerk secret set \(proxied.keySecret) --env \(env) --site \(id) --from-file key.pem, then apply."
            )
        }
        terminal.line()
        terminal.line("What \(name) gets in \(env):")
        PlanRenderer(terminal: terminal, showUnchanged: false).render(plan)
        terminal.line()
        if connection.isConfigured && !dryRun {
            let until = tokens.compactMap(\.expiresAt).min().map { " until \($0.formatted(.iso8601))" } ?? ""
            terminal.line("Join tokens (each valid once\(until)):")
            for token in tokens { terminal.line("  \(token.node): \(token.file)") }
        } else if !dryRun {
            terminal.line(
                "No orchestrator given (STELLWERK_SERVER): planned against an empty state, no secrets or join tokens made;"
            )
            terminal.line(
                "  make them with `stellwerk secret generate NAME --env \(env)` and `stellwerk token create --env \(env) --site \(id) --node NODE`."
            )
        }
        terminal.line()
        terminal.line("Next, for each node either over SSH (bootstrap makes its own token) or by hand on the node:")
        for (index, node) in site.nodeNames.enumerated() {
            terminal.line("  \(node) (\(site.addresses[index])):")
            terminal.line("    \(next[2 * index])")
            terminal.line("    \(next[2 * index + 1])")
        }
        terminal.line("Then: \(next.last ?? "")")
        if !dryRun {
            terminal.line("Commit the new files: git add \(files.keys.sorted().joined(separator: " "))")
        }
    }
}

/// The values a site template is filled with, checked so that none can break the YAML they go into.
struct OnboardingSite {
    let id: String
    let name: String
    let domain: String
    let addresses: [String]
    /// The catalog organisation its portal searches first; empty: none.
    let organization: String
    var nodeNames: [String] { (1...addresses.count).map { "\(id)-\($0)" } }

    init(id: String, name: String, domain: String, nodes: Int?, addresses: [String], organization: String? = nil) throws
    {
        guard let first = id.first, first.isASCII, first.isLowercase, id.count <= 40,
            id.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") })
        else {
            throw CLIError(
                "--id '\(id.prefix(60))' must be lowercase letters, digits and '-', starting with a letter, at most 40")
        }
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        // Letters of any script, digits, spaces and the punctuation of place names; nothing that
        // means something in YAML or in a template.
        guard (2...120).contains(trimmed.count),
            trimmed.allSatisfy({ $0.isLetter || $0.isNumber || " .-–()/,'&".contains($0) })
        else {
            throw CLIError(
                "--name '\(name.prefix(60))' must be 2 to 120 letters, digits, spaces and . - – ( ) / , ' &")
        }
        guard Self.isHost(domain), domain.contains(".") else {
            throw CLIError("--domain '\(domain.prefix(60))' is not a domain name (as verbandsgemeinde-neustadt.de)")
        }
        let count = nodes ?? max(addresses.count, 1)
        guard (1...20).contains(count) else { throw CLIError("--nodes \(count) is not between 1 and 20") }
        guard addresses.isEmpty || addresses.count == count else {
            throw CLIError("--address is given \(addresses.count) time(s) for \(count) node(s): give one per node")
        }
        for address in addresses where !Self.isHost(address) {
            throw CLIError("--address '\(address.prefix(60))' is not a host name or IP address")
        }
        // CKAN's rule for an organisation's name.
        if let organization,
            !(2...100).contains(organization.count)
                || !organization.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") })
        {
            throw CLIError(
                "--organization '\(organization.prefix(60))' is not an organisation's name in the catalog: 2 to 100 lowercase letters, digits, '-' and '_' (as stadt-neustadt)"
            )
        }
        self.organization = organization ?? ""
        self.id = id
        self.name = trimmed
        self.domain = domain.lowercased()
        self.addresses = addresses.isEmpty ? (1...count).map { "\(id)-\($0).\(domain.lowercased())" } : addresses
    }

    private static func isHost(_ text: String) -> Bool {
        (1...253).contains(text.count)
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == ":") }
            && !text.hasPrefix("-") && !text.hasPrefix(".")
    }

    /// Refuses a site name or municipality the workspace has already, in any environment.
    func refuseClashes(with workspace: Workspace) throws {
        for environment in workspace.environmentNames.sorted() {
            for site in workspace.environments[environment]?.sites ?? [] {
                if site.name.value == id {
                    throw CLIError(
                        "\(site.file): the site '\(id)' exists already (in \(environment)); choose another --id")
                }
                if site.displayName.lowercased() == name.lowercased() {
                    throw CLIError(
                        "\(site.file): '\(site.displayName)' is there already as site '\(site.name.value)' (in \(environment))"
                    )
                }
            }
        }
    }

    /// The template filled in for `environment`: every `{{ onboard.* }}` replaced, and the first node
    /// (`ID-1`) repeated for each further node; a placeholder left over is an error at its line.
    func fill(
        _ template: String, path: String, environment: String, template name: String, skeleton: Bool = false
    ) throws -> String {
        let values = [
            "onboard.name": id, "onboard.display_name": self.name, "onboard.domain": domain,
            "onboard.node_address": addresses[0], "onboard.environment": environment,
            "onboard.organization": organization,
        ]
        var lines: [String] = []
        for (number, line) in template.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = String(line)
            // The template's own comments speak of templates; the site gets a header of its own.
            if lines.isEmpty && text.hasPrefix("#") { continue }
            let filled = SiteTemplateCheck.fill(text, values: values)
            if let left = SiteTemplateCheck.placeholders(in: filled).first {
                throw CLIError(
                    "\(path):\(number + 1): the template uses {{ \(left.name) }}, which onboarding does not fill in; nothing was written"
                )
            }
            lines.append(filled)
        }
        let header =
            skeleton
            ? [
                "# \(self.name) in \(environment): a skeleton made by `stellwerk onboard` from the template \(name),",
                "# inactive while its name ends in .skeleton. Give the live servers' names and addresses, agree on",
                "# the maintenance window, then rename it to \(id).yaml and run `stellwerk validate`.",
            ]
            : [
                "# \(self.name) in \(environment): made by `stellwerk onboard` from the template \(name)."
            ]
        return (header + Self.repeatingFirstNode(lines, id: id, addresses: addresses)).joined(separator: "\n")
    }

    /// The lines with the first item of the top-level `nodes:` list repeated once per address, its
    /// `ID-1` numbered and its `address:` set.
    static func repeatingFirstNode(_ lines: [String], id: String, addresses: [String]) -> [String] {
        guard let start = lines.firstIndex(where: { $0.hasPrefix("nodes:") }) else { return lines }
        var end = start + 1
        while end < lines.count, lines[end].isEmpty || lines[end].hasPrefix(" ") { end += 1 }
        let block = Array(lines[(start + 1)..<end])
        guard let first = block.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("- ") })
        else { return lines }
        let indent = block[first].prefix { $0 == " " }
        var item = [block[first]]
        for line in block[(first + 1)...] {
            if line.hasPrefix(indent + "- ") || (!line.isEmpty && !line.hasPrefix(indent + " ")) { break }
            item.append(line)
        }
        var nodes: [String] = []
        for (index, address) in addresses.enumerated() {
            for line in item {
                var line = line.replacingOccurrences(of: "\(id)-1", with: "\(id)-\(index + 1)")
                if line.trimmingCharacters(in: .whitespaces).hasPrefix("address:")
                    || line.trimmingCharacters(in: .whitespaces).hasPrefix("- address:")
                {
                    let keyEnd = line.range(of: "address:")!.upperBound
                    line = String(line[..<keyEnd]) + " \"\(address)\""
                }
                nodes.append(line)
            }
        }
        return Array(lines[...start]) + nodes + Array(lines[end...])
    }
}
