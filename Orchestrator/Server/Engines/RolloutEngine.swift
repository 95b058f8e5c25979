package import Foundation
import StellwerkAPI
package import Store

/// Drives rollouts forward from what agents report: writes each wave's desired state, waits until its
/// instances are healthy for the minimum time, fails on deadlines, and rolls back when told to.
///
/// Only the holder of the `rollout-engine` lease advances rollouts (the server runs it in a `LeasedLoop`), so several servers on one
/// PostgreSQL never drive the same rollout twice; everything it knows is in the store, so a restarted
/// server picks up where the last one stopped. Writing a node's desired state is skipped when the
/// store already holds exactly that state, so a step interrupted between its write and its record is
/// never applied twice.
package actor RolloutEngine {
    private let store: StateStore
    private let hub: EventHub
    package static let leaseName = "rollout-engine"

    package init(store: StateStore, hub: EventHub) {
        self.store = store
        self.hub = hub
    }

    /// One pass over every active rollout; true while one has nodes in flight (installing, health,
    /// rolling back), whose reports should wake the engine — not for one that only waits.
    @discardableResult
    package func advanceAll(now: Date = Date()) async throws -> Bool {
        var inFlight = false
        for record in try await store.activeRollouts() where record.state.isActive {
            inFlight = try await advance(record, state: record.state, now: now) || inFlight
        }
        return inFlight
    }

    /// Whether `document` in `state` still has nodes whose next report decides something.
    private static func hasNodesInFlight(_ document: RolloutDocument, _ state: RolloutState) -> Bool {
        state.isActive && document.steps.contains { [.installing, .health, .rollingBack].contains($0.state) }
    }

    /// Advances one rollout; returns whether it has nodes in flight afterwards.
    private func advance(_ record: RolloutRecord, state: RolloutState, now: Date) async throws -> Bool {
        let original = try RolloutDocument.decode(record)
        var document = original
        var next = state
        let watched = Set(
            document.steps.filter { [.installing, .health, .rollingBack].contains($0.state) }.map(\.node))
        let reports =
            watched.isEmpty ? [:] : try await store.reports(environment: record.environment, only: watched)
        // Whether a node is connected matters for the steps in flight and for those of the wave this
        // pass may start: the lowest unfinished one, or the next when this pass finishes it. Only those
        // nodes are read, not the whole environment at every pass.
        let startable = Set(document.steps.filter { !$0.state.isFinished || $0.state == .failed }.map(\.wave))
            .sorted().prefix(2)
        let asked = watched.union(
            document.steps.filter { $0.state == .waiting && startable.contains($0.wave) }.map(\.node))
        let nodes =
            asked.isEmpty
            ? [:]
            : Dictionary(
                uniqueKeysWithValues: try await store.nodes(environment: record.environment, only: asked).map {
                    ($0.name, $0)
                })
        let lostAfter = TimeInterval(document.settings.lostAfterSeconds)
        func connected(_ node: String) -> Bool {
            guard let seen = nodes[node]?.lastSeen else { return false }
            return now.timeIntervalSince(seen) < lostAfter
        }

        switch state {
        case .running, .paused:
            // Steps in flight are watched even while paused; new ones start only when running.
            for index in document.steps.indices where [.installing, .health].contains(document.steps[index].state) {
                evaluate(
                    &document.steps[index], report: reports[document.steps[index].node]?.report,
                    expected: document.steps[index].expected, connected: connected(document.steps[index].node),
                    settings: document.settings, now: now, progress: &document.lastProgressAt)
            }
            let wave = document.steps.filter { !$0.state.isFinished || $0.state == .failed }.map(\.wave).min()
            let failed = document.steps.first { $0.state == .failed }
            if let failed {
                next = fail(&document, because: "\(failed.node): \(failed.detail)", wave: failed.wave, now: now)
            } else if let wave, state == .running {
                try await start(wave: wave, in: &document, record: record, connected: connected, now: now)
                if document.steps.allSatisfy(\.state.isFinished) { next = .succeeded }
            } else if wave == nil, state == .running {
                // A paused rollout whose last steps finished stays paused: the operator who paused it
                // decides when it ends, and nothing that depends on its end starts behind their back.
                next = .succeeded
                document.message = "every node runs release \(record.release)"
            }
            // A paused rollout waits for its operator, not for its deadline.
            if next == state, state == .running,
                now.timeIntervalSince(document.lastProgressAt) > Double(document.settings.progressDeadlineSeconds)
            {
                next = fail(
                    &document,
                    because: "no progress for \(document.settings.progressDeadlineSeconds) s (progress_deadline)",
                    wave: wave, now: now)
            }
            if next == .succeeded, document.message.isEmpty || !document.message.hasPrefix("every") {
                document.message = "every node runs release \(record.release)"
            }
        case .rollingBack:
            next = try await rollBack(&document, record: record, reports: reports, connected: connected, now: now)
        default:
            return false
        }

        guard document != original || next != state else { return Self.hasNodesInFlight(document, next) }
        // Refused when an operator changed it meanwhile: the next pass looks again.
        let text = try document.encoded()
        guard
            try await store.updateRollout(
                id: record.id, state: next, document: text, actor: "rollout:\(record.id)", at: now,
                expecting: state)
        else { return true }
        RolloutDocument.remember(document, text: text, of: record.id)
        hub.publish(.rollout, environment: record.environment, object: record.id, detail: next.rawValue)
        for (index, step) in document.steps.enumerated() where original.steps[index].state != step.state {
            hub.publish(
                .rolloutStep, environment: record.environment, object: "\(record.id)/\(step.node)",
                detail: "\(step.state.rawValue): \(step.detail)")
        }
        return Self.hasNodesInFlight(document, next)
    }

    /// Starts the waiting steps of `wave`: one desired-state write for all of them.
    private func start(
        wave: Int, in document: inout RolloutDocument, record: RolloutRecord, connected: (String) -> Bool, now: Date
    ) async throws {
        let waiting = document.steps.indices.filter {
            document.steps[$0].wave == wave && document.steps[$0].state == .waiting
        }
        guard !waiting.isEmpty else { return }
        let targets = try await store.rolloutTargets(id: record.id, positions: waiting)
        let serial = try await write(
            waiting.compactMap { targets[$0]?.target }, environment: record.environment, rollout: record.id)
        for index in waiting {
            var step = document.steps[index]
            step.writtenSerial = serial
            step.startedAt = now
            step.updatedAt = now
            if !connected(step.node) && document.settings.onDisconnected == .skip {
                step.state = .skipped
                step.detail = "disconnected; skipped (it converges when it reconnects)"
            } else {
                step.state = .installing
                step.detail = connected(step.node) ? "desired state sent" : "disconnected; waiting for it to reconnect"
            }
            document.steps[index] = step
        }
        document.lastProgressAt = now
        document.message = wave == 0 && document.settings.canary > 0 ? "canary wave" : "wave \(wave)"
    }

    /// Writes desired states, skipping those the store already holds, and returns the serial they are at.
    private func write(_ states: [NodeDesiredState], environment: String, rollout: String) async throws -> Int {
        var changed: [NodeDesiredState] = []
        var current = 0
        let stored = try await store.desiredStatesByNode(environment: environment, only: Set(states.map(\.node)))
        for state in states {
            let existing = stored[state.node]
            if let existing, existing.state == state {
                current = max(current, existing.serial)
            } else if existing == nil && state.instances.isEmpty {
                continue
            } else {
                changed.append(state)
            }
        }
        guard !changed.isEmpty else { return current }
        for _ in 0..<5 {
            let serial = try await store.serial(environment: environment)
            do {
                let written = try await store.writeDesiredStates(
                    changed, environment: environment, expectedSerial: serial, actor: "rollout:\(rollout)")
                hub.desiredStateChanged(in: environment, nodes: Set(changed.map(\.node)))
                return written
            } catch let error as StoreError where error.code == .staleSerial {
                continue
            }
        }
        throw StoreError(.conflict, "the desired state of \(environment) keeps changing under the rollout")
    }

    /// Moves an installing step to health, done or failed from the node's last report.
    private func evaluate(
        _ step: inout RolloutDocument.NodeStep, report: NodeReport?, expected: [ExpectedInstance], connected: Bool,
        settings: RolloutSettings, now: Date, progress: inout Date, minimumHealthy: Int? = nil
    ) {
        let started = step.startedAt ?? now
        let verdict = Self.verdict(of: report, expected: expected, writtenSerial: step.writtenSerial ?? 0)
        switch verdict {
        case .healthy:
            if step.healthySince == nil {
                step.healthySince = now
                step.state = .health
                step.detail = "healthy; watching for \(minimumHealthy ?? settings.minHealthySeconds) s"
                step.updatedAt = now
                progress = now
            }
            if let since = step.healthySince,
                now.timeIntervalSince(since) >= Double(minimumHealthy ?? settings.minHealthySeconds)
            {
                step.state = .done
                step.detail = "healthy"
                step.updatedAt = now
                progress = now
            }
            return
        case .failed(let reason):
            step.state = .failed
            step.detail = reason
            step.updatedAt = now
            return
        case .pending(let reason):
            if step.healthySince != nil {
                step.healthySince = nil
                step.state = .installing
                step.updatedAt = now
            }
            if step.detail != reason && connected {
                step.detail = reason
                step.updatedAt = now
            }
        }
        if now.timeIntervalSince(started) > Double(settings.healthyDeadlineSeconds) {
            step.state = .failed
            step.detail =
                connected
                ? "not healthy within \(settings.healthyDeadlineSeconds) s (healthy_deadline): \(step.detail)"
                : "disconnected for longer than healthy_deadline (\(settings.healthyDeadlineSeconds) s)"
            step.updatedAt = now
        }
    }

    enum Verdict: Equatable {
        case healthy
        case pending(String)
        case failed(String)
    }

    /// Compares a node's report with what it should run.
    static func verdict(of report: NodeReport?, expected: [ExpectedInstance], writtenSerial: Int) -> Verdict {
        guard let report, let converged = report.desiredSerial, converged >= writtenSerial else {
            return .pending("installing")
        }
        let running = Dictionary(
            report.instances.map { ($0.spec.service, $0) }, uniquingKeysWith: { first, _ in first })
        for spec in expected {
            guard let instance = running[spec.service] else {
                return .failed("\(spec.service) is not running on the node")
            }
            if instance.spec.release != spec.release || instance.spec.configDigest != spec.configDigest {
                let cause = instance.lastError.map { ": \($0)" } ?? ""
                return .failed("\(spec.service) stayed on release \(instance.spec.release)\(cause)")
            }
            switch instance.state {
            case .running:
                // A last error next to a running, matching instance is about an earlier attempt (an
                // update the agent undid); what runs now is what is wanted.
                break
            case .crashLooping:
                return .failed("\(spec.service) is crash-looping: \(instance.lastError ?? "it keeps exiting")")
            case .stopped where instance.lastError != nil:
                // Not started at all (a missing package, say): the agent's reason is what the operator
                // needs to read, not only at the deadline.
                return .pending("\(spec.service) is stopped: \(instance.lastError!)")
            case .starting, .unhealthy, .stopped:
                return .pending("\(spec.service) is \(instance.state.rawValue)")
            }
        }
        let wanted = Set(expected.map(\.service))
        if let extra = report.instances.first(where: { !wanted.contains($0.spec.service) && $0.state == .running }) {
            return .pending("\(extra.spec.service) is still running")
        }
        return .healthy
    }

    /// Ends the forward part of a rollout: rolls back what it touched when the policy says so.
    private func fail(_ document: inout RolloutDocument, because reason: String, wave: Int?, now: Date) -> RolloutState
    {
        document.failedWave = wave
        for index in document.steps.indices where document.steps[index].state == .waiting {
            document.steps[index].state = .notStarted
            document.steps[index].detail = "not started: the rollout failed"
            document.steps[index].updatedAt = now
        }
        let isCanary = wave == 0 && document.settings.canary > 0
        let touched = document.steps.filter { $0.writtenSerial != nil && $0.state != .skipped }.count
        if document.settings.autoRollback && touched > 0 {
            document.message = "\(isCanary ? "canary failed" : "failed") on \(reason); rolling back \(touched) node(s)"
            for index in document.steps.indices where document.steps[index].writtenSerial != nil {
                document.steps[index].writtenSerial = nil
                document.steps[index].startedAt = nil
                document.steps[index].healthySince = nil
                // Marks the node for rolling back; the detail keeps why it failed.
                if document.steps[index].state != .failed { document.steps[index].detail = "to be rolled back" }
                document.steps[index].state = .rollingBack
            }
            document.lastProgressAt = now
            return .rollingBack
        }
        document.message = "\(isCanary ? "canary failed" : "failed") on \(reason)"
        return .failed
    }

    /// Returns touched nodes to their previous state in batches of `max_in_flight`, without a canary
    /// phase: a failed release should leave quickly.
    private func rollBack(
        _ document: inout RolloutDocument, record: RolloutRecord, reports: [String: (report: NodeReport, at: Date)],
        connected: (String) -> Bool, now: Date
    ) async throws -> RolloutState {
        let batch = document.settings.batchSize(of: document.steps.count)
        let pending = document.steps.indices.filter { document.steps[$0].state == .rollingBack }
        let inFlight = pending.filter { document.steps[$0].writtenSerial != nil }
        let toStart = pending.filter { document.steps[$0].writtenSerial == nil }.prefix(max(0, batch - inFlight.count))
        if !toStart.isEmpty {
            let targets = try await store.rolloutTargets(id: record.id, positions: Array(toStart))
            let states = toStart.map { index in
                targets[index]?.previous
                    ?? NodeDesiredState(
                        node: document.steps[index].node, site: document.steps[index].site,
                        environment: record.environment, address: document.steps[index].address, instances: [],
                        push: targets[index]?.target.push)
            }
            let serial = try await write(states, environment: record.environment, rollout: record.id)
            for index in toStart {
                document.steps[index].writtenSerial = serial
                document.steps[index].startedAt = now
                document.steps[index].updatedAt = now
            }
        }
        for index in inFlight {
            var step = document.steps[index]
            let previous = step.previousExpected ?? []
            var progress = document.lastProgressAt
            var probe = step
            probe.state = .installing
            evaluate(
                &probe, report: reports[step.node]?.report, expected: previous, connected: connected(step.node),
                settings: document.settings, now: now, progress: &progress, minimumHealthy: 0)
            switch probe.state {
            case .done:
                step.state = .rolledBack
                step.detail =
                    step.previousExpected == nil
                    ? "removed again" : "back on release \(previous.first?.release ?? "(none)")"
                step.updatedAt = now
                document.lastProgressAt = now
            case .failed:
                step.state = .rollbackFailed
                step.detail = "could not roll back: \(probe.detail)"
                step.updatedAt = now
            default:
                break
            }
            document.steps[index] = step
        }
        guard document.steps.allSatisfy({ $0.state != .rollingBack }) else { return .rollingBack }
        let broken = document.steps.filter { $0.state == .rollbackFailed }.map(\.node)
        if broken.isEmpty {
            document.message += "; rolled back"
            return .rolledBack
        }
        document.message += "; rolling back failed on \(broken.joined(separator: ", "))"
        return .failed
    }
}
