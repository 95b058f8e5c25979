package import FoundationEssentials
package import Glibc

/// Starts a service process the way the agent runs every service: in its own session (so signals to
/// the agent do not reach it, and it outlives an agent restart), in its working folder, with its
/// output appended to a log file and nothing else of the agent's inherited.
package enum StartProcess {
    /// Starts `executable` with `arguments` in `directory`, as `user` when given (the agent must run as
    /// root for that); returns its identity once it runs.
    package static func start(
        _ executable: String, arguments: [String], directory: URL, environment: [String: String], log: URL,
        user: ServiceUser? = nil, handing descriptor: Int32? = nil
    ) throws(ProcessError) -> ProcessIdentity {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // `handing` goes to the child as its descriptor 3 (a migration's lock); everything else stays here.
        for inherited in openDescriptors() where inherited > 2 && inherited != descriptor {
            posix_spawn_file_actions_addclose(&actions, inherited)
        }
        if let descriptor {
            posix_spawn_file_actions_adddup2(&actions, descriptor, 3)
            if descriptor != 3 { posix_spawn_file_actions_addclose(&actions, descriptor) }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (glibc 2.26+) is behind _GNU_SOURCE and not imported; its value is fixed.
        let setSessionID: Int32 = 0x80
        posix_spawnattr_setflags(&attributes, Int16(setSessionID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)

        // posix_spawn has no portable chdir; a shell changes folder and then becomes the service (exec),
        // so the recorded process ID is the service's own. It first closes every descriptor above 2:
        // the list above is taken before the spawn, and a socket another thread opens in between (a
        // health probe's, say) would otherwise live on in the service and hold that connection open.
        // No redirection on the loop: an `exec` inside a redirected loop makes that redirection
        // permanent, and the service's stderr would end in it instead of the log.
        let kept = descriptor == nil ? "0|1|2" : "0|1|2|3"
        let script =
            #"for fd in /proc/$$/fd/*; do n=${fd##*/}; case $n in "# + kept
            + #") ;; *) eval "exec $n>&-" ;; esac; done; cd "$0" && exec "$@""#
        // setpriv (util-linux) drops to the service's user and groups just before the service runs.
        let switchUser =
            user.map { ["/usr/bin/setpriv", "--reuid=\($0.uid)", "--regid=\($0.gid)", "--init-groups", "--"] } ?? []
        let argv = ["/bin/bash", "-c", script, directory.path] + switchUser + [executable] + arguments
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/bin/bash", &actions, &attributes, cArguments, cEnvironment)
        guard status == 0 else {
            throw ProcessError("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        guard let identity = ProcessIdentity.of(pid: pid) else {
            throw ProcessError("\(executable) exited at once (see \(log.path))")
        }
        return identity
    }

    private static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    }
}

/// A process could not be started or stopped.
package struct ProcessError: Error, Sendable, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}

/// A system user a service runs as.
package struct ServiceUser: Sendable, Hashable {
    package var name: String
    package var uid: uid_t
    package var gid: gid_t

    /// Looks a user up by name; `nil` when this system has no such user.
    package static func named(_ name: String) -> ServiceUser? {
        // getpwnam_r with a buffer of this call's own: instances converge side by side, and
        // getpwnam's one static entry could hand one service another's user.
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &found) == 0, found != nil else { return nil }
        return ServiceUser(name: name, uid: entry.pw_uid, gid: entry.pw_gid)
    }

    /// Hands `paths` (and everything under the folders among them) to this user.
    package func own(_ paths: [URL]) throws(ProcessError) {
        for path in paths {
            guard FileManager.default.fileExists(atPath: path.path) else { continue }
            let below = (try? FileManager.default.subpathsOfDirectory(atPath: path.path)) ?? []
            let all = [path.path] + below.map { path.appendingPathComponent($0).path }
            for item in all where lchown(item, uid, gid) != 0 {
                throw ProcessError("cannot hand \(item) to \(name): \(String(cString: strerror(errno)))")
            }
        }
    }
}
