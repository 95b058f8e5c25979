import Foundation

/// What one polled source (parking, counts) gave last, and how its last fetch went.
struct SourceTaken<Item: Sendable>: Sendable {
    var items: [Item] = []
    /// Items of the body left out, with why.
    var leftOut: [String] = []
    /// When the source says its data was made, where it says.
    var producedAt: Date?
    var fetchedAt: Date?
    var attemptedAt: Date?
    var lastError: String?
}

extension Dictionary where Key == String {
    /// Notes a fetch of `url` that gave nothing to take: what it gave before stays, and ages.
    mutating func noteFailure<Item>(of url: String, _ reason: String, at now: Date)
    where Value == SourceTaken<Item> {
        var taken = self[url] ?? SourceTaken()
        taken.attemptedAt = now
        taken.lastError = reason
        self[url] = taken
    }
}
