import Testing

@testable import Portal

/// How the portal reads the beginning of a file for its preview.
@Suite struct DataPreviewTests {
    @Test func csv_detectsDelimiterAndEncoding_andKeepsQuotedFieldsWhole() throws {
        let latin1: [UInt8] = Array("Messstelle;Stand\nKusel S".utf8) + [0xFC] + Array("d;98\n".utf8)
        let read = try DataPreview.read(latin1, as: .csv, truncated: false)
        #expect(read.header == ["Messstelle", "Stand"] && read.rows == [["Kusel Süd", "98"]])
        #expect(read.delimiter == ";" && read.encoding == "ISO-8859-1" && !read.more)

        let bom: [UInt8] =
            [0xEF, 0xBB, 0xBF] + Array("Zählstelle,Anzahl\r\n\"Lauterstraße, Nord\",42\r\n\"A \"\"B\"\"\nC\",7".utf8)
        let quoted = try DataPreview.read(bom, as: .csv, truncated: false)
        #expect(quoted.header == ["Zählstelle", "Anzahl"])
        #expect(quoted.rows == [["Lauterstraße, Nord", "42"], ["A \"B\"\nC", "7"]])
        #expect(quoted.delimiter == "," && quoted.encoding == "UTF-8 (BOM)")

        let tabs = try DataPreview.read(Array("a\tb\tc\n1\t2\t3\n".utf8), as: .csv, truncated: false)
        #expect(tabs.delimiter == "\t" && tabs.rows == [["1", "2", "3"]])
    }

    @Test func csv_cutOffAfterItsLimit_leavesOutTheCutLine_andSaysThereIsMore() throws {
        // The first bytes of a longer file end in the middle of a line (and of a character).
        let bytes = Array("Name;Wert\nerste;1\nzwei".utf8) + [0xC3]
        let read = try DataPreview.read(bytes, as: .csv, truncated: true)
        #expect(read.rows == [["erste", "1"]] && read.more && read.encoding == "UTF-8")

        let many = "n\n" + (1...50).map(String.init).joined(separator: "\n")
        let long = try DataPreview.read(Array(many.utf8), as: .csv, truncated: false)
        #expect(long.rows.count == DataPreview.rowLimit && long.more)
    }

    @Test func json_andGeoJSON_becomeTables_andAnythingElseSaysWhy() throws {
        let list = try DataPreview.read(
            Array(
                #"{"result": [{"name": "Lauterecken", "cm": 123, "ok": true, "at": {"h": 1}}, {"name": "Kusel"}]}"#.utf8
            ),
            as: .json, truncated: false)
        #expect(list.header == ["name", "cm", "ok", "at"])
        #expect(list.rows == [["Lauterecken", "123", "true", #"{"h":1}"#], ["Kusel", "", "", ""]])

        let features = try DataPreview.read(
            Array(
                #"{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [7.6, 49.6]}, "properties": {"name": "Pegel Kusel"}}]}"#
                    .utf8), as: .json, truncated: false)
        #expect(
            features.header == [DataPreview.geometryColumn, "name"] && features.rows == [["Point", "Pegel Kusel"]])

        #expect(throws: DataPreview.Unavailable.unreadable("not valid JSON")) {
            try DataPreview.read(Array("{kaputt".utf8), as: .json, truncated: false)
        }
        #expect(throws: DataPreview.Unavailable.unreadable("not a list of records")) {
            try DataPreview.read(Array("[1, 2]".utf8), as: .json, truncated: false)
        }
        #expect(throws: DataPreview.Unavailable.unreadable("the file is empty")) {
            try DataPreview.read([], as: .csv, truncated: false)
        }
        #expect(DataPreview.kind(format: "", url: "https://x.example/a/stellen.geojson?v=2") == .geojson)
        #expect(DataPreview.kind(format: "PDF", url: "https://x.example/a.pdf") == nil)
    }
}
