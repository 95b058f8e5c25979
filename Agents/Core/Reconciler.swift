import Artifacts
import Database
package import FoundationEssentials
import Glibc
package import StellwerkAPI

/// What the agent needs to converge its node.
package struct AgentConfiguration: Sendable {
    /// The agent's data folder: its state, the instances, their releases, data, backups and logs.
    package var dataFolder: URL
    /// The orchestrator's Ed25519 public key (32 raw bytes); releases it did not sign are refused.
    package var orchestratorKey: Data
    /// A folder of artifacts named by their SHA-256 (`<sha256>.tar`), as the orchestrator stores them
    /// and as offline bundles carry them.
    package var artifactFolder: URL
    /// Secret values by name, for the `{{secret:NAME}}` markers of this node's config files.
    package var secrets: [String: String]
    /// Secrets the orchestrator could not deliver, with why; a config that needs one fails saying so.
    package var refusedSecrets: [String: String] = [:]
    /// Release folders kept per instance, the current one included (default 3).
    package var keepReleases: Int
    /// Where missing artifacts come from (the orchestrator); `nil` when only the folder counts.
    package var artifactSource: (any ArtifactSource)?
    /// dpkg's database, to check the packages that components from the node's packages need.
    package var packageDatabase: URL

    package init(
        dataFolder: URL, orchestratorKey: Data, artifactFolder: URL, secrets: [String: String] = [:],
        keepReleases: Int = 3, artifactSource: (any ArtifactSource)? = nil,
        packageDatabase: URL = SystemPackages.debianDatabase
    ) {
        self.artifactSource = artifactSource
        self.packageDatabase = packageDatabase
        self.dataFolder = dataFolder
        self.orchestratorKey = orchestratorKey
        self.artifactFolder = artifactFolder
        self.secrets = secrets
        self.keepReleases = keepReleases
    }
}

/// Something artifacts can be downloaded from into the agent's cache, such as its orchestrator.
package protocol ArtifactSource: Sendable {
    /// Stores the artifact with this SHA-256 at `file`, checked, or throws why not.
    func download(sha256: String, to file: URL) async throws
}

/// Moves a node towards its desired state, up to four instances side by side (each after those on
/// its node it depends on), and for each: verify, fetch, unpack, render,
/// back up and migrate, stop the old process, start the new one, wait for health, switch — and on any
/// failure after the old process stopped, restore the data and bring the previous release back.
package struct Reconciler: Sendable {
    package var configuration: AgentConfiguration
    package var state: AgentState

    package init(configuration: AgentConfiguration, state: AgentState) {
        self.configuration = configuration
        self.state = state
    }

    private var instancesFolder: URL { configuration.dataFolder.appendingPathComponent("instances") }

    /// What one convergence did.
    package struct Convergence: Sendable {
        package var report: NodeReport
        /// An instance could not even start installing for a reason that may pass by itself (its
        /// artifact could not be downloaded): converging to the same state again later may succeed.
        /// Nothing was stopped for it.
        package var retryLater: Bool
    }

    /// Converges once and reports what runs.
    package func apply(_ desired: NodeDesiredState) async -> NodeReport {
        await converge(to: desired).report
    }

    /// How many instances of a node converge at once.
    package static let parallelInstances = 4

    /// Converges once: each desired instance installed or kept — side by side, an instance after the
    /// ones on this node it depends on — and each other one removed.
    package func converge(to desired: NodeDesiredState) async -> Convergence {
        var reports: [InstanceReport] = []
        var retryLater = false
        let recorded = (try? state.instances()) ?? [:]
        let outcomes = await Self.inDependencyOrder(
            desired.instances, startsAfter: desired.startsAfter ?? [:], atOnce: Self.parallelInstances
        ) { spec in
            await converge(spec, existing: recorded[spec.service], desired: desired)
        }
        for spec in desired.instances {
            guard let (report, transient) = outcomes[spec.service] else { continue }
            reports.append(report)
            retryLater = retryLater || transient
        }
        for (service, instance) in recorded where !desired.instances.contains(where: { $0.service == service }) {
            await remove(service, instance)
        }
        return Convergence(
            report: NodeReport(
                node: desired.node, environment: desired.environment, desiredSerial: nil,
                instances: reports.sorted { $0.spec.service < $1.spec.service }),
            retryLater: retryLater)
    }

    /// Runs `body` for every spec, at most `atOnce` at a time, each only after the specs it starts
    /// after (those that are desired here) have finished, however they ended. A cycle, which
    /// validation refuses, would run the rest one by one rather than never.
    package static func inDependencyOrder<Outcome: Sendable>(
        _ specs: [InstanceSpec], startsAfter: [String: [String]], atOnce: Int,
        _ body: @escaping @Sendable (InstanceSpec) async -> Outcome
    ) async -> [String: Outcome] {
        let present = Set(specs.map(\.service))
        var waiting = specs
        var running = 0
        var done: [String: Outcome] = [:]
        return await withTaskGroup(of: (String, Outcome).self) { group in
            func ready(_ spec: InstanceSpec) -> Bool {
                (startsAfter[spec.service] ?? []).allSatisfy { !present.contains($0) || done[$0] != nil }
            }
            while !waiting.isEmpty || running > 0 {
                while running < max(1, atOnce),
                    let index = waiting.firstIndex(where: ready)
                        ?? (running == 0 ? waiting.indices.first : nil)
                {
                    let spec = waiting.remove(at: index)
                    running += 1
                    group.addTask { (spec.service, await body(spec)) }
                }
                guard let (service, outcome) = await group.next() else { break }
                running -= 1
                done[service] = outcome
            }
            return done
        }
    }

    // MARK: One instance

    /// The instance's report, and whether it failed for a reason that may pass by itself.
    private func converge(
        _ spec: InstanceSpec, existing: AgentState.Instance?, desired: NodeDesiredState
    ) async
        -> (InstanceReport, transient: Bool)
    {
        let instanceFolder = instancesFolder.appendingPathComponent(spec.service)
        await recoverFromInterruption(spec, recorded: existing, instanceFolder: instanceFolder)
        if let existing, existing.spec == spec {
            if let process = existing.process, process.isRunning {
                // An agent killed between saving and switching left `current` behind; put it right.
                let current = instanceFolder.appendingPathComponent("current").path
                if (try? FileManager.default.destinationOfSymbolicLink(atPath: current))
                    != "releases/\(URL(fileURLWithPath: existing.folder).lastPathComponent)"
                {
                    try? switchCurrent(spec.service, to: URL(fileURLWithPath: existing.folder))
                }
                return (
                    InstanceReport(
                        spec: spec.reported, state: .running, health: existing.health, lastError: existing.lastError,
                        drift: Drift.files(of: existing)), false
                )
            }
            // Same spec, but the process is gone: start it again from the release it had.
            return (
                await start(spec, folder: URL(fileURLWithPath: existing.folder), existing: existing, desired: desired),
                false
            )
        }
        let doing = "installing \(spec.service) \(spec.release) on \(desired.node)"
        do {
            let folder = try await prepare(spec, desired: desired, instanceFolder: instanceFolder)
            let backup = try await migrateIfNeeded(
                spec, existing: existing, folder: folder, instanceFolder: instanceFolder)
            return (
                await switchOver(spec, folder: folder, existing: existing, backup: backup, desired: desired), false
            )
        } catch {
            // Nothing was stopped yet: the previous release keeps running untouched.
            let message = (error as? AgentError)?.context(doing).description ?? "\(doing): \(error)"
            let transient = (error as? AgentError)?.isTransient ?? false
            try? state.journal(spec.service, "failed", message)
            if var existing {
                existing.lastError = message
                try? state.save(spec.service, existing)
                return (
                    InstanceReport(
                        spec: existing.spec.reported, state: existing.process?.isRunning == true ? .running : .stopped,
                        health: existing.health, lastError: message, drift: []), transient
                )
            }
            return (
                InstanceReport(spec: spec.reported, state: .stopped, health: nil, lastError: message, drift: []),
                transient
            )
        }
    }

    /// Undoes what an agent that was killed mid-install left behind: a process it started but never
    /// recorded (which would run twice), data it was migrating (restored from the backup taken first),
    /// and half-unpacked release folders.
    private func recoverFromInterruption(
        _ spec: InstanceSpec, recorded: AgentState.Instance?, instanceFolder: URL
    ) async {
        let service = spec.service
        let steps = (try? state.steps(since: "running", of: service)) ?? []
        for step in steps where step.step == "started" {
            guard let process = Self.identity(step.detail), process != recorded?.process, process.isRunning else {
                continue
            }
            await StopProcess.stop(process, grace: .seconds(recorded?.spec.stopGraceSeconds ?? 10))
        }
        if let migrate = steps.last(where: { $0.step == "migrate" }),
            !steps.contains(where: { $0.step == "migrated" || $0.step == "migration-failed" })
        {
            // The migration outlives an agent killed meanwhile (it leads a session of its own): it is
            // stopped with its whole group before the data goes back, so two never run at once.
            for step in steps where step.step == "migrating" {
                guard let process = Self.identity(step.detail), process.isRunning else { continue }
                await StopProcess.stop(process, grace: .seconds(10))
                try? state.journal(service, "stopped-orphan", "migration \(step.detail)")
            }
            // An agent killed after starting the migration but before journaling it left an orphan
            // no record names; it still holds the migration lock, and so it is found.
            await stopLockHolders(service, instanceFolder: instanceFolder)
            if !migrate.detail.isEmpty {
                let backup = URL(fileURLWithPath: migrate.detail)
                try? DataBackup.restore(backup, to: instanceFolder.appendingPathComponent("data"))
                do {
                    // The backup was taken for this spec's migration: its databases are the ones dumped.
                    let databases = try PostgresBackup.databases(of: spec, secrets: configuration.secrets)
                    try await PostgresBackup.restore(from: backup, databases)
                } catch {
                    try? state.journal(service, "restore-failed", "\(error)")
                }
            }
        }
        let releases = instanceFolder.appendingPathComponent("releases")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: releases.path)) ?? []
        where name.contains(".partial-") {
            try? FileManager.default.removeItem(at: releases.appendingPathComponent(name))
        }
        if !steps.isEmpty { try? state.journal(service, "recovered", "\(steps.count) step(s) after the last run") }
    }

    /// Stops every process that still holds the instance's migration lock, each with its group.
    private func stopLockHolders(_ service: String, instanceFolder: URL) async {
        // Free (a lock comes back, and goes again at once) or not to be opened: nothing to stop.
        do {
            if try MigrationLock.take(in: instanceFolder) != nil { return }
        } catch {
            return
        }
        for pid in MigrationLock.holders(of: MigrationLock.file(in: instanceFolder)) {
            guard let process = ProcessIdentity.of(pid: pid), process.isRunning else { continue }
            await StopProcess.stop(process, grace: .seconds(10))
            try? state.journal(service, "stopped-orphan", "holder of the migration lock \(Self.describe(process))")
        }
    }

    static func describe(_ process: ProcessIdentity) -> String { "\(process.pid):\(process.startTime)" }

    static func identity(_ text: String) -> ProcessIdentity? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let pid = Int32(parts[0]), let start = UInt64(parts[1]) else { return nil }
        return ProcessIdentity(pid: pid, startTime: start)
    }

    /// Verifies the release and artifact, and unpacks and renders a release folder; changes nothing
    /// that runs.
    private func prepare(_ spec: InstanceSpec, desired: NodeDesiredState, instanceFolder: URL) async throws -> URL {
        try state.journal(spec.service, "verify", spec.release)
        guard let signed = desired.releases.first(where: { $0.manifest.id == spec.release }) else {
            throw AgentError("release \(spec.release) comes without a signed manifest; refusing it")
        }
        let manifest = try ReleaseSigner.verify(signed, publicKey: configuration.orchestratorKey)
        // The archive to unpack; none for a program of the node's own packages.
        var archive: ArchiveFile?
        if let package = spec.artifact.package {
            try state.journal(spec.service, "check-package", package)
            try SystemPackages.requireInstalled(
                package, executable: spec.artifact.executable, node: desired.node,
                database: configuration.packageDatabase)
        } else {
            guard let expected = spec.artifact.sha256, let component = manifest.components[spec.artifact.component],
                component.sha256 == expected
            else {
                throw AgentError(
                    "the artifact \(spec.artifact.component) is not the one release \(spec.release) names; refusing it")
            }
            try state.journal(spec.service, "fetch", expected)
            archive = try await fetch(spec.artifact, sha256: expected, size: component.size, service: spec.service)
        }

        let folder = instanceFolder.appendingPathComponent("releases")
            .appendingPathComponent("\(spec.release)-\(spec.configDigest.prefix(12))")
        try FileManager.default.createDirectory(
            at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: folder.path) {
            if let archive {
                try state.journal(spec.service, "unpack", folder.lastPathComponent)
                let contents = try TarArchive(file: archive)
                try requireSpace(
                    contents.unpackedSize, at: folder.deletingLastPathComponent(),
                    for: "unpacking \(spec.artifact.component)")
                try contents.extract(into: folder)
            } else {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            }
        }
        let data = instanceFolder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let link = folder.appendingPathComponent("data")
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: link.path)) == nil {
            try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "../../data")
        }
        try state.journal(spec.service, "render", folder.lastPathComponent)
        try RenderConfig.render(
            spec, into: folder, secrets: configuration.secrets, refused: configuration.refusedSecrets)
        // A missing user is found now, while the old release still runs untouched.
        _ = try serviceUser(spec, folder: folder)
        return folder
    }

    /// The artifact, checked against its digest, from the content-addressed cache; downloaded first
    /// when the agent has a source (its orchestrator) and the cache does not hold it. A cached copy
    /// that fails its digest (a flipped bit on disk, a copy cut short) is discarded and downloaded again
    /// once; a download that fails it is discarded too and fails closed, so a tampered artifact never
    /// runs and never stays in the cache. The file is read in pieces and stays open, so what is
    /// unpacked is what was checked, and an artifact of gigabytes needs megabytes of memory.
    private func fetch(
        _ artifact: ArtifactReference, sha256: String, size: Int, service: String
    ) async throws -> ArchiveFile {
        // Instances converging side by side may need the same artifact: one fetches, the others wait
        // and find it in the cache.
        try await ArtifactFetches.shared.one(at: sha256) {
            try await fetchAlone(artifact, sha256: sha256, size: size, service: service)
        }
    }

    private func fetchAlone(
        _ artifact: ArtifactReference, sha256: String, size: Int, service: String
    ) async throws -> ArchiveFile {
        let cached = configuration.artifactFolder.appendingPathComponent("\(sha256).tar")
        if let file = try? ArchiveFile(path: cached.path) {
            do {
                try ReleaseSigner.verifyDigest(try file.sha256(), expected: sha256, artifact: artifact.component)
                return file
            } catch {
                guard configuration.artifactSource != nil else { throw error }
                try? FileManager.default.removeItem(at: cached)
                try state.journal(service, "discard-cached", "\(sha256.prefix(12)): \(error)")
            }
        }
        if let url = artifact.url, url.hasPrefix("http://") || url.hasPrefix("https://"),
            configuration.artifactSource == nil
        {
            throw AgentError(
                "the artifact \(artifact.component) lives at an external URL; downloading those is not implemented yet, put \(sha256).tar into \(configuration.artifactFolder.path)"
            )
        }
        guard let source = configuration.artifactSource else {
            throw AgentError(
                "the artifact \(artifact.component) (\(sha256.prefix(12))) is not in \(configuration.artifactFolder.path)"
            )
        }
        try FileManager.default.createDirectory(at: configuration.artifactFolder, withIntermediateDirectories: true)
        // The download and then its unpacked copy: refused now, while the running release is untouched,
        // rather than when the disk is full halfway.
        try requireSpace(
            2 * min(max(size, 0), Self.largestCheckedSize), at: configuration.artifactFolder,
            for: "the artifact \(artifact.component)")
        do {
            try await source.download(sha256: sha256, to: cached)
        } catch {
            // The orchestrator was away or the transfer broke: the next try resumes it.
            throw AgentError("downloading the artifact \(artifact.component) failed: \(error)", transient: true)
        }
        guard let file = try? ArchiveFile(path: cached.path) else {
            throw AgentError(
                "the artifact \(artifact.component) (\(sha256.prefix(12))) is not in \(configuration.artifactFolder.path)"
            )
        }
        do {
            try ReleaseSigner.verifyDigest(try file.sha256(), expected: sha256, artifact: artifact.component)
        } catch {
            try? FileManager.default.removeItem(at: cached)
            throw error
        }
        return file
    }

    /// Room left beside what an install writes: the journal, reports and logs go on meanwhile.
    static let spareSpace: Int64 = 1 << 20
    /// Sizes are capped here before they are added up (a petabyte: no disk has it), so a size from
    /// a manifest cannot overflow the sum.
    static let largestCheckedSize = 1 << 50

    /// Refuses to go on when the file system of `folder` has not `bytes` free, with some to spare
    /// and room for the agent's space reserve when a full disk took it: that space is for recording
    /// what happens, never for an install.
    func requireSpace(_ bytes: Int, at folder: URL, for what: String) throws {
        guard let free = SpaceReserve.available(at: folder.path) else { return }
        let reserve = SpaceReserve.isMissing(in: state.folder) ? Int64(SpaceReserve.size) : 0
        let needed = Int64(min(max(bytes, 0), 2 * Self.largestCheckedSize)) + Self.spareSpace + reserve
        guard free >= needed else {
            throw AgentError(
                "not enough disk space for \(what): it needs \(SpaceReserve.megabytes(needed)), and \(folder.path) has \(SpaceReserve.megabytes(free)) free; the running release is untouched — free space on the node and apply again"
            )
        }
    }

    /// Backs up the instance's data and runs the new release's migrations when it brings new ones.
    /// Returns the backup, for restoring if the new release then fails.
    private func migrateIfNeeded(
        _ spec: InstanceSpec, existing: AgentState.Instance?, folder: URL, instanceFolder: URL
    ) async throws -> URL? {
        guard let migrations = spec.migrations,
            existing?.spec.migrations?.target != migrations.target || existing == nil
        else { return nil }
        // Held from the backup to the end of the migration, by the migration too (it inherits it).
        guard let lock = try MigrationLock.take(in: instanceFolder) else {
            throw AgentError(
                "the data of \(spec.service) is locked by a migration still running (processes \(MigrationLock.holders(of: MigrationLock.file(in: instanceFolder)))); trying again",
                transient: true)
        }
        defer { withExtendedLifetime(lock) {} }
        let data = instanceFolder.appendingPathComponent("data")
        let backups = instanceFolder.appendingPathComponent("backups")
        let current = existing?.spec.migrations
        let databases = try PostgresBackup.databases(of: spec, secrets: configuration.secrets)
        // Back past migrations that cannot be undone: the data goes back to the copy taken before them;
        // the older release's own migrations would not know the newer data.
        if let current, !current.reversible, let from = current.target, let to = migrations.target, to < from {
            guard let (before, holds) = DataBackup.newest(in: backups, atMigration: to) else {
                throw AgentError(
                    "going back from migration \(from) to \(to): \(from) cannot be undone and no backup from \(to) is kept; the data stays at \(from)"
                )
            }
            // Older code must never start on data it cannot read: the copy's own marker must agree.
            if let holds, holds != to {
                throw AgentError(
                    "going back from migration \(from) to \(to): the newest backup labelled \(to) (\(before.lastPathComponent)) holds data at migration \(holds); refusing to start release \(spec.release) on it, the data stays at \(from)"
                )
            }
            try state.journal(spec.service, "backup")
            let safety = try DataBackup.make(of: data, into: backups, migration: from)
            try await PostgresBackup.dump(databases, into: safety)
            try state.journal(spec.service, "migrate", safety.path)
            try DataBackup.restore(before, to: data)
            try await PostgresBackup.restore(from: before, databases)
            try state.journal(spec.service, "migrated", "restored \(before.lastPathComponent) from migration \(to)")
            return safety
        }
        var backup: URL?
        if migrations.backup {
            try state.journal(spec.service, "backup")
            let made = try DataBackup.make(of: data, into: backups, migration: current?.target)
            try await PostgresBackup.dump(databases, into: made)
            backup = made
        }
        // The backup's path goes into the journal first: an agent killed while migrating finds it there.
        try state.journal(spec.service, "migrate", backup?.path ?? "")
        let state = self.state
        let service = spec.service
        let result = try await RunMigrations.run(
            spec.artifact.executablePath(in: folder.path), arguments: migrations.arguments, in: folder,
            log: logFile(spec.service), user: try serviceUser(spec, folder: folder), lock: lock.descriptor
        ) { process in
            try? state.journal(service, "migrating", Self.describe(process))
        }
        guard result == 0 else {
            if let backup {
                try DataBackup.restore(backup, to: instanceFolder.appendingPathComponent("data"))
                try await PostgresBackup.restore(from: backup, databases)
            }
            try state.journal(spec.service, "migration-failed", "exit status \(result)")
            throw AgentError("the migration exited with status \(result); the data was restored from the backup")
        }
        if let target = migrations.target { try DataBackup.record(target, in: data) }
        try state.journal(spec.service, "migrated", backup?.path ?? "")
        let pruned = DataBackup.prune(backups, keeping: migrations.keepBackups ?? MigrationSpec.defaultKeptBackups)
        if !pruned.isEmpty { try? state.journal(spec.service, "pruned", pruned.joined(separator: " ")) }
        return backup
    }

    /// Stops the old process, starts the new one and waits for health; rolls back on failure.
    private func switchOver(
        _ spec: InstanceSpec, folder: URL, existing: AgentState.Instance?, backup: URL?, desired: NodeDesiredState
    ) async -> InstanceReport {
        if let process = existing?.process {
            try? state.journal(spec.service, "stop-old", "\(process.pid)")
            await StopProcess.stop(process, grace: .seconds(existing?.spec.stopGraceSeconds ?? 10))
        }
        let started = await start(spec, folder: folder, existing: existing, desired: desired)
        if started.lastError == nil { return started }

        // The new release failed: back to the previous one, with its data as it was.
        let cause = started.lastError ?? "unhealthy"
        var unrestored = ""
        if let backup {
            try? DataBackup.restore(backup, to: instancesFolder.appendingPathComponent("\(spec.service)/data"))
            do {
                try await PostgresBackup.restore(
                    from: backup, try PostgresBackup.databases(of: spec, secrets: configuration.secrets))
            } catch {
                unrestored = "; its database was not restored: \(error)"
            }
        }
        guard let existing else { return started }
        try? state.journal(spec.service, "rollback", cause + unrestored)
        var restored = await start(
            existing.spec, folder: URL(fileURLWithPath: existing.folder), existing: nil, desired: desired)
        restored.lastError = "\(spec.release) failed and was rolled back: \(cause)\(unrestored)"
        if var record = try? state.instances()[spec.service] {
            record.lastError = restored.lastError
            try? state.save(spec.service, record)
        }
        return restored
    }

    /// Starts `spec` from `folder` and waits for health; records the outcome.
    private func start(
        _ spec: InstanceSpec, folder: URL, existing: AgentState.Instance?, desired: NodeDesiredState
    ) async
        -> InstanceReport
    {
        let process: ProcessIdentity
        do {
            try state.journal(spec.service, "start", folder.lastPathComponent)
            process = try StartProcess.start(
                spec.artifact.executablePath(in: folder.path), arguments: spec.arguments,
                directory: folder,
                environment: [
                    "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": folder.path, "STELLWERK_SERVICE": spec.service,
                    "STELLWERK_NODE": desired.node,
                ],
                log: logFile(spec.service), user: try serviceUser(spec, folder: folder))
            // Recorded at once: an agent killed before it records the instance finds the process here.
            try state.journal(spec.service, "started", Self.describe(process))
        } catch {
            return InstanceReport(spec: spec.reported, state: .stopped, health: nil, lastError: "\(error)", drift: [])
        }
        let health = spec.health
        let deadline = Duration.seconds(
            health.startPeriodSeconds + (health.retries + 1) * (health.intervalSeconds + health.timeoutSeconds) + 5)
        let result = await CheckHealth.waitUntilHealthy(
            health, host: desired.address, directory: folder, deadline: deadline,
            stillRunning: {
                StopProcess.reap(process)
                return process.isRunning
            })
        guard result.healthy else {
            await StopProcess.stop(process, grace: .seconds(spec.stopGraceSeconds))
            try? state.journal(spec.service, "stopped", Self.describe(process))
            try? state.journal(spec.service, "unhealthy", result.detail)
            return InstanceReport(
                spec: spec.reported, state: .unhealthy, health: result.detail,
                lastError: "not healthy after start: \(result.detail)", drift: [])
        }
        let previous = existing.flatMap {
            $0.spec == spec ? $0.previous : AgentState.Instance.Previous(spec: $0.spec, folder: $0.folder)
        }
        var record = AgentState.Instance(
            spec: spec, folder: folder.path, process: process, health: result.detail, lastError: nil, previous: previous
        )
        record.writtenFiles = Dictionary(
            uniqueKeysWithValues: spec.configFiles.compactMap { file in
                FileManager.default.contents(atPath: folder.appendingPathComponent(file.path).path).map {
                    (file.path, Drift.digest($0))
                }
            })
        do {
            try switchCurrent(spec.service, to: folder)
            try state.save(spec.service, record)
            try state.journal(spec.service, "running", "\(process.pid)")
            collectOldReleases(spec.service, keeping: [folder.path, previous?.folder].compactMap { $0 })
        } catch {
            return InstanceReport(
                spec: spec.reported, state: .running, health: result.detail, lastError: "\(error)", drift: [])
        }
        return InstanceReport(spec: spec.reported, state: .running, health: result.detail, lastError: nil, drift: [])
    }

    /// The user `spec` asks to run as, with its release folder and data handed to it; `nil` when the
    /// blueprint names none or the agent does not run as root (then services run as the agent's user).
    private func serviceUser(_ spec: InstanceSpec, folder: URL) throws -> ServiceUser? {
        guard let name = spec.user, getuid() == 0 else { return nil }
        guard let user = ServiceUser.named(name) else {
            throw AgentError(
                "the user '\(name)' that \(spec.service) runs as does not exist on this node; create it "
                    + "(useradd --system \(name))")
        }
        try user.own([folder, instancesFolder.appendingPathComponent(spec.service).appendingPathComponent("data")])
        return user
    }

    private func logFile(_ service: String) -> URL {
        let folder = instancesFolder.appendingPathComponent(service).appendingPathComponent("logs")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent("\(service).log")
    }

    /// Points `current` at the running release, atomically (a new link renamed over the old one).
    private func switchCurrent(_ service: String, to folder: URL) throws {
        let instanceFolder = instancesFolder.appendingPathComponent(service)
        let next = instanceFolder.appendingPathComponent(".current.new")
        try? FileManager.default.removeItem(at: next)
        try FileManager.default.createSymbolicLink(
            atPath: next.path, withDestinationPath: "releases/\(folder.lastPathComponent)")
        guard rename(next.path, instanceFolder.appendingPathComponent("current").path) == 0 else {
            throw AgentError(
                "cannot switch \(service) to \(folder.lastPathComponent): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes release folders beyond the newest `keepReleases`, never the ones in use.
    private func collectOldReleases(_ service: String, keeping inUse: [String]) {
        let releases = instancesFolder.appendingPathComponent(service).appendingPathComponent("releases")
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: releases.path) else { return }
        let folders = names.filter { !$0.hasPrefix(".") }.map { releases.appendingPathComponent($0) }
            .sorted {
                let first = (try? manager.attributesOfItem(atPath: $0.path)[.modificationDate] as? Date) ?? .distantPast
                let second =
                    (try? manager.attributesOfItem(atPath: $1.path)[.modificationDate] as? Date) ?? .distantPast
                return first > second
            }
        for folder in folders.dropFirst(configuration.keepReleases) where !inUse.contains(folder.path) {
            try? manager.removeItem(at: folder)
        }
    }

    /// Stops an instance that is no longer desired and removes its releases; its data stays.
    private func remove(_ service: String, _ instance: AgentState.Instance) async {
        try? state.journal(service, "remove")
        if let process = instance.process {
            await StopProcess.stop(process, grace: .seconds(instance.spec.stopGraceSeconds))
        }
        let folder = instancesFolder.appendingPathComponent(service)
        try? FileManager.default.removeItem(at: folder.appendingPathComponent("releases"))
        try? FileManager.default.removeItem(at: folder.appendingPathComponent("current"))
        try? state.remove(service)
    }
}
