import SensorThings

extension TimeSeriesChart {
    /// The readings the chart is drawn from (in its range, drawable), one per line: the time in UTC
    /// as SensorThings writes it and the value with a decimal point, for spreadsheets and scripts.
    package func csv() -> String {
        var text = "phenomenonTime,result\n"
        for reading in drawable.readings {
            text +=
                SensorTime.text(reading.time) + ","
                + SVGText.decimal(reading.value, places: 3, separator: ".")
                .replacingTrailingZeros() + "\n"
        }
        return text
    }
}

extension String {
    /// `142.500` as `142.5`, `140.000` as `140`.
    fileprivate func replacingTrailingZeros() -> String {
        guard contains(".") else { return self }
        var text = self
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
