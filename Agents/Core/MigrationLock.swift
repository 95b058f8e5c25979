import FoundationEssentials
import Glibc

/// An exclusive lock on an instance's data for the whole of a migration: `flock` on
/// `instances/SERVICE/migration.lock`, held by the agent and handed to the migration as its
/// descriptor 3, so it lasts as long as the migration or anything it started still runs — also
/// after the agent itself was killed, and also when the agent died before it could journal the
/// migration's process. A restarted agent that finds the lock held stops the holders' process
/// groups before it touches the data, so two migrations never run on it at once.
final class MigrationLock {
    let descriptor: Int32
    let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    static func file(in instanceFolder: URL) -> String {
        instanceFolder.appendingPathComponent("migration.lock").path
    }

    /// Takes the lock; nil when another process holds it.
    static func take(in instanceFolder: URL) throws -> MigrationLock? {
        try FileManager.default.createDirectory(at: instanceFolder, withIntermediateDirectories: true)
        let path = file(in: instanceFolder)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw AgentError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            close(descriptor)
            guard errno == EWOULDBLOCK else {
                throw AgentError("cannot lock \(path): \(String(cString: strerror(errno)))")
            }
            return nil
        }
        return MigrationLock(descriptor: descriptor, path: path)
    }

    /// The processes that have the file at `path` open (as `fuser` finds them): the kernel's list of
    /// locks names the process that took a `flock`, which is the dead agent, not the migration that
    /// inherited it.
    static func holders(of path: String) -> [Int32] {
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return processes.compactMap { name -> Int32? in
            guard let pid = Int32(name), pid != getpid() else { return nil }
            let folder = "/proc/\(name)/fd"
            let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            let holds = descriptors.contains { descriptor in
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\(descriptor)")) == path
            }
            return holds ? pid : nil
        }.sorted()
    }
}
