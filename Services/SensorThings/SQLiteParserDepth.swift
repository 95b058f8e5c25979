/// An estimate, from above, of how deep SQLite's parser stack gets reading an expression.
///
/// SQLite before 3.46 parses with a fixed stack of 100 symbols and fails a statement that needs
/// more with "parser stack overflow": about 30 nested function calls, fewer nested CASEs. A filter
/// within the parser's own nesting limits can compile to such SQL, so the compiler checks this
/// estimate and the client gets a ``QueryError`` instead of a failed statement. PostgreSQL's parser
/// has no such limit.
///
/// The weights were fitted to SQLite 3.40 on some 6000 generated filters: an open function call
/// counts 3, an open parenthesis 1, an open CASE 3, a SELECT 8, and in each open group the operator,
/// comma or keyword waiting for its right-hand side 1 or 2 (THEN 2, WHEN, ELSE and NOT 1). The
/// shallowest statement that overflowed scored 92; ``limit`` leaves room for the statement the
/// caller puts around the expression.
enum SQLiteParserDepth {
    static let limit = 72

    static func estimate(_ sql: String) -> Int {
        struct Group {
            var weight: Int
            var pending = 0
        }
        let bytes = Array(sql.utf8)
        var groups = [Group(weight: 0)]
        var total = 0
        var deepest = 0
        var index = 0
        // Whether the last token was a name (a function's, before its parenthesis).
        var afterName = false

        func open(_ weight: Int) {
            groups.append(Group(weight: weight))
            total += weight
        }
        func close() {
            guard groups.count > 1 else { return }
            let group = groups.removeLast()
            total -= group.weight + group.pending
        }
        func wait(_ pending: Int) {
            total += pending - groups[groups.count - 1].pending
            groups[groups.count - 1].pending = pending
        }

        while index < bytes.count {
            let byte = bytes[index]
            var isName = false
            switch byte {
            case UInt8(ascii: "'"):
                // A string or JSON path; '' is a quote inside it.
                index += 1
                while index < bytes.count {
                    if bytes[index] == UInt8(ascii: "'") {
                        if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "'") {
                            index += 2
                            continue
                        }
                        break
                    }
                    index += 1
                }
            case UInt8(ascii: "("):
                open(afterName ? 3 : 1)
            case UInt8(ascii: ")"):
                close()
            case UInt8(ascii: ","), UInt8(ascii: "="), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "+"),
                UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "/"), UInt8(ascii: "%"), UInt8(ascii: "|"):
                wait(2)
            default:
                guard isWordByte(byte) else { break }
                let start = index
                while index + 1 < bytes.count, isWordByte(bytes[index + 1]) { index += 1 }
                switch String(decoding: bytes[start...index], as: UTF8.self) {
                case "CASE": open(3)
                case "END": close()
                case "SELECT":
                    groups[groups.count - 1].weight += 8
                    total += 8
                case "AND", "OR", "IS": wait(2)
                case "THEN": wait(2)
                case "WHEN", "ELSE", "NOT": wait(1)
                case "IN", "AS": break
                default: isName = !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) && byte != UInt8(ascii: "$")
                }
            }
            afterName = isName
            deepest = max(deepest, total)
            index += 1
        }
        return deepest
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "$"):
            true
        default: false
        }
    }
}
