import Foundation
import Mobility
import TestSupport
import Testing

/// The bell the catalog registration and the history publisher wait on: a wait that ends by its
/// time leaves the bell working, so the next wait waits again (an AsyncStream finished itself there,
/// and every later wait returned at once: a loop that spun).
struct BellTests {
    @Test func aWaitThatTimesOut_leavesTheBellWorking() async {
        let bell = Bell()
        let clock = ContinuousClock()
        for _ in 0..<3 {
            // A sleep never ends early, however busy the machine: a shorter wait is one that did not wait.
            let waited = await clock.measure { await wait(.milliseconds(200), orUntil: bell) }
            #expect(waited >= .milliseconds(200), "a wait returned after \(waited)")
        }
    }

    /// Each wait here would last an hour unless the ring ends it; the time limit turns a bell that
    /// does not ring into a failure rather than a hang.
    @Test(.timeLimit(.minutes(1))) func aRing_endsTheWait_andOneWhileNobodyWaits_isKeptForTheNext() async throws {
        let bell = Bell()
        bell.ring()
        await wait(.seconds(3600), orUntil: bell)
        let waiter = Task { await wait(.seconds(3600), orUntil: bell) }
        try await waitUntil("the task waits for the bell") { bell.isAwaited }
        bell.ring()
        await waiter.value
        #expect(!bell.isAwaited)
    }
}
