package import Foundation
package import StellwerkAPI

/// Weekly maintenance windows in Europe/Berlin local time, the zone every member municipality
/// writes its windows in; daylight saving time is the calendar's business, not the caller's.
package struct MaintenanceWindows: Sendable {
    package let windows: [MaintenanceWindowSpec]
    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin") ?? .gmt
        return calendar
    }()

    package init(_ windows: [MaintenanceWindowSpec]) { self.windows = windows }

    /// Whether one of the windows is open at `date`.
    package func isOpen(at date: Date) -> Bool {
        let (day, minute) = Self.local(date)
        let yesterday = day == 1 ? 7 : day - 1
        return windows.contains { window in
            if window.from < window.to {
                return window.days.contains(day) && minute >= window.from && minute < window.to
            }
            // Across midnight: opened today, or opened yesterday and not closed yet.
            return (window.days.contains(day) && minute >= window.from)
                || (window.days.contains(yesterday) && minute < window.to)
        }
    }

    /// When the next window opens after `date`, or `date` itself when one is open; `nil` without windows.
    package func nextOpening(after date: Date) -> Date? {
        if isOpen(at: date) { return date }
        let calendar = Self.calendar
        let today = calendar.startOfDay(for: date)
        var earliest: Date?
        for offset in 0...7 {
            guard let day = calendar.date(byAdding: .day, value: offset, to: today) else { continue }
            let weekday = Self.local(day).day
            for window in windows where window.days.contains(weekday) {
                guard
                    let opening = calendar.date(
                        bySettingHour: window.from / 60, minute: window.from % 60, second: 0, of: day),
                    opening > date
                else { continue }
                if earliest.map({ opening < $0 }) ?? true { earliest = opening }
            }
            if earliest != nil { break }
        }
        return earliest
    }

    /// A date as an operator in Kusel reads it: "Tue 21:00 (Europe/Berlin)".
    package static func describe(_ date: Date) -> String {
        let parts = calendar.dateComponents([.weekday, .day, .month, .hour, .minute], from: date)
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        return "\(names[(parts.weekday ?? 1) - 1]) \(two(parts.day)).\(two(parts.month)). "
            + "\(two(parts.hour)):\(two(parts.minute)) (Europe/Berlin)"
    }

    /// ISO weekday (1 = Monday) and minute of the local day.
    private static func local(_ date: Date) -> (day: Int, minute: Int) {
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        let weekday = parts.weekday ?? 1
        return ((weekday + 5) % 7 + 1, (parts.hour ?? 0) * 60 + (parts.minute ?? 0))
    }
}
