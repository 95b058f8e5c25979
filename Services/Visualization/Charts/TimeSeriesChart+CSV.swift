import SensorThings

extension TimeSeriesChart {
    /// The readings the chart is drawn from (in its range, drawable), one per line: the time in UTC
    /// as SensorThings writes it and the value with a decimal point, for spreadsheets and scripts.
    package func csv() -> String {
        var text = "phenomenonTime,result\n"
        for reading in drawable.readings {
            text += SensorTime.text(reading.time) + "," + CSVNumber.text(reading.value) + "\n"
        }
        return text
    }
}

/// Numbers as the CSV files write them: a decimal point, up to three decimals, no trailing zeros
/// (`142.5`, `140`).
enum CSVNumber {
    static func text(_ value: Double) -> String {
        var text = SVGText.decimal(value, places: 3, separator: ".")
        guard text.contains(".") else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
