package import Foundation

/// Runs a built executable of this package as a user would, and captures what it prints.
package enum ProcessRunner {
    /// What a finished process left behind.
    package struct Result: Sendable {
        package var status: Int32
        package var standardOutput: String
        package var standardError: String
    }

    /// The folder the package's executables were built into: the one holding this test bundle.
    package static var productsFolder: URL {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        // On Linux the test runner is `<products>/<package>PackageTests.xctest`; be lenient about nesting.
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("stellwerk").path),
            folder.path != "/"
        {
            folder = folder.deletingLastPathComponent()
        }
        return folder
    }

    /// Runs `product` (such as `stellwerk`) with `arguments` in `directory`, without a terminal and
    /// with NO_COLOR set, so output is the plain form scripts see.
    ///
    /// The wait happens on a Dispatch thread: a test blocked in `waitpid` on one of Swift's few
    /// cooperative threads would stall every other test that awaits something meanwhile.
    ///
    /// With `namespace`, it runs inside that network namespace (``NetworkNamespaces``).
    package static func run(
        _ product: String, _ arguments: [String], in directory: URL? = nil, environment extra: [String: String] = [:],
        standardInput: String? = nil, namespace: String? = nil
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Swift.Result {
                        try runBlocking(
                            product, arguments, in: directory, environment: extra, standardInput: standardInput,
                            namespace: namespace)
                    })
            }
        }
    }

    private static func runBlocking(
        _ product: String, _ arguments: [String], in directory: URL?, environment extra: [String: String],
        standardInput: String?, namespace: String?
    ) throws -> Result {
        let outputs = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stellwerk-out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outputs) }
        let standardOutput = outputs.appendingPathComponent("stdout").path
        let standardError = outputs.appendingPathComponent("stderr").path
        var environment = extra
        environment["NO_COLOR"] = "1"
        var (executable, arguments) = (productsFolder.appendingPathComponent(product).path, arguments)
        if let namespace { (executable, arguments) = NetworkNamespaces.inside(namespace, executable, arguments) }
        let status = try Spawn.run(
            executable, arguments, environment: environment,
            directory: directory?.path, standardOutput: standardOutput, standardError: standardError,
            standardInput: standardInput
        ).status
        func read(_ path: String) -> String {
            (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        }
        return Result(status: status, standardOutput: read(standardOutput), standardError: read(standardError))
    }
}
