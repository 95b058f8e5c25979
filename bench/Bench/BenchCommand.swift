import ArgumentParser

/// `stellwerk-bench`: benchmarks that print figures and ratios against the targets from the issues.
///
/// Run them in release mode, on a quiet machine, and read the ratios, not single runs:
///
///     swift run -c release stellwerk-bench plan
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stellwerk-bench",
        abstract: "Benchmarks for Stellwerk (never run as timed tests).",
        discussion: """
            Example:
              swift run -c release stellwerk-bench plan --sites 50 --nodes-per-site 20
            """,
        subcommands: [
            PlanBenchmark.self, StoreBenchmark.self, AgentBenchmark.self, ServerBenchmark.self, RolloutBenchmark.self,
            SSHBenchmark.self,
            CatalogBenchmark.self,
            SensorsBenchmark.self, VisualizationBenchmark.self, MobilityBenchmark.self,
            GenerateWorkspace.self,
        ])
}
