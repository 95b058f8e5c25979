import Foundation
import Mobility
import Testing

/// The CSV reader is fed whatever pieces inflation hands it: a record, a quote or a byte-order
/// mark split anywhere must read the same as the whole.
struct CSVParserTests {
    static let text =
        "\u{FEFF}stop_id,stop_name,stop_desc\r\n" + "s1,\"Markt, Nord\",\"sagt \"\"Hallo\"\"\"\r\n"
        + "s2,Zweibrücken,\"zwei\nZeilen\"\n" + "\n" + "s3,,\"\"\n" + "s4,Ende,letzte Zeile ohne Umbruch"

    static func records(_ bytes: [UInt8], pieces: Int) throws -> [[String]] {
        var parser = CSVParser()
        var records: [[String]] = []
        var lines: [Int] = []
        let size = max(1, bytes.count / pieces)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + size)
            try bytes[start..<end].withUnsafeBytes { piece in
                try parser.feed(piece) { fields, line in
                    records.append(fields)
                    lines.append(line)
                }
            }
            start = end
        }
        try parser.finish { fields, line in
            records.append(fields)
            lines.append(line)
        }
        // The line each record began on, blank lines and line breaks in quotes counted.
        #expect(lines == [1, 2, 3, 6, 7])
        return records
    }

    @Test func everySplit_readsAsTheWhole() throws {
        let bytes = Array(Self.text.utf8)
        let whole = try Self.records(bytes, pieces: 1)
        #expect(
            whole == [
                ["stop_id", "stop_name", "stop_desc"], ["s1", "Markt, Nord", "sagt \"Hallo\""],
                ["s2", "Zweibrücken", "zwei\nZeilen"], ["s3", "", ""], ["s4", "Ende", "letzte Zeile ohne Umbruch"],
            ])
        for pieces in [2, 3, 7, 13, bytes.count] {
            #expect(try Self.records(bytes, pieces: pieces) == whole, "\(pieces) pieces")
        }
    }

    @Test func aUTF8CharacterSplitBetweenPieces_isStillOne() throws {
        // "ü" is two bytes; a piece ending between them must not make it invalid.
        let bytes = Array("a,ü\n".utf8)
        var parser = CSVParser()
        var fields: [String] = []
        for byte in bytes {
            try [byte].withUnsafeBytes { try parser.feed($0) { read, _ in fields = read } }
        }
        #expect(fields == ["a", "ü"])
    }
}
