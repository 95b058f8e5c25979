/// A fast pass over raw YAML text that refuses what the parser must never see.
///
/// YAML parsers compose recursively and expand aliases, so a 10,000-deep list overflows the stack
/// and a few lines of nested aliases ("billion laughs") expand to gigabytes. This pass walks the text
/// once, in linear time and constant stack, and stops at the first control character, anchor or alias,
/// or nesting deeper than the limit. Stellwerk's formats need none of those; a value that repeats is
/// written twice.
struct YAMLPrescan {
    private let file: String
    private let maxDepth: Int

    private var flowDepth = 0
    private var quote: Unicode.Scalar?
    private var blockScalarParentIndent: Int?
    private var indentStack: [Int] = []
    /// The indentation of the line a plain (unquoted) value started on, while it may still continue:
    /// more-indented lines that follow are its text, not new nodes.
    private var plainScalarIndent: Int?

    init(file: String, maxDepth: Int) {
        self.file = file
        self.maxDepth = maxDepth
    }

    /// The first problem in `text`, or `nil` when the parser may read it.
    mutating func firstProblem(in text: String) -> Diagnostic? {
        var lineNumber = 0
        // Split on scalars: "\r\n" is one Character, so splitting Characters on "\n" would miss it.
        for rawLine in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Array(rawLine)
            if line.last == "\r" { line.removeLast() }
            if let problem = scan(line: line, number: lineNumber) { return problem }
        }
        return nil
    }

    private func problem(_ message: String, line: Int, column: Int, hint: String? = nil) -> Diagnostic {
        Diagnostic(at: SourceLocation(file: file, line: line, column: column), message, hint: hint)
    }

    private static func isSpace(_ scalar: Unicode.Scalar?) -> Bool {
        scalar == nil || scalar == " " || scalar == "\t"
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private mutating func scan(line: [Unicode.Scalar], number: Int) -> Diagnostic? {
        for (index, scalar) in line.enumerated() where scalar.value < 0x20 && scalar != "\t" || scalar.value == 0x7F {
            return problem(
                "the file holds a control character (U+\(String(scalar.value, radix: 16, uppercase: true))), "
                    + "so it is not YAML text", line: number, column: index + 1,
                hint: "is this a binary file?")
        }
        let indent = line.prefix { $0 == " " }.count
        let isBlank = line.allSatisfy { $0 == " " || $0 == "\t" }
        if let parent = blockScalarParentIndent {
            if isBlank || indent > parent { return nil }
            blockScalarParentIndent = nil
        }
        var dashes = 0
        var index = quote == nil ? indent : 0
        func tooDeep() -> Diagnostic? {
            guard indentStack.count + dashes + flowDepth > maxDepth else { return nil }
            return problem(
                "the document nests deeper than \(maxDepth) levels", line: number, column: index + 1,
                hint: "Stellwerk's files need far fewer; is this file generated or damaged?")
        }
        if quote == nil, flowDepth == 0 {
            if isBlank || line[indent] == "#" { return nil }
            if let continued = plainScalarIndent, indent > continued { return nil }
            plainScalarIndent = nil
            while let top = indentStack.last, top >= indent { indentStack.removeLast() }
            indentStack.append(indent)
            if let problem = tooDeep() { return problem }
        }
        var tokenStart = quote == nil
        var inPlain = false
        while index < line.count {
            let scalar = line[index]
            let next = index + 1 < line.count ? line[index + 1] : nil
            if let open = quote {
                if open == "'" {
                    if scalar == "'" {
                        if next == "'" {
                            index += 2
                            continue
                        }
                        quote = nil
                    }
                } else if scalar == "\\" {
                    index += 2
                    continue
                } else if scalar == "\"" {
                    quote = nil
                }
                index += 1
                continue
            }
            if scalar == " " || scalar == "\t" {
                index += 1
                continue
            }
            if scalar == "#", index == 0 || Self.isSpace(line[index - 1]) { break }
            if tokenStart {
                switch scalar {
                case "-" where flowDepth == 0 && Self.isSpace(next):
                    dashes += 1
                    if let problem = tooDeep() { return problem }
                    index += 1
                    continue
                case "?" where Self.isSpace(next):
                    index += 1
                    continue
                case "[", "{":
                    flowDepth += 1
                    if let problem = tooDeep() { return problem }
                    index += 1
                    continue
                case _ where (scalar == "]" || scalar == "}") && flowDepth > 0:
                    flowDepth -= 1
                    tokenStart = false
                    index += 1
                    continue
                case "," where flowDepth > 0:
                    index += 1
                    continue
                case "&", "*":
                    return problem(
                        "YAML anchors and aliases ('\(scalar)name') are not supported", line: number,
                        column: index + 1, hint: "write the repeated value out; this also guards against alias bombs")
                case "'", "\"":
                    quote = scalar
                    index += 1
                    tokenStart = false
                    continue
                case _ where (scalar == "|" || scalar == ">") && flowDepth == 0:
                    blockScalarParentIndent = indent
                    return nil
                case "!":
                    while index < line.count, !Self.isSpace(line[index]) { index += 1 }
                    continue
                default:
                    tokenStart = false
                    inPlain = true
                }
            }
            if scalar == ":", Self.isSpace(next) || (flowDepth > 0 && [",", "[", "]", "{", "}"].contains(next)) {
                tokenStart = true
                inPlain = false
            } else if flowDepth > 0 {
                if scalar == "," {
                    tokenStart = true
                    inPlain = false
                } else if scalar == "]" || scalar == "}" {
                    flowDepth -= 1
                    inPlain = false
                }
            }
            index += 1
        }
        if quote == nil, flowDepth == 0, inPlain {
            plainScalarIndent = indent
        }
        return nil
    }
}
