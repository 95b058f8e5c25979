package import Foundation

/// A car park or parking ground as ParkAPI v3 describes it: what it is (static) and, where a source
/// says so, how full it is now (realtime).
package struct ParkingSite: Sendable, Equatable {
    /// What ParkAPI v3 allows as `type`.
    package static let types: Set<String> = [
        "ON_STREET", "OFF_STREET_PARKING_GROUND", "UNDERGROUND", "CAR_PARK", "WALL_LOOPS", "SAFE_WALL_LOOPS",
        "STANDS", "LOCKERS", "SHED", "TWO_TIER", "BUILDING", "FLOOR", "LOCKBOX", "OTHER",
    ]

    package var uid: String
    package var name: String
    package var type: String
    package var address: String?
    package var latitude: Double
    package var longitude: Double
    package var capacity: Int
    package var openingHours: String?
    package var publicURL: String?
    package var staticUpdatedAt: Date
    package var realtime: Realtime?

    package struct Realtime: Sendable, Equatable {
        package var updatedAt: Date
        /// OPEN, CLOSED or UNKNOWN.
        package var openingStatus: String
        package var capacity: Int
        package var free: Int
    }

    /// The site as a ParkAPI v3 item (static and realtime fields in one object, as ParkAPI v3's
    /// list answers and push bodies carry them).
    package var item: [String: Any] {
        var item: [String: Any] = [
            "uid": uid, "name": name, "type": type, "purpose": "CAR", "lat": Self.decimal(latitude),
            "lon": Self.decimal(longitude), "capacity": capacity, "has_realtime_data": realtime != nil,
            "static_data_updated_at": Self.timestamp(staticUpdatedAt),
        ]
        if let address { item["address"] = address }
        if let openingHours { item["opening_hours"] = openingHours }
        if let publicURL { item["public_url"] = publicURL }
        if let realtime {
            item["realtime_data_updated_at"] = Self.timestamp(realtime.updatedAt)
            item["realtime_opening_status"] = realtime.openingStatus
            item["realtime_capacity"] = realtime.capacity
            item["realtime_free_capacity"] = realtime.free
        }
        return item
    }

    /// Seven decimals (about a centimetre), as a string: a float would print 49.446974099999997.
    static func decimal(_ value: Double) -> String { String(format: "%.7f", value) }

    /// UTC with seconds and `Z`, the form ParkAPI v3's validators read.
    static func timestamp(_ date: Date) -> String {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)).formatted(.iso8601)
    }
}
