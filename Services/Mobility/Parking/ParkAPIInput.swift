import Foundation

/// ParkAPI v3 JSON as sources publish it: `{"items": [...]}`, each item a parking site with its
/// static fields and, when `has_realtime_data` is true, its realtime fields. An item that breaks
/// the format is left out and named; a body that is not such a document is refused whole.
enum ParkAPIInput {
    static let byteLimit = 16 << 20
    static let itemLimit = 10_000

    static func parse(_ data: Data) throws(SourceRefusal) -> (sites: [ParkingSite], problems: [String]) {
        guard data.count <= byteLimit else {
            throw SourceRefusal("the body is larger than \(byteLimit >> 20) MiB")
        }
        guard let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let items = document["items"] as? [Any]
        else { throw SourceRefusal("the body is not ParkAPI v3 JSON ({\"items\": [...]})") }
        guard items.count <= itemLimit else { throw SourceRefusal("more than \(itemLimit) items") }
        var sites: [ParkingSite] = []
        var problems: [String] = []
        for (index, element) in items.enumerated() {
            do {
                sites.append(try site(element))
            } catch {
                let uid = ((element as? [String: Any])?["uid"] as? String).map { " (\($0.prefix(60)))" } ?? ""
                problems.append("item \(index)\(uid): \(error.description)")
            }
        }
        return (sites, problems)
    }

    /// A JSON true or false (an NSNumber like any number, of the type `c`), not a 0 or 1.
    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    private static func site(_ element: Any) throws(SourceRefusal) -> ParkingSite {
        guard let item = element as? [String: Any] else { throw SourceRefusal("not an object") }
        func text(_ key: String, limit: Int = 256, required: Bool = true) throws(SourceRefusal) -> String? {
            guard let value = item[key], !(value is NSNull) else {
                if required { throw SourceRefusal("\(key) is missing") }
                return nil
            }
            guard let string = value as? String, (1...limit).contains(string.count), !string.contains("\n") else {
                throw SourceRefusal("\(key) is not one line of text of at most \(limit) characters")
            }
            return string
        }
        func number(_ key: String, _ range: ClosedRange<Double>) throws(SourceRefusal) -> Double {
            // ParkAPI gives positions as numbers or as decimal strings.
            let value = item[key]
            let parsed =
                (value as? NSNumber)?.doubleValue
                ?? (value as? String).flatMap { $0.utf8.count <= 32 ? Double($0) : nil }
            guard let parsed, parsed.isFinite, range.contains(parsed) else {
                throw SourceRefusal("\(key) is not a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return parsed
        }
        func count(_ key: String, required: Bool = true) throws(SourceRefusal) -> Int? {
            guard let value = item[key], !(value is NSNull) else {
                if required { throw SourceRefusal("\(key) is missing") }
                return nil
            }
            guard let number = value as? NSNumber, !isBoolean(number),
                number.doubleValue == number.doubleValue.rounded(), (0...100_000).contains(number.doubleValue)
            else { throw SourceRefusal("\(key) is not a whole number from 0 to 100000") }
            return number.intValue
        }
        func time(_ key: String) throws(SourceRefusal) -> Date {
            guard let text = item[key] as? String, text.utf8.count <= 40, let date = ParkAPITime.parse(text) else {
                throw SourceRefusal("\(key) is not a time YYYY-MM-DDTHH:MM:SS with Z or an offset")
            }
            return date
        }
        let uid = try text("uid")!
        let type = try text("type")!.uppercased()
        guard ParkingSite.types.contains(type) else {
            throw SourceRefusal("type \(type.prefix(40)) is not a ParkAPI v3 type")
        }
        guard let flag = item["has_realtime_data"] as? NSNumber, isBoolean(flag) else {
            throw SourceRefusal("has_realtime_data is not true or false")
        }
        let realtimeFlag = flag.boolValue
        var site = ParkingSite(
            uid: uid, name: try text("name")!, type: type, address: try text("address", limit: 512, required: false),
            latitude: try number("lat", 34...72), longitude: try number("lon", -27...43),
            capacity: try count("capacity")!,
            openingHours: try text("opening_hours", limit: 512, required: false),
            publicURL: try text("public_url", limit: 4096, required: false),
            staticUpdatedAt: try time("static_data_updated_at"))
        if realtimeFlag {
            let status = try text("realtime_opening_status", required: false)?.uppercased() ?? "UNKNOWN"
            guard ["OPEN", "CLOSED", "UNKNOWN"].contains(status) else {
                throw SourceRefusal("realtime_opening_status \(status.prefix(20)) is not OPEN, CLOSED or UNKNOWN")
            }
            guard let free = try count("realtime_free_capacity", required: false) else {
                throw SourceRefusal("has_realtime_data is true, and realtime_free_capacity is missing")
            }
            site.realtime = ParkingSite.Realtime(
                updatedAt: try time("realtime_data_updated_at"), openingStatus: status,
                capacity: try count("realtime_capacity", required: false) ?? site.capacity, free: free)
        }
        return site
    }
}

/// Times as ParkAPI writes them: `YYYY-MM-DDTHH:MM:SS`, fractions allowed, with `Z` or `±HH:MM`
/// (without either, UTC).
enum ParkAPITime {
    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        return formatter.date(from: text + "Z") ?? ISO8601DateFormatter().date(from: text + "Z")
    }
}
