package import FoundationEssentials
import Glibc

/// Writes key and certificate files: keys only ever readable by their owner.
package enum PEMFiles {
    /// Writes a private key atomically with mode 0600 from the first byte on.
    package static func writeSecret(_ text: String, to file: URL) throws {
        try PrivateFiles.write(Data(text.utf8), to: file)
    }

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
