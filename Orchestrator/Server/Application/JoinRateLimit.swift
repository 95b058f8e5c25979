import Foundation
import StellwerkAPI
import Synchronization

/// How often one client address may fail to join: a token bucket of `burst` refusals that refills at
/// `perMinute`. Only refused tries are charged, so nodes with valid tokens join however many share an
/// address (a site behind NAT), and a guesser of join tokens is held to a crawl.
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

    /// Refuses `address` while it has no refusal left, saying when it may try again.
    func check(_ address: String, now: Date = Date()) throws(APIError) {
        let wait = buckets.withLock { buckets -> Int? in
            guard let bucket = buckets[address].map({ refilled($0, now: now) }), bucket.tokens < 1 else { return nil }
            return Int(((1 - bucket.tokens) * 60 / perMinute).rounded(.up))
        }
        if let wait {
            throw APIError(.tooManyRequests, "too many refused join attempts from \(address); try again in \(wait) s")
        }
    }

    /// Counts a refused join from `address`.
    func charge(_ address: String, now: Date = Date()) {
        buckets.withLock { buckets in
            if buckets.count >= Self.addressLimit, buckets[address] == nil { forgetFull(&buckets, now: now) }
            var bucket = buckets[address].map { refilled($0, now: now) } ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = max(0, bucket.tokens - 1)
            buckets[address] = bucket
        }
    }

    private func refilled(_ bucket: Bucket, now: Date) -> Bucket {
        Bucket(
            tokens: min(burst, bucket.tokens + max(0, now.timeIntervalSince(bucket.updated)) * perMinute / 60),
            updated: now)
    }

    private func forgetFull(_ buckets: inout [String: Bucket], now: Date) {
        buckets = buckets.filter { refilled($0.value, now: now).tokens < burst }
        if buckets.count >= Self.addressLimit { buckets.removeAll() }
    }
}
