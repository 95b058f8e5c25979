import Foundation
import TestSupport
import Testing

/// The sensor service driven by frost-sta-client, FROST-Server's Python client, from the virtual
/// environment that `scripts/python-clients` makes. With `CI=true` a missing environment is a
/// failure, not a skip.
@Suite(.serialized) struct SensorsInteropTests {
    static let python = Fixtures.repositoryRoot.appendingPathComponent(".build/python-clients/bin/python")
    static let available = FileManager.default.isExecutableFile(atPath: python.path)
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    @Test(.enabled(if: available || required, "run scripts/python-clients to make the Python clients"))
    func frostClient_deepInsertsFiltersExpandsPagesPatchesDeletes() async throws {
        try #require(Self.available, "the Python clients are missing: run scripts/python-clients")
        let sensors = try await SensorsProcess(host: "127.0.64.10")
        defer { sensors.stop() }
        try await sensors.start()
        let output = sensors.root.appendingPathComponent("frost.out").path
        let status = try await offloaded {
            try Spawn.run(
                Self.python.path,
                [
                    Fixtures.repositoryRoot.appendingPathComponent("Tests/Interop/frost_sta_client.py").path,
                    sensors.api, sensors.token,
                ], standardOutput: output
            ).status
        }
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(printed)\n\(sensors.logText)")
        #expect(printed.hasSuffix("ok\n"), "\(printed)")
    }
}
