import Foundation

/// Which services run on which day, from calendar.txt (weekdays between two dates) and
/// calendar_dates.txt (a day added or removed), for one feed version.
package struct ServiceCalendar: Sendable {
    struct Period: Sendable {
        /// Monday is bit 0.
        var weekdays: Int
        var start: Int
        var end: Int
    }

    var periods: [String: Period] = [:]
    /// service → date → exception type (1 added, 2 removed).
    var exceptions: [String: [Int: Int]] = [:]

    /// The services running on `date`.
    func services(on date: GTFSDate) -> Set<String> {
        let number = date.number
        let bit = 1 << Self.weekdayIndex(date)
        var running: Set<String> = []
        for (service, period) in periods
        where period.start <= number && number <= period.end && period.weekdays & bit != 0 {
            running.insert(service)
        }
        for (service, days) in exceptions {
            switch days[number] {
            case 1: running.insert(service)
            case 2: running.remove(service)
            default: break
            }
        }
        return running
    }

    /// 0 for Monday … 6 for Sunday (Zeller's congruence, so no calendar object is needed).
    package static func weekdayIndex(_ date: GTFSDate) -> Int {
        var year = date.year
        var month = date.month
        if month < 3 {
            month += 12
            year -= 1
        }
        let h = (date.day + (13 * (month + 1)) / 5 + year + year / 4 - year / 100 + year / 400) % 7
        // h: 0 is Saturday.
        return (h + 5) % 7
    }
}

/// A service day in a feed's time zone: its date, and the instant its times count from (noon minus
/// twelve hours, as GTFS defines it, which is midnight except on days the clocks change).
struct ServiceDay: Sendable {
    let date: GTFSDate
    let origin: Date

    init(_ date: GTFSDate, in zone: TimeZone) {
        self.date = date
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let noon = calendar.date(from: DateComponents(year: date.year, month: date.month, day: date.day, hour: 12))!
        origin = noon.addingTimeInterval(-12 * 3600)
    }

    /// The service days whose times may fall around `instant`: the day it is on in `zone`, and the
    /// days before, whose trips run past midnight (times up to `GTFSTime.hourLimit` hours).
    static func around(_ instant: Date, in zone: TimeZone) -> [ServiceDay] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        let today = calendar.date(from: DateComponents(year: parts.year, month: parts.month, day: parts.day, hour: 12))!
        let spanned = (GTFSTime.hourLimit + 23) / 24
        return (0..<spanned).reversed().map { back in
            let day = calendar.dateComponents(
                [.year, .month, .day], from: calendar.date(byAdding: .day, value: -back, to: today)!)
            return ServiceDay(GTFSDate(year: day.year!, month: day.month!, day: day.day!), in: zone)
        }
    }
}
