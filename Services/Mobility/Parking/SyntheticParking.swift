package import Foundation

/// A made-up Kaiserslautern car park feed, for sandboxes: every car park of the site's parking file,
/// filling up in the morning, fullest around noon, nearly empty at night, each a little differently
/// (a hash of its name and the quarter hour), in the feed's own XML form. The names carry the
/// parking file's, which say they are synthetic.
package enum SyntheticParking {
    package static func feed(_ sites: [String: ParkingSite], at now: Date) -> Data {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: now)
        let hour = Double(parts.hour ?? 0) + Double(parts.minute ?? 0) / 60
        // Share taken: 10 % at night, rising to 85 % at noon, down again by midnight.
        let curve = 0.10 + 0.75 * max(0, sin((hour - 6) / 14 * Double.pi))
        let quarter = Int(now.timeIntervalSince1970) / 900
        var xml = "<Daten>\n"
        xml += String(
            format: "<Zeitstempel>%02d.%02d.%04d %02d:%02d:%02d</Zeitstempel>\n", parts.day ?? 1, parts.month ?? 1,
            parts.year ?? 2026, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        for (index, site) in sites.values.sorted(by: { $0.uid < $1.uid }).enumerated() {
            let total = site.capacity > 0 ? site.capacity : 200
            let jitter = Double(SyntheticRealtime.roll("\(site.name)\(quarter)") % 21 - 10) / 100
            let taken = min(total, max(0, Int((Double(total) * (curve + jitter)).rounded())))
            xml += """
                <Parkhaus>
                <ID>\(index + 1)</ID>
                <Name>\(escaped(site.name))</Name>
                <Gesamt>\(total)</Gesamt>
                <Aktuell>\(taken)</Aktuell>
                <Trend>0</Trend>
                <Status>Offen</Status>
                </Parkhaus>

                """
        }
        xml += "</Daten>\n"
        return Data(xml.utf8)
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
