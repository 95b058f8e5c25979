package import Foundation
package import ServiceSupport
import Yams

/// A site's parking file (`parking-sites.yaml`): what a feed without positions does not say about
/// its car parks, matched by the name the feed gives them.
///
/// ```yaml
/// sites:
///   - uid: kaiserslautern-ph-altstadt      # ParkAPI's id: lowercase letters, digits, - and _
///     name: PH Altstadt                    # as the feed names it
///     type: CAR_PARK                       # a ParkAPI v3 type
///     lat: 49.4469741
///     lon: 7.7724651
///     address: Rittersberg 2, 67657 Kaiserslautern   # optional
///     opening_hours: 24/7                  # optional, OSM's form
///     public_url: https://…                # optional
/// ```
package enum ParkingSitesFile {
    package static let maxBytes = 262_144
    static let maxSites = 1000

    /// The sites of the file at `path`, by the feed's name; an empty file has none.
    package static func load(_ path: String, updatedAt: Date) throws(YAMLFileError) -> [String: ParkingSite] {
        try parse(YAMLFileReader.text(at: path, maxBytes: maxBytes), file: path, updatedAt: updatedAt)
    }

    package static func parse(
        _ text: String, file: String, updatedAt: Date
    ) throws(YAMLFileError) -> [String: ParkingSite] {
        var reader = YAMLFileReader(file: file)
        guard let root = try reader.compose(text) else { return [:] }
        var sites: [String: ParkingSite] = [:]
        var uids: Set<String> = []
        if let fields = reader.mapping(root, "the parking file", allowed: ["sites"]),
            let node = reader.required(fields, "sites", in: root, "the parking file"),
            let list = reader.sequence(node, "sites")
        {
            if list.count > maxSites { reader.report("more than \(maxSites) sites", at: node) }
            for item in list.prefix(maxSites) {
                guard let site = parseSite(item, &reader, updatedAt: updatedAt) else { continue }
                guard uids.insert(site.uid).inserted else {
                    reader.report("the uid '\(site.uid)' appears twice", at: item)
                    continue
                }
                guard sites[site.name] == nil else {
                    reader.report(
                        "the name '\(site.name)' appears twice: the feed's names must tell the sites apart", at: item)
                    continue
                }
                sites[site.name] = site
            }
        }
        try reader.finish()
        return sites
    }

    private static func parseSite(_ node: Node, _ reader: inout YAMLFileReader, updatedAt: Date) -> ParkingSite? {
        let keys = ["uid", "name", "type", "lat", "lon", "address", "opening_hours", "public_url", "capacity"]
        guard let fields = reader.mapping(node, "a parking site", allowed: keys) else { return nil }
        let uid = reader.required(fields, "uid", in: node, "a parking site").flatMap { reader.string($0, "uid") }
        if let uid, let node = fields["uid"], !isIdentifier(uid) {
            reader.report(
                "the uid '\(uid.prefix(40))' must be lowercase letters, digits, '-' and '_' (at most 256)", at: node)
        }
        let name = reader.required(fields, "name", in: node, "a parking site").flatMap { reader.text($0, "name") }
        var type: String?
        if let node = reader.required(fields, "type", in: node, "a parking site"),
            let value = reader.string(node, "type")
        {
            if ParkingSite.types.contains(value) {
                type = value
            } else {
                reader.report(
                    "the type '\(value.prefix(40))' is not one of \(ParkingSite.types.sorted().joined(separator: ", "))",
                    at: node)
            }
        }
        // ParkAPI v3 takes positions in and around Germany only.
        let latitude = degrees(fields, "lat", in: node, "a parking site", 34...72, &reader)
        let longitude = degrees(fields, "lon", in: node, "a parking site", -27...43, &reader)
        var capacity: Int?
        if let node = fields["capacity"], let text = reader.string(node, "capacity") {
            capacity = Int(text).flatMap { (0...100_000).contains($0) ? $0 : nil }
            if capacity == nil {
                reader.report("capacity '\(text.prefix(20))' is not a whole number from 0 to 100000", at: node)
            }
        }
        let address = fields["address"].flatMap { reader.text($0, "address", limit: 512) }
        let hours = fields["opening_hours"].flatMap { reader.text($0, "opening_hours", limit: 512) }
        var url: String?
        if let node = fields["public_url"], let value = reader.text(node, "public_url", limit: 4096) {
            if value.hasPrefix("https://") || value.hasPrefix("http://") {
                url = value
            } else {
                reader.report("public_url '\(value.prefix(40))' is not an http(s) URL", at: node)
            }
        }
        guard let uid, let name, let type, let latitude, let longitude else { return nil }
        return ParkingSite(
            uid: uid, name: name, type: type, address: address, latitude: latitude, longitude: longitude,
            capacity: capacity ?? 0, openingHours: hours, publicURL: url, staticUpdatedAt: updatedAt)
    }

    /// Whether `text` may be an id in an address and a SensorThings filter: 1 to 256 lowercase
    /// letters, digits, `-` and `_`.
    static func isIdentifier(_ text: String) -> Bool {
        (1...256).contains(text.count)
            && text.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// The required number `key` of `node` (a site, a counting station), when it lies in `range`.
    static func degrees(
        _ fields: YAMLFileReader.Fields, _ key: String, in node: Node, _ what: String, _ range: ClosedRange<Double>,
        _ reader: inout YAMLFileReader
    ) -> Double? {
        guard let value = reader.required(fields, key, in: node, what), let text = reader.string(value, key)
        else { return nil }
        guard text.utf8.count <= 32, let number = Double(text), number.isFinite, range.contains(number) else {
            reader.report(
                "\(key) '\(text.prefix(40))' is not a number from \(range.lowerBound) to \(range.upperBound)", at: value
            )
            return nil
        }
        return number
    }
}
