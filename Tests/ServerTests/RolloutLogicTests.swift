import Foundation
import StellwerkAPI
import Store
import Testing

@testable import Server

/// The pure parts of rollouts: wave order, how a node's report is judged, byte ranges.
@Suite struct RolloutLogicTests {
    private func settings(canary: Int, maxInFlight: Int, percent: Bool) -> RolloutSettings {
        RolloutSettings(
            canary: canary, maxInFlight: maxInFlight, maxInFlightPercent: percent, minHealthySeconds: 1,
            healthyDeadlineSeconds: 10, progressDeadlineSeconds: 20, autoRollback: true, lostAfterSeconds: 30,
            onDisconnected: .wait)
    }

    private func nodes(_ count: Int) -> [(node: String, site: String)] {
        (0..<count).map { ("n\($0)", "s") }
    }

    @Test func waves_putTheCanaryFirst_thenBatchesOfMaxInFlight() {
        #expect(
            RolloutDocument.waves(of: nodes(6), settings: settings(canary: 1, maxInFlight: 2, percent: false)) == [
                0, 1, 1, 2, 2, 3,
            ])
        #expect(
            RolloutDocument.waves(of: nodes(5), settings: settings(canary: 0, maxInFlight: 2, percent: false)) == [
                0, 0, 1, 1, 2,
            ])
        #expect(
            RolloutDocument.waves(of: nodes(10), settings: settings(canary: 2, maxInFlight: 50, percent: true)) == [
                0, 0, 1, 1, 1, 1, 1, 2, 2, 2,
            ])
        // A percentage of a few nodes still moves at least one at a time; more canaries than nodes is all canary.
        #expect(
            RolloutDocument.waves(of: nodes(3), settings: settings(canary: 1, maxInFlight: 10, percent: true)) == [
                0, 1, 2,
            ])
        #expect(
            RolloutDocument.waves(of: nodes(2), settings: settings(canary: 5, maxInFlight: 1, percent: false)) == [
                0, 0,
            ])
    }

    private func spec(release: String, digest: String = "d1") -> InstanceSpec {
        InstanceSpec(
            service: "web", blueprint: "web", release: release,
            artifact: ArtifactReference(component: "c", sha256: "aa", url: nil, executable: "x"), arguments: [],
            configFiles: [], configDigest: digest, parameters: [:], ports: [:],
            health: HealthCheckSpec(
                probe: .tcp(port: 1), intervalSeconds: 1, timeoutSeconds: 1, retries: 1, startPeriodSeconds: 0),
            migrations: nil, stopGraceSeconds: 5, user: nil)
    }

    private func target(_ release: String) -> [ExpectedInstance] {
        [ExpectedInstance(service: "web", release: release, configDigest: "d1")]
    }

    private func report(serial: Int?, _ instances: [InstanceReport]) -> NodeReport {
        NodeReport(node: "n1", environment: "e", desiredSerial: serial, instances: instances)
    }

    /// The plan's "at least" line counts the waves the server will make.
    @Test func waveCount_isTheNumberOfWavesTheServerMakes() {
        for count in 0...40 {
            for (canary, inFlight, percent) in [
                (0, 100, true), (1, 1, false), (2, 25, true), (3, 4, false), (50, 1, false),
            ] {
                let policy = settings(canary: canary, maxInFlight: inFlight, percent: percent)
                let waves = RolloutDocument.waves(of: nodes(count), settings: policy)
                #expect(
                    policy.waveCount(of: count) == (waves.max().map { $0 + 1 } ?? 0), "\(count) \(canary) \(inFlight)")
            }
        }
    }

    @Test func verdict_waitsForTheNodeToConverge_thenJudgesWhatRuns() {
        let wanted = target("r2")
        #expect(RolloutEngine.verdict(of: nil, expected: wanted, writtenSerial: 3) == .pending("installing"))
        let running = InstanceReport(
            spec: spec(release: "r2"), state: .running, health: "ok", lastError: nil, drift: [])
        #expect(
            RolloutEngine.verdict(of: report(serial: 2, [running]), expected: wanted, writtenSerial: 3)
                == .pending("installing"))
        #expect(RolloutEngine.verdict(of: report(serial: 3, [running]), expected: wanted, writtenSerial: 3) == .healthy)

        var starting = running
        starting.state = .starting
        #expect(
            RolloutEngine.verdict(of: report(serial: 3, [starting]), expected: wanted, writtenSerial: 3)
                == .pending("web is starting"))

        let undone = InstanceReport(
            spec: spec(release: "r1"), state: .running, health: "ok", lastError: "not healthy after start: HTTP 500",
            drift: [])
        #expect(
            RolloutEngine.verdict(of: report(serial: 3, [undone]), expected: wanted, writtenSerial: 3)
                == .failed("web stayed on release r1: not healthy after start: HTTP 500"))

        var looping = running
        looping.state = .crashLooping
        looping.lastError = "exit status 1"
        #expect(
            RolloutEngine.verdict(of: report(serial: 3, [looping]), expected: wanted, writtenSerial: 3)
                == .failed("web is crash-looping: exit status 1"))

        #expect(
            RolloutEngine.verdict(of: report(serial: 3, []), expected: wanted, writtenSerial: 3)
                == .failed("web is not running on the node"))
        // An empty target (a removal) is met once nothing runs.
        let empty: [ExpectedInstance] = []
        #expect(
            RolloutEngine.verdict(of: report(serial: 4, [running]), expected: empty, writtenSerial: 4)
                == .pending("web is still running"))
        #expect(RolloutEngine.verdict(of: report(serial: 4, []), expected: empty, writtenSerial: 4) == .healthy)
    }

    /// A node that stopped reporting cannot vouch for a release (issue #18): its last report was
    /// healthy, but the verified gate stays closed while it is silent.
    @Test func verifiedGate_isClosedWhileASourceNodeIsSilent() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let gates = PromotionGates(
            release: "r2",
            policy: PromotionPolicy(
                source: "sandbox", soakSeconds: 600, approvals: 1, respectWindows: false, canarySite: nil,
                maxSitesInFlight: 1, windows: [:]),
            now: start.addingTimeInterval(3600))
        let rollout = RolloutRecord(
            id: "ro-1", environment: "sandbox", release: "r2", serial: 3, state: .succeeded, document: "{}",
            createdAt: start, updatedAt: start)
        var desired: [String: (serial: Int, state: NodeDesiredState)] = [:]
        var reports: [String: (report: NodeReport, at: Date)] = [:]
        for node in ["n1", "n2"] {
            desired[node] = (
                3,
                NodeDesiredState(
                    node: node, site: "a", environment: "sandbox", address: "127.0.0.1",
                    instances: [spec(release: "r2")])
            )
            let running = InstanceReport(
                spec: spec(release: "r2"), state: .running, health: "ok", lastError: nil, drift: [])
            reports[node] = (
                NodeReport(node: node, environment: "sandbox", desiredSerial: 3, instances: [running]),
                start.addingTimeInterval(60)
            )
        }
        func verified(silent: Set<String>) -> GateView {
            gates.verified(
                sourceRollouts: [rollout], sourceDesired: desired, sourceReports: reports, migrations: [],
                disconnected: silent)
        }
        #expect(verified(silent: []).open)
        let closed = verified(silent: ["n2"])
        #expect(!closed.open)
        #expect(closed.detail.hasPrefix("n2 in sandbox has not reported since "), "\(closed.detail)")
        #expect(closed.detail.hasSuffix(": a silent node cannot vouch for r2"), "\(closed.detail)")
    }

    @Test(arguments: [
        ("bytes=0-9", 100, 0...9), ("bytes=90-", 100, 90...99), ("bytes=-10", 100, 90...99),
        ("bytes=95-200", 100, 95...99),
    ])
    func byteRange_readsTheFormsClientsSend(header: String, size: Int, expected: ClosedRange<Int>) {
        #expect(ReleaseController.byteRange(header, size: size) == expected)
    }

    @Test(arguments: ["bytes=100-", "bytes=5-2", "bytes=0-1,4-5", "items=0-1", "bytes=abc", "bytes=-0"])
    func byteRange_refusesWhatItCannotServe(header: String) {
        #expect(ReleaseController.byteRange(header, size: 100) == nil)
    }
}
