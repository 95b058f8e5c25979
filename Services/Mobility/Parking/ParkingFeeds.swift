package import Foundation
import Synchronization

/// The parking occupancy the service took in, by source: Kaiserslautern's XML feed (completed by the
/// site's parking file, matched by name) and ParkAPI v3 JSON sources. Each source's last good data
/// is kept; a source whose data was produced longer than `staleAfter` ago is stale, and its sites
/// are served without realtime data then, so no client takes an old count for today's.
package final class ParkingFeeds: Sendable {
    package enum Kind: Sendable, Equatable {
        /// The feed and the sites its car parks are, by the names it gives them.
        case kaiserslauternXML(sites: [String: ParkingSite])
        case parkAPI
    }

    package struct Source: Sendable {
        package var url: String
        package var kind: Kind

        package init(url: String, kind: Kind) {
            self.url = url
            self.kind = kind
        }
    }

    package let sources: [Source]
    package let staleAfter: TimeInterval
    private let state = Mutex<[String: Taken]>([:])

    typealias Taken = SourceTaken<ParkingSite>

    package init(sources: [Source], staleAfter: TimeInterval) {
        self.sources = sources
        self.staleAfter = staleAfter
    }

    /// Takes a body fetched from `url`, or refuses it (the data taken before stays, and ages).
    package func accept(_ body: Data, from url: String, at now: Date) throws(SourceRefusal) {
        guard let source = sources.first(where: { $0.url == url }) else {
            throw SourceRefusal("\(url) is not a configured parking source")
        }
        var taken = Taken(fetchedAt: now, attemptedAt: now)
        do {
            switch source.kind {
            case .kaiserslauternXML(let known):
                let reading = try KaiserslauternParking.parse(body)
                taken.producedAt = min(now, reading.time)
                var seen: Set<String> = []
                for carPark in reading.carParks {
                    guard var site = known[carPark.name] else {
                        taken.leftOut.append("\(carPark.name.prefix(80)) is in the feed, not in the parking file")
                        continue
                    }
                    seen.insert(carPark.name)
                    if site.capacity == 0 { site.capacity = carPark.total }
                    site.realtime = ParkingSite.Realtime(
                        updatedAt: reading.time, openingStatus: KaiserslauternParking.openingStatus(carPark.status),
                        capacity: carPark.total, free: max(0, carPark.total - carPark.taken))
                    taken.items.append(site)
                }
                // Sites of the file the feed does not name: what they are, without occupancy.
                taken.items += known.values.filter { !seen.contains($0.name) }
            case .parkAPI:
                let (sites, problems) = try ParkAPIInput.parse(body)
                taken.items = sites
                taken.leftOut = problems
                taken.producedAt = min(now, sites.compactMap(\.realtime?.updatedAt).max() ?? now)
            }
        } catch {
            failed(url, error.description, at: now)
            throw error
        }
        state.withLock { $0[url] = taken }
    }

    package func failed(_ url: String, _ reason: String, at now: Date) {
        state.withLock { $0.noteFailure(of: url, reason, at: now) }
    }

    /// Every site, by uid (a later source's site replacing an earlier one's), sorted by uid; the
    /// realtime data of stale sources left out.
    package func sites(at now: Date) -> [ParkingSite] {
        let taken = state.withLock { $0 }
        var byUID: [String: ParkingSite] = [:]
        for source in sources {
            guard let data = taken[source.url] else { continue }
            let stale = isStale(data, at: now)
            for var site in data.items {
                if stale { site.realtime = nil }
                byUID[site.uid] = site
            }
        }
        return byUID.keys.sorted().compactMap { byUID[$0] }
    }

    private func isStale(_ taken: Taken, at now: Date) -> Bool {
        guard let produced = taken.producedAt else { return true }
        return now.timeIntervalSince(produced) > staleAfter
    }

    /// One source as `/api/parking/sources` shows it.
    package struct Status: Codable, Sendable {
        package var url: String
        package var format: String
        package var stale: Bool
        package var producedAt: String?
        package var fetchedAt: String?
        package var attemptedAt: String?
        package var sites: Int
        package var leftOut: [String]
        package var lastError: String?
    }

    package func statuses(at now: Date) -> [Status] {
        let taken = state.withLock { $0 }
        func text(_ date: Date?) -> String? { date.map { $0.formatted(.iso8601) } }
        return sources.map { source in
            let data = taken[source.url] ?? Taken()
            let format = if case .parkAPI = source.kind { "parkapi-v3" } else { "kaiserslautern-xml" }
            return Status(
                url: source.url, format: format, stale: isStale(data, at: now), producedAt: text(data.producedAt),
                fetchedAt: text(data.fetchedAt), attemptedAt: text(data.attemptedAt), sites: data.items.count,
                leftOut: Array(data.leftOut.prefix(50)), lastError: data.lastError)
        }
    }
}
