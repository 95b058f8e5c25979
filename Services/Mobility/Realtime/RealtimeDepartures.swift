import Foundation

extension RealtimeSnapshot {
    /// What realtime data says of one departure: when it leaves now and how late, or that it does
    /// not (its trip cancelled, or its stop skipped). nil when nothing is known of it.
    struct Change: Equatable {
        var expected: Date?
        var delaySeconds: Int?
        var cancelled = false
    }

    /// The change for the departure of `trip` (service day `serviceDate`) at its stop `sequence`
    /// (`stopID`), scheduled at `scheduled`. A stop without an update of its own takes the delay of
    /// the last stop before it that has one (GTFS-Realtime's propagation); updates that name only a
    /// stop id apply to that stop alone. A trip-level delay applies where no stop says more.
    func change(
        trip: String, serviceDate: String, sequence: Int, stopID: String, scheduled: Date
    ) -> Change? {
        guard let update = update(of: trip, on: serviceDate) else { return nil }
        if update.trip.scheduleRelationship == .canceled { return Change(cancelled: true) }
        var own: TransitRealtime_TripUpdate.StopTimeUpdate?
        var before: TransitRealtime_TripUpdate.StopTimeUpdate?
        for stop in update.stopTimeUpdate {
            if stop.hasStopSequence {
                if Int(stop.stopSequence) == sequence {
                    own = stop
                } else if Int(stop.stopSequence) < sequence,
                    before.map({ Int($0.stopSequence) < Int(stop.stopSequence) }) ?? true
                {
                    before = stop
                }
            } else if stop.hasStopID && stop.stopID == stopID {
                own = stop
            }
        }
        if let own {
            switch own.scheduleRelationship {
            case .skipped: return Change(cancelled: true)
            case .noData: return nil
            default: break
            }
            let event = own.hasDeparture ? own.departure : own.arrival
            if event.hasTime, event.time > 0, event.time < Int64(Int32.max) * 2 {
                let expected = Date(timeIntervalSince1970: TimeInterval(event.time))
                return Change(expected: expected, delaySeconds: Int(expected.timeIntervalSince(scheduled).rounded()))
            }
            if event.hasDelay { return Self.delayed(scheduled, by: Int(event.delay)) }
        }
        // Propagated from the stop before: its delay (a time there says nothing of the times here).
        if let before, before.scheduleRelationship != .noData {
            let event = before.hasDeparture ? before.departure : before.arrival
            if event.hasDelay { return Self.delayed(scheduled, by: Int(event.delay)) }
        }
        if update.hasDelay { return Self.delayed(scheduled, by: Int(update.delay)) }
        return nil
    }

    private static func delayed(_ scheduled: Date, by seconds: Int) -> Change {
        Change(expected: scheduled.addingTimeInterval(TimeInterval(seconds)), delaySeconds: seconds)
    }

    /// An alert as a board shows it.
    package struct BoardAlert: Codable, Sendable, Equatable {
        package var id: String
        package var cause: String
        package var effect: String
        package var header: String?
        package var description: String?
        package var url: String?
    }

    /// The alerts active at `instant` that name one of `stops` or `routes`.
    func alerts(at instant: Date, stops: Set<String>, routes: Set<String>) -> [BoardAlert] {
        alerts.compactMap { entity -> BoardAlert? in
            let alert = entity.alert
            let seconds = UInt64(max(0, instant.timeIntervalSince1970))
            let active =
                alert.activePeriod.isEmpty
                || alert.activePeriod.contains {
                    (!$0.hasStart || $0.start <= seconds) && (!$0.hasEnd || $0.end == 0 || seconds <= $0.end)
                }
            let concerns = alert.informedEntity.contains {
                ($0.hasStopID && stops.contains($0.stopID)) || ($0.hasRouteID && routes.contains($0.routeID))
            }
            guard active && concerns else { return nil }
            return BoardAlert(
                id: entity.id, cause: Self.constant(String(describing: alert.cause)),
                effect: Self.constant(String(describing: alert.effect)), header: Self.german(alert.headerText),
                description: Self.german(alert.descriptionText), url: Self.german(alert.url))
        }
    }

    /// The German text of a translated string, else one without a language, else the first.
    private static func german(_ text: TransitRealtime_TranslatedString) -> String? {
        let translations = text.translation
        return
            (translations.first { $0.language.lowercased().hasPrefix("de") }
            ?? translations.first { !$0.hasLanguage } ?? translations.first)?.text
    }

    /// `technicalProblem` as the specification writes it: `TECHNICAL_PROBLEM`.
    private static func constant(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase { result += "_" }
            result += character.uppercased()
        }
        return result
    }
}
