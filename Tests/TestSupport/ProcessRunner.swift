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
    package static func run(
        _ product: String, _ arguments: [String], in directory: URL? = nil, environment extra: [String: String] = [:]
    ) throws -> Result {
        let process = Process()
        process.executableURL = productsFolder.appendingPathComponent(product)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes concurrently with the process, so a full pipe never blocks it.
        let errorData = LockedData()
        let errorsRead = DispatchSemaphore(value: 0)
        let reader = Thread {
            errorData.set(errors.fileHandleForReading.readDataToEndOfFile())
            errorsRead.signal()
        }
        reader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        errorsRead.wait()
        return Result(
            status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorData.value, as: UTF8.self))
    }
}

/// A Data value handed from a reader thread to the test.
private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?

    func set(_ value: Data) {
        lock.lock()
        data = value
        lock.unlock()
    }

    var value: Data {
        lock.lock()
        defer { lock.unlock() }
        return data ?? Data()
    }
}
