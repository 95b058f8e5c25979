import Foundation
import TestSupport
import Testing

/// The catalog driven by ckanapi, the Python CKAN client, from the virtual environment that
/// `scripts/python-clients` makes. With `CI=true` a missing environment is a failure, not a skip.
@Suite(.serialized) struct CatalogInteropTests {
    static let python = Fixtures.repositoryRoot.appendingPathComponent(".build/python-clients/bin/python")
    static let available = FileManager.default.isExecutableFile(atPath: python.path)
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    @Test(.enabled(if: available || required, "run scripts/python-clients to make the Python clients"))
    func ckanapi_createsSearchesPagesPatchesDeletes_andGetsCKANsExceptions() async throws {
        try #require(Self.available, "the Python clients are missing: run scripts/python-clients")
        let catalog = try await CatalogProcess(host: "127.0.52.10", seed: false)
        defer { catalog.stop() }
        try await catalog.start()
        let output = catalog.root.appendingPathComponent("ckanapi.out").path
        let status = try await offloaded {
            try Spawn.run(
                Self.python.path,
                [
                    Fixtures.repositoryRoot.appendingPathComponent("Tests/Interop/ckanapi_catalog.py").path,
                    catalog.url,
                    catalog.token,
                ], standardOutput: output
            ).status
        }
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(printed)")
        #expect(printed.hasSuffix("ok\n"), "\(printed)")
    }
}
