import Testing

@testable import SensorThings

/// Times as SensorThings writes and reads them: byte by byte both ways, so they must agree with
/// each other and with the calendar for every year a four-digit text can hold.
struct SensorTimeTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)), ("2026-12-06T10:15:00Z", 1_796_552_100_000),
        ("2026-12-06T10:15:00.250Z", 1_796_552_100_250), ("2024-02-29T23:59:59.001Z", 1_709_251_199_001),
        ("1969-12-31T23:59:59.999Z", -1), ("0001-01-01T00:00:00Z", -62_135_596_800_000),
        ("9999-12-31T23:59:59Z", 253_402_300_799_000),
    ])
    func textAndMilliseconds_areInverse(text: String, milliseconds: Int64) {
        #expect(SensorTime.text(milliseconds) == text)
        #expect(SensorTime.milliseconds(text) == milliseconds)
    }

    @Test func offsetsFractionsAndIntervals_areRead() {
        #expect(SensorTime.milliseconds("2026-12-06T11:15:00+01:00") == 1_796_552_100_000)
        #expect(SensorTime.milliseconds("2026-12-06T10:15:00.123456789Z") == 1_796_552_100_123)
        #expect(SensorTime.milliseconds("2026-12-06") == 1_796_515_200_000)
        #expect(
            SensorTime.interval("2026-12-06T10:00:00Z/2026-12-06T11:00:00Z")! == (1_796_551_200_000, 1_796_554_800_000))
        #expect(SensorTime.interval("2026-12-06T10:00:00Z")! == (1_796_551_200_000, nil))
    }

    @Test(arguments: [
        "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-12-06T24:00:00Z", "2026-12-06T10:15:00",
        "2026-12-06T10:15:00.Z", "２０２６-12-06T10:15:00Z", "2026-12-06T10:15:00Zjunk", "",
        "2026-12-06T11:00:00Z/2026-12-06T10:00:00Z",
    ])
    func malformedTimes_areRefused(text: String) {
        #expect(SensorTime.interval(text) == nil)
    }
}
