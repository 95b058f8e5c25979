package import FoundationEssentials
import Glibc

/// Writes key and certificate files: keys only ever readable by their owner.
package enum PEMFiles {
    /// Writes a private key atomically with mode 0600 from the first byte on.
    package static func writeSecret(_ text: String, to file: URL) throws {
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).new")
        try? FileManager.default.removeItem(at: temporary)
        guard
            FileManager.default.createFile(
                atPath: temporary.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw IdentityError("cannot write \(file.path)") }
        guard rename(temporary.path, file.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw IdentityError("cannot write \(file.path): \(String(cString: strerror(errno)))")
        }
    }

    /// Writes a public file (a certificate) atomically.
    package static func write(_ text: String, to file: URL) throws {
        try Data(text.utf8).write(to: file, options: .atomic)
    }

    package static func read(_ file: URL, what: String) throws -> String {
        do {
            return try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw IdentityError("cannot read the \(what) \(file.path)")
        }
    }
}
