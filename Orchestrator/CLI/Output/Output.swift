import Foundation
import WorkspaceFiles

/// What `--json` prints: the wire's encoding, indented, one value per run.
enum Output {
    static func json(_ value: some Encodable) throws {
        FileHandle.standardOutput.write(try JSONFiles.encode(value))
    }
}
