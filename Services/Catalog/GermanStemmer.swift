/// Reduces German words to a common stem, so that "Pegelstände" finds "Pegelstand" and "Haushalts"
/// finds "Haushalt". An implementation of CISTEM (Weissweiler and Fraser, 2017) in its
/// case-insensitive form: umlauts and ß folded, `ge-` and the common endings stripped.
package enum GermanStemmer {
    package static func stem(_ word: String) -> String {
        var text = word.lowercased()
            .replacingOccurrences(of: "ü", with: "u").replacingOccurrences(of: "ö", with: "o")
            .replacingOccurrences(of: "ä", with: "a").replacingOccurrences(of: "ß", with: "ss")
        if text.hasPrefix("ge"), text.count >= 6 { text.removeFirst(2) }
        // Letter groups that act as one sound are kept together while endings are cut.
        text = text.replacingOccurrences(of: "sch", with: "$").replacingOccurrences(of: "ei", with: "%")
            .replacingOccurrences(of: "ie", with: "&")
        var characters = Array(text)
        var index = 1
        while index < characters.count {
            if characters[index] == characters[index - 1], characters[index] != "*" { characters[index] = "*" }
            index += 1
        }
        func drop(_ suffix: String) -> Bool {
            guard characters.count >= suffix.count, String(characters.suffix(suffix.count)) == suffix else {
                return false
            }
            characters.removeLast(suffix.count)
            return true
        }
        while characters.count > 3 {
            if characters.count > 5, drop("em") || drop("er") || drop("nd") { continue }
            if drop("t") || drop("e") || drop("s") || drop("n") { continue }
            break
        }
        var result = ""
        for (position, character) in characters.enumerated() {
            result.append(character == "*" && position > 0 ? characters[position - 1] : character)
        }
        return result.replacingOccurrences(of: "$", with: "sch").replacingOccurrences(of: "%", with: "ei")
            .replacingOccurrences(of: "&", with: "ie")
    }

    /// The words of a text (letters and digits), stemmed: what the search index holds for it.
    package static func terms(of text: String) -> [String] {
        text.split { !$0.isLetter && !$0.isNumber }.map { stem(String($0)) }.filter { !$0.isEmpty }
    }
}
