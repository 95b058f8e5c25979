import Foundation
import Hummingbird

extension MobilityServer {
    /// ParkAPI v3's parking sites, the parking sources' state, and the synthetic feed of a sandbox.
    func parkingRoutes(_ router: Router<BasicRequestContext>) {
        router.get("/api/parking/v3/parking-sites") { _, _ in
            guard let parking else { return failure(.noParking, route: "parking") }
            let items = parking.sites(at: Date()).map(\.item)
            return parkAPI(["items": items, "total_count": items.count])
        }
        router.get("/api/parking/v3/parking-sites/{uid}") { _, context in
            guard let parking else { return failure(.noParking, route: "parking") }
            let uid = context.parameters.get("uid") ?? ""
            guard let site = parking.sites(at: Date()).first(where: { $0.uid == uid }) else {
                return failure(.notFound("no parking site '\(uid.prefix(80))'"), route: "parking")
            }
            return parkAPI(site.item)
        }
        router.get("/api/parking/sources") { _, _ in
            try await answer("parking-sources") { () -> [String: [ParkingFeeds.Status]] in
                guard let parking else { throw MobilityError.noParking }
                return ["sources": parking.statuses(at: Date())]
            }
        }
        if configuration.parking.synthetic {
            router.get("/synthetic/parking/kaiserslautern.xml") { _, _ in
                requests.add(["synthetic-parking", "200"])
                return Response(
                    status: .ok, headers: [.contentType: "application/xml; charset=utf-8"],
                    body: ResponseBody(
                        byteBuffer: ByteBuffer(bytes: SyntheticParking.feed(configuration.parking.sites, at: Date()))))
            }
        }
    }

    /// The count sources' state, the history publisher's, and the synthetic counts of a sandbox.
    func countRoutes(_ router: Router<BasicRequestContext>) {
        router.get("/api/counts/sources") { _, _ in
            try await answer("count-sources") { () -> [String: [CountFeeds.Status]] in
                guard let counts else { throw MobilityError.noCounts }
                return ["sources": counts.statuses()]
            }
        }
        router.get("/api/history") { _, _ in
            try await answer("history") { () -> HistoryStatus.Snapshot in
                guard let history else { throw MobilityError.noHistory }
                return history.snapshot
            }
        }
        if configuration.counts.synthetic {
            router.get("/synthetic/counts.csv") { _, _ in
                requests.add(["synthetic-counts", "200"])
                return Response(
                    status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                    body: ResponseBody(
                        byteBuffer: ByteBuffer(bytes: SyntheticCounts.feed(configuration.counts.stations, at: Date()))))
            }
        }
    }

    private func parkAPI(_ value: Any) -> Response {
        requests.add(["parking", "200"])
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data()
        return Self.json(data, status: 200)
    }
}
