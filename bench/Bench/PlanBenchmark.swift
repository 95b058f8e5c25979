import ArgumentParser
import Foundation
import Model
import Planner
import StellwerkAPI
import TestSupport
import WorkspaceFiles

/// Validate + plan time and peak memory for a large synthetic environment (issue: under 1 s and
/// under 200 MB for 1,000 nodes across 50 sites, release build).
struct PlanBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Time validate + plan of a generated environment and report peak memory.",
        discussion: """
            Generates an environment with the shipped blueprints into a temporary folder, then loads,
            validates, resolves and plans it (empty recorded state, so every instance is created), and
            encodes the plan as JSON as `stellwerk plan --out` does. Prints the median of the runs and
            the ratio to the targets.

            Example:
              swift run -c release stellwerk-bench plan --sites 50 --nodes-per-site 20 --runs 5
            """)

    @Option(help: "Number of sites.") var sites = 50
    @Option(help: "Nodes per site.") var nodesPerSite = 20
    @Option(help: "Measured runs (the median is reported).") var runs = 5
    @Option(help: "Seed for the generator.") var seed: UInt64 = 2026

    func run() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("stellwerk-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let files = try SyntheticWorkspace(
            seed: seed, sites: sites, nodesPerSite: nodesPerSite, blueprintRoot: repository
        )
        .files()
        try Fixtures.write(files, under: root)
        let baseline = Measurement.residentBytes

        var loadTimes: [Double] = []
        var planTimes: [Double] = []
        var encodeTimes: [Double] = []
        var instances = 0
        var planBytes = 0
        for _ in 0..<max(1, runs) {
            let (workspace, load) = try Measurement.seconds {
                try WorkspaceLoader(source: DiskSourceTree(root: root)).load()
            }
            let (plan, planning) = try Measurement.seconds {
                let environment = try EnvironmentResolver(workspace: workspace).resolve("synthetic")
                return Planner(release: nil).plan(
                    environment, revision: workspace.revision, recorded: .empty(environment: "synthetic"))
            }
            let (data, encoding) = try Measurement.seconds { try JSONFiles.encode(plan) }
            loadTimes.append(load)
            planTimes.append(planning)
            encodeTimes.append(encoding)
            instances = plan.summary[.create, default: 0]
            planBytes = data.count
        }
        let load = Measurement.median(loadTimes)
        let plan = Measurement.median(planTimes)
        let encode = Measurement.median(encodeTimes)
        let total = load + plan
        let peak = Measurement.peakResidentBytes
        print(
            "environment: \(sites) sites, \(sites * nodesPerSite) nodes, \(instances) instances (\(runs) runs, median)")
        print("  load + validate:   \(Measurement.milliseconds(load))")
        print("  resolve + plan:    \(Measurement.milliseconds(plan))")
        print("  encode plan JSON:  \(Measurement.milliseconds(encode)) (\(Measurement.megabytes(planBytes)))")
        print(
            "  validate + plan:   \(Measurement.milliseconds(total))  target < 1000 ms  ratio \(String(format: "%.2f", total / 1.0))"
        )
        print(
            "  peak RSS:          \(Measurement.megabytes(peak)) (\(Measurement.megabytes(baseline)) before loading)  "
                + "target < 200 MB  ratio \(String(format: "%.2f", Double(peak) / 200_000_000))")
    }
}

/// Writes a synthetic workspace to a folder, for profiling with the real CLI.
struct GenerateWorkspace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a generated workspace (environment `synthetic`) to a folder.",
        discussion: """
            Example:
              swift run stellwerk-bench generate /tmp/big --sites 50 --nodes-per-site 20
              stellwerk plan --env synthetic --root /tmp/big
            """)

    @Argument(help: "The folder to write to.") var folder: String
    @Option(help: "Number of sites.") var sites = 50
    @Option(help: "Nodes per site.") var nodesPerSite = 20
    @Option(help: "Seed for the generator.") var seed: UInt64 = 2026

    func run() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let files = try SyntheticWorkspace(
            seed: seed, sites: sites, nodesPerSite: nodesPerSite, blueprintRoot: repository
        )
        .files()
        try Fixtures.write(files, under: URL(fileURLWithPath: folder))
        print("wrote \(files.count) files to \(folder)")
    }
}
