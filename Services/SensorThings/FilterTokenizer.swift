/// Splits `$filter` and `$orderby` text into tokens, one at a time as the parser asks, so an error
/// further on (a lambda's `:`) is not reported before the parser has said what it does not support.
struct FilterTokenizer {
    struct Token {
        enum Kind {
            /// A name or a path of names: `name`, `geo.intersects`, `Datastream/Thing/name`.
            case path([Segment])
            case string(String)
            case integer(Int64)
            case decimal(Double)
            case dateTime(Int64)
            case timeOfDay(Int64)
            case interval(start: Int64, end: Int64)
            case geometry(GeometryLiteral)
            case openParenthesis, closeParenthesis, comma
            case end
        }

        struct Segment {
            var name: String
            /// Index of its first character in the text.
            var index: Int
        }

        var kind: Kind
        /// Index of its first character in the text.
        var index: Int
        /// As written, for messages.
        var text: String

        /// The name of a one-segment path: a keyword, a function or a property.
        var word: String? {
            if case .path(let segments) = kind, segments.count == 1 { return segments[0].name }
            return nil
        }
    }

    let source: OptionText
    private var index = 0

    init(_ source: OptionText) {
        self.source = source
    }

    private var characters: [Character] { source.characters }

    mutating func next() throws(QueryError) -> Token {
        while index < characters.count, characters[index].isWhitespace { index += 1 }
        let start = index
        guard index < characters.count else { return Token(kind: .end, index: start, text: "") }
        let character = characters[index]
        switch character {
        case "(":
            index += 1
            return Token(kind: .openParenthesis, index: start, text: "(")
        case ")":
            index += 1
            return Token(kind: .closeParenthesis, index: start, text: ")")
        case ",":
            index += 1
            return Token(kind: .comma, index: start, text: ",")
        case "'":
            let value = try quoted()
            return Token(kind: .string(value), index: start, text: source.text(start, index))
        case "-":
            guard index + 1 < characters.count, Self.isDigit(characters[index + 1]) else {
                throw source.error(
                    .syntax, "unexpected '-'", at: start,
                    hint: "a minus sign must be followed by a number; subtract with 'sub'")
            }
            return try number()
        default:
            if Self.isDigit(character) { return try number() }
            if Self.isNameStart(character) { return try path() }
            throw source.error(.syntax, "unexpected \(QueryError.quoted(String(character)))", at: start)
        }
    }

    // MARK: Strings

    /// A string in single quotes, `''` standing for one quote; `index` is at the opening quote.
    private mutating func quoted() throws(QueryError) -> String {
        let start = index
        var value = ""
        index += 1
        while index < characters.count {
            if characters[index] == "'" {
                if index + 1 < characters.count, characters[index + 1] == "'" {
                    value.append("'")
                    index += 2
                    continue
                }
                index += 1
                return value
            }
            value.append(characters[index])
            index += 1
        }
        let written = source.text(start, characters.count)
        throw source.error(
            .syntax, "unterminated string \(written.count > 40 ? written.prefix(40) + "…" : written)", at: start,
            hint: "close it with ' (and write a quote inside it as '')")
    }

    // MARK: Numbers, dates and times

    private mutating func number() throws(QueryError) -> Token {
        let start = index
        if characters[index] == "-" { index += 1 }
        let digitsStart = index
        while index < characters.count, Self.isDigit(characters[index]) { index += 1 }
        let digitCount = index - digitsStart
        if start == digitsStart, index < characters.count {
            if digitCount == 4, characters[index] == "-" { return try dateTime(from: start) }
            if digitCount == 2, characters[index] == ":" { return try timeOfDay(from: start) }
        }
        var isInteger = true
        if index < characters.count, characters[index] == "." {
            isInteger = false
            index += 1
            try requireDigits(numberStart: start)
        }
        if index < characters.count, characters[index] == "e" || characters[index] == "E" {
            isInteger = false
            index += 1
            if index < characters.count, characters[index] == "+" || characters[index] == "-" { index += 1 }
            try requireDigits(numberStart: start)
        }
        if index < characters.count, Self.isNamePart(characters[index]) || characters[index] == "." {
            while index < characters.count, Self.isNamePart(characters[index]) || characters[index] == "." {
                index += 1
            }
            throw source.error(.syntax, "unexpected \(QueryError.quoted(source.text(start, index)))", at: start)
        }
        let text = source.text(start, index)
        if isInteger {
            guard let value = Int64(text) else {
                throw source.error(
                    .syntax, "integer \(QueryError.quoted(text))", at: start, detail: "is out of range",
                    hint: "integers must lie between -9223372036854775808 and 9223372036854775807")
            }
            return Token(kind: .integer(value), index: start, text: text)
        }
        guard let value = Double(text), value.isFinite else {
            throw source.error(.syntax, "number \(QueryError.quoted(text))", at: start, detail: "is out of range")
        }
        return Token(kind: .decimal(value), index: start, text: text)
    }

    private mutating func requireDigits(numberStart: Int) throws(QueryError) {
        let digitsStart = index
        while index < characters.count, Self.isDigit(characters[index]) { index += 1 }
        guard index > digitsStart else {
            let end = min(index + 1, characters.count)
            throw source.error(
                .syntax, "malformed number \(QueryError.quoted(source.text(numberStart, end)))", at: numberStart)
        }
    }

    /// A date or date-time, or an interval `start/end` of two.
    private mutating func dateTime(from start: Int) throws(QueryError) -> Token {
        index = start
        let first = dateTimeWord()
        let startTime = try instant(first, at: start)
        guard index + 1 < characters.count, characters[index] == "/", Self.isDigit(characters[index + 1]) else {
            return Token(kind: .dateTime(startTime), index: start, text: first)
        }
        index += 1
        let secondStart = index
        let second = dateTimeWord()
        let endTime = try instant(second, at: secondStart)
        let text = source.text(start, index)
        guard startTime <= endTime else {
            throw source.error(
                .syntax, "interval \(QueryError.quoted(text))", at: start, detail: "ends before it starts")
        }
        return Token(kind: .interval(start: startTime, end: endTime), index: start, text: text)
    }

    private mutating func timeOfDay(from start: Int) throws(QueryError) -> Token {
        index = start
        let text = dateTimeWord()
        do {
            return Token(kind: .timeOfDay(try DateTimeText.timeOfDay(text)), index: start, text: text)
        } catch {
            throw source.error(.syntax, "invalid time \(QueryError.quoted(text))", at: start, hint: error.reason)
        }
    }

    private func instant(_ text: String, at start: Int) throws(QueryError) -> Int64 {
        do {
            return try DateTimeText.milliseconds(text)
        } catch {
            throw source.error(.syntax, "invalid date-time \(QueryError.quoted(text))", at: start, hint: error.reason)
        }
    }

    /// The characters a date-time may consist of; the word is checked as a whole afterwards.
    private mutating func dateTimeWord() -> String {
        let start = index
        while index < characters.count {
            let character = characters[index]
            guard character.isASCII, character.isLetter || character.isNumber || ":.+-".contains(character) else {
                break
            }
            index += 1
        }
        return source.text(start, index)
    }

    // MARK: Names and paths

    /// `name`, `a/b/c`, or a geometry literal `geography'POINT(1 2)'`.
    private mutating func path() throws(QueryError) -> Token {
        let start = index
        while index < characters.count, Self.isNamePart(characters[index]) || characters[index] == "." { index += 1 }
        let first = source.text(start, index)
        if index < characters.count, characters[index] == "'" {
            switch first.lowercased() {
            case "geography", "geometry":
                let text = try quoted()
                do {
                    let geometry = try GeometryLiteral(wellKnownText: text)
                    return Token(kind: .geometry(geometry), index: start, text: source.text(start, index))
                } catch {
                    throw source.error(
                        .syntax, "invalid \(first) literal \(QueryError.quoted(source.text(start, index)))",
                        at: start, hint: error.reason)
                }
            case "duration":
                throw source.error(.notSupported, "duration literals are not supported", at: start)
            default:
                throw source.error(
                    .syntax, "unexpected \(QueryError.quoted(first + "'"))", at: start,
                    hint: "only geography'…' and geometry'…' literals have a prefix")
            }
        }
        var segments = [Token.Segment(name: first, index: start)]
        while index < characters.count, characters[index] == "/" {
            let slash = index
            index += 1
            let segmentStart = index
            while index < characters.count, Self.isNamePart(characters[index]) || "-.".contains(characters[index]) {
                index += 1
            }
            guard index > segmentStart else {
                throw source.error(.syntax, "unexpected '/'", at: slash, hint: "expected a name after it")
            }
            segments.append(Token.Segment(name: source.text(segmentStart, index), index: segmentStart))
        }
        return Token(kind: .path(segments), index: start, text: source.text(start, index))
    }

    static func isDigit(_ character: Character) -> Bool { ("0"..."9").contains(character) }

    static func isNameStart(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character == "_" || character == "@")
    }

    /// Letters, digits, `_` and `@`: with `.` and `-` (in later segments) the only characters a
    /// name may have, so a name placed in SQL text (a JSON key) cannot end its quoting.
    static func isNamePart(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "_" || character == "@")
    }
}

/// Why a literal's text is not a valid date-time or geometry; the tokenizer says which literal and
/// where.
struct LiteralSyntaxError: Error {
    var reason: String

    init(_ reason: String) { self.reason = reason }
}
