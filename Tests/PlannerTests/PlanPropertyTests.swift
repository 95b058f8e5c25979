import Foundation
import Model
import Planner
import StellwerkAPI
import TestSupport
import Testing
import WorkspaceFiles

/// Properties every plan must have, checked over many generated environments.
@Suite struct PlanPropertyTests {
    static let seeds: [UInt64] = Array(1...25)

    private func plan(
        _ files: [String: String], recorded: StateSnapshot? = nil, release: ReleaseManifest? = nil
    ) throws -> Plan {
        let workspace = try Fixtures.load(files)
        let environment = try EnvironmentResolver(workspace: workspace).resolve("synthetic")
        return Planner(release: release).plan(
            environment, revision: workspace.revision, recorded: recorded ?? .empty(environment: "synthetic"))
    }

    @Test(arguments: seeds)
    func plan_whenComputedTwice_isByteIdentical(seed: UInt64) throws {
        let files = try SyntheticWorkspace(seed: seed, sites: 4, nodesPerSite: 1...4).files()
        let first = try JSONFiles.encode(try plan(files))
        let second = try JSONFiles.encode(try plan(files))
        #expect(first == second)
    }

    @Test(arguments: seeds)
    func plan_whenDeclarationsAreReordered_changesOnlyTheRevision(seed: UInt64) throws {
        let generator = SyntheticWorkspace(seed: seed, sites: 4, nodesPerSite: 1...4)
        var ordered = try plan(generator.files())
        var shuffled = try plan(generator.files(shuffled: true))
        #expect(ordered.revision != shuffled.revision || ordered == shuffled)
        ordered.revision = ""
        shuffled.revision = ""
        #expect(try JSONFiles.encode(ordered) == JSONFiles.encode(shuffled))
    }

    @Test(arguments: seeds)
    func plan_againstThePerfectlyAppliedState_isEmpty(seed: UInt64) throws {
        let files = try SyntheticWorkspace(seed: seed, sites: 5, nodesPerSite: 1...3).files()
        let first = try plan(files)
        let creates = first.summary[.create, default: 0]
        #expect(creates > 0)
        #expect(first.summary.keys.allSatisfy { $0 == .create })

        let applied = StateSnapshot.empty(environment: "synthetic").afterApplying(first)
        let second = try plan(files, recorded: applied)
        #expect(second.isEmpty)
        #expect(second.summary == [.unchanged: creates])
        #expect(second.serial == applied.serial)
        #expect(applied.serial == 1)
    }

    @Test func plan_whenOneSiteParameterChanges_updatesExactlyThatSitesInstances() throws {
        let generator = SyntheticWorkspace(seed: 42, sites: 3, nodesPerSite: 2)
        var files = try generator.files()
        let applied = StateSnapshot.empty(environment: "synthetic").afterApplying(try plan(files))
        let path = "Environments/synthetic/sites/site-1.yaml"
        files[path] = try #require(files[path]).replacingOccurrences(
            of: "site_title: Offene Daten 1", with: "site_title: Offene Daten Eins")

        let changed = try plan(files, recorded: applied)
        var updated: [String] = []
        for site in changed.sites {
            for node in site.nodes {
                for change in node.changes where change.action != .unchanged {
                    updated.append("\(node.node)/\(change.service)")
                    #expect(change.action == .update)
                    #expect(change.details.contains { $0.kind == .config && $0.name == "portal.yaml" })
                }
            }
        }
        let portalNodes = try #require(changed.sites.first { $0.site == "site-1" }).nodes
            .filter { $0.desired.instances.contains { $0.service == "portal" } }.map { "\($0.node)/portal" }
        #expect(!updated.isEmpty)
        #expect(updated == portalNodes)
    }

    @Test func plan_whenTheCentralCatalogMoves_updatesEveryPortalAndChartServiceThatReadsIt() throws {
        var files = try SyntheticWorkspace(seed: 3, sites: 3, nodesPerSite: 1).files()
        let applied = StateSnapshot.empty(environment: "synthetic").afterApplying(try plan(files))
        let path = "Environments/synthetic/sites/site-0.yaml"
        let text = try #require(files[path])
        let port = try #require(text.firstMatch(of: /port: (\d+)1\n/)).output.1
        files[path] = text.replacingOccurrences(of: "port: \(port)1\n", with: "port: 9999\n")

        let changed = try plan(files, recorded: applied)
        let actions = changed.sites.flatMap { site in
            site.nodes.flatMap { node in
                node.changes.filter { $0.action != .unchanged }.map { "\(site.site)/\($0.service)" }
            }
        }
        #expect(
            actions.sorted() == [
                "site-0/catalog", "site-0/portal", "site-0/visualization", "site-1/portal", "site-1/visualization",
                "site-2/portal", "site-2/visualization",
            ])
    }
}

@Suite struct PlanActionTests {
    private func resolved(_ files: [String: String], _ name: String = "sandbox") throws -> (ResolvedEnvironment, String)
    {
        let workspace = try Fixtures.load(files)
        return (try EnvironmentResolver(workspace: workspace).resolve(name), workspace.revision)
    }

    private func actions(_ plan: Plan) -> [String: PlanAction] {
        var result: [String: PlanAction] = [:]
        for site in plan.sites {
            for node in site.nodes {
                for change in node.changes { result["\(node.node)/\(change.service)"] = change.action }
            }
        }
        return result
    }

    @Test func plan_whenNothingIsDeployed_createsEveryInstanceAndRecordsSerialZero() throws {
        let (environment, revision) = try resolved(Fixtures.files())
        let plan = Planner(release: nil).plan(environment, revision: revision, recorded: .empty(environment: "sandbox"))
        #expect(actions(plan) == ["alpha-1/api": .create, "alpha-1/web": .create, "beta-1/web": .create])
        #expect(plan.serial == 0)
        #expect(plan.release == "unreleased")
        #expect(plan.warnings.contains { $0.contains("secret 'alpha-token' has no value yet") })
    }

    /// What a client sends to apply: the nodes that change, nothing of the others (a no-op plan of
    /// 10,000 nodes used to be a hundred megabytes on the wire).
    @Test func changesOnly_keepsTheChangingNodesWithTheirSites_andEverythingElseOfThePlan() throws {
        let (environment, revision) = try resolved(Fixtures.files())
        var recorded = StateSnapshot.empty(environment: "sandbox")
        recorded.secrets = ["alpha-token": "fingerprint-one"]
        let applied = recorded.afterApplying(
            Planner(release: nil).plan(environment, revision: revision, recorded: recorded))
        var changed = applied
        changed.secrets = ["alpha-token": "fingerprint-two"]
        let plan = Planner(release: nil).plan(environment, revision: revision, recorded: changed)
        let sent = plan.changesOnly
        #expect(sent.sites.map(\.site) == ["alpha"])
        #expect(sent.sites.flatMap(\.nodes).map(\.node) == ["alpha-1"])
        #expect(
            sent.sites.first?.nodes.first
                == plan.sites.first { $0.site == "alpha" }?.nodes.first { $0.node == "alpha-1" })
        // Every change is still there (and the unchanged instances of a changing node with it).
        #expect(sent.summary.filter { $0.key != .unchanged } == plan.summary.filter { $0.key != .unchanged })
        #expect(
            [sent.environment, sent.release, sent.revision, String(sent.serial)]
                == [plan.environment, plan.release, plan.revision, String(plan.serial)])
        // Nothing to change: no site at all.
        let noOp = Planner(release: nil).plan(environment, revision: revision, recorded: applied)
        #expect(noOp.isEmpty && noOp.changesOnly.sites.isEmpty)
    }

    @Test func plan_whenOnlyASecretChanges_restartsAndNeverShowsFingerprints() throws {
        let (environment, revision) = try resolved(Fixtures.files())
        var recorded = StateSnapshot.empty(environment: "sandbox")
        recorded.secrets = ["alpha-token": "fingerprint-one"]
        let first = Planner(release: nil).plan(environment, revision: revision, recorded: recorded)
        var applied = recorded.afterApplying(first)
        applied.secrets = ["alpha-token": "fingerprint-two"]

        let plan = Planner(release: nil).plan(environment, revision: revision, recorded: applied)
        #expect(actions(plan)["alpha-1/api"] == .restart)
        #expect(actions(plan)["alpha-1/web"] == .unchanged)
        let change = try #require(plan.sites.first?.nodes.first?.changes.first { $0.service == "api" })
        #expect(change.details == [ChangeDetail(kind: .secret, name: "token", to: "changed")])
        let config = try #require(
            plan.sites.first?.nodes.first?.desired.instances.first { $0.service == "api" }?.configFiles.first)
        #expect(config.content.contains("token: {{secret:alpha-token}}"))
        #expect(config.mode == 0o600)
    }

    @Test func plan_whenAReleaseBringsMigrations_migratesAndShowsTheArtifactChange() throws {
        let (environment, revision) = try resolved(Fixtures.files())
        let release1 = ReleaseManifest(
            id: "r1", version: "2026.11.1", revision: revision,
            components: [
                "datenplattform": ComponentArtifact(
                    sha256: String(repeating: "a", count: 64), size: 1, migrations: ["0001"])
            ])
        var release2 = release1
        release2.id = "r2"
        release2.components["datenplattform"] = ComponentArtifact(
            sha256: String(repeating: "b", count: 64), size: 1, migrations: ["0001", "0002"])
        let applied = StateSnapshot.empty(environment: "sandbox").afterApplying(
            Planner(release: release1).plan(environment, revision: revision, recorded: .empty(environment: "sandbox")))

        let plan = Planner(release: release2).plan(environment, revision: revision, recorded: applied)
        #expect(actions(plan)["alpha-1/api"] == .migrate)
        #expect(actions(plan)["alpha-1/web"] == .update)
        let details = try #require(plan.sites.first?.nodes.first?.changes.first { $0.service == "api" }?.details)
        #expect(details.contains(ChangeDetail(kind: .migrations, from: "0001", to: "0002")))
        #expect(
            details.contains(
                ChangeDetail(kind: .artifact, name: "datenplattform", from: "aaaaaaaaaaaa", to: "bbbbbbbbbbbb")))
        #expect(details.contains(ChangeDetail(kind: .release, from: "r1", to: "r2")))
    }

    @Test func plan_whenASiteIsRemoved_removesEverythingItsNodesRan() throws {
        var files = Fixtures.files()
        let (environment, revision) = try resolved(files)
        let applied = StateSnapshot.empty(environment: "sandbox").afterApplying(
            Planner(release: nil).plan(environment, revision: revision, recorded: .empty(environment: "sandbox")))
        files["Environments/sandbox/sites/beta.yaml"] = nil
        let (smaller, newRevision) = try resolved(files)

        let plan = Planner(release: nil).plan(smaller, revision: newRevision, recorded: applied)
        #expect(actions(plan) == ["alpha-1/api": .unchanged, "alpha-1/web": .unchanged, "beta-1/web": .remove])
        let orphan = try #require(plan.sites.first { $0.site == "beta" })
        #expect(orphan.displayName.contains("no longer declared"))
        #expect(StateSnapshot.empty(environment: "sandbox").afterApplying(plan).nodes["beta-1"] == nil)
        #expect(applied.afterApplying(plan).nodes["beta-1"] == nil)
    }

    @Test func plan_whenAParameterChanges_namesOldAndNewValue() throws {
        var files = Fixtures.files()
        let (environment, revision) = try resolved(files)
        let applied = StateSnapshot.empty(environment: "sandbox").afterApplying(
            Planner(release: nil).plan(environment, revision: revision, recorded: .empty(environment: "sandbox")))
        files["Environments/sandbox/sites/alpha.yaml"] = Fixtures.site("alpha", node: "alpha-1", address: "127.0.1.1")
            .replacingOccurrences(
                of: "      token: {secret: alpha-token}\n",
                with: "      token: {secret: alpha-token}\n      workers: 8\n")
        let (changed, newRevision) = try resolved(files)

        let plan = Planner(release: nil).plan(changed, revision: newRevision, recorded: applied)
        let change = try #require(
            plan.sites.first { $0.site == "alpha" }?.nodes.first?.changes.first { $0.service == "api" })
        #expect(change.action == .update)
        #expect(change.details.contains(ChangeDetail(kind: .parameter, name: "workers", from: "4", to: "8")))
        #expect(change.details.contains(ChangeDetail(kind: .config, name: "api.yaml", to: "changed")))
    }
}

extension PlanActionTests {
    @Test func plan_againstReportsWithoutFileContents_comparesFilesByDigest() throws {
        var files = Fixtures.files()
        let workspace = try Fixtures.load(files)
        let environment = try EnvironmentResolver(workspace: workspace).resolve("sandbox")
        let applied = StateSnapshot.empty(environment: "sandbox").afterApplying(
            Planner(release: nil).plan(
                environment, revision: workspace.revision, recorded: .empty(environment: "sandbox")))
        // What agents report: the same specs, config files by digest only.
        var reported = applied
        for (name, node) in applied.nodes {
            reported.nodes[name]?.instances = node.instances.map(\.reported)
        }
        #expect(reported.nodes["alpha-1"]?.instances.first?.configFiles.first?.content == "")
        #expect(Planner(release: nil).plan(environment, revision: workspace.revision, recorded: reported).isEmpty)

        files["Environments/sandbox/sites/beta.yaml"] = Fixtures.site(
            "beta", node: "beta-1", address: "127.0.2.1", apiSite: "alpha"
        )
        .replacingOccurrences(of: "title: Daten Beta", with: "title: Daten B")
        let changed = try EnvironmentResolver(workspace: try Fixtures.load(files)).resolve("sandbox")
        let plan = Planner(release: nil).plan(changed, revision: "", recorded: reported)
        let web = try #require(plan.sites.first { $0.site == "beta" }?.nodes.first?.changes.first)
        #expect(web.action == .update)
        #expect(web.details.contains(ChangeDetail(kind: .config, name: "web.yaml", to: "changed")))
        #expect(web.details.contains(ChangeDetail(kind: .parameter, name: "title", from: "Daten Beta", to: "Daten B")))
    }
}
