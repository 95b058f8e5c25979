import Foundation
import StellwerkAPI
import Synchronization

/// How often one client address may try to join: a token bucket of `burst` tries that refills at
/// `perMinute`, so a site joining its nodes at once goes through and a guesser of join tokens is held
/// to a crawl.
final class JoinRateLimit: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    private let buckets = Mutex<[String: Bucket]>([:])
    let burst: Double
    let perMinute: Double
    /// Addresses remembered at most; a full table forgets the ones with a full bucket first.
    static let addressLimit = 100_000

    init(burst: Int = 30, perMinute: Int = 10) {
        self.burst = Double(burst)
        self.perMinute = Double(perMinute)
    }

    /// Takes one try for `address`, or refuses with when the next one is allowed.
    func take(_ address: String, now: Date = Date()) throws(APIError) {
        let wait = buckets.withLock { buckets -> Int? in
            if buckets.count >= Self.addressLimit, buckets[address] == nil { forgetFull(&buckets, now: now) }
            var bucket = buckets[address] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + now.timeIntervalSince(bucket.updated) * perMinute / 60)
            bucket.updated = now
            defer { buckets[address] = bucket }
            guard bucket.tokens >= 1 else { return Int(((1 - bucket.tokens) * 60 / perMinute).rounded(.up)) }
            bucket.tokens -= 1
            return nil
        }
        if let wait {
            throw APIError(
                .tooManyRequests, "too many join attempts from \(address); try again in \(wait) s")
        }
    }

    private func forgetFull(_ buckets: inout [String: Bucket], now: Date) {
        buckets = buckets.filter { $0.value.tokens + now.timeIntervalSince($0.value.updated) * perMinute / 60 < burst }
        if buckets.count >= Self.addressLimit { buckets.removeAll() }
    }
}
