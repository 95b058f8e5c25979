/// The text of one query option being parsed, and what an error needs to say where in the request
/// it is.
struct OptionText {
    /// `$filter`, or `$expand=Datastreams($filter)` for one inside an expansion.
    let option: String
    let characters: [Character]
    /// How many characters of the query parameter's value come before this text: non-zero for an
    /// option inside `$expand`, whose positions count in the `$expand` value.
    let offset: Int

    init(option: String, characters: [Character], offset: Int = 0) {
        self.option = option
        self.characters = characters
        self.offset = offset
    }

    init(option: String, text: String) {
        self.init(option: option, characters: Array(text))
    }

    /// The 1-based position, in the parameter's value, of the character at `index` of this text.
    func position(_ index: Int) -> Int { offset + index + 1 }

    /// The characters from `start` up to `end`, as a string.
    func text(_ start: Int, _ end: Int) -> String { String(characters[start..<end]) }

    func error(
        _ code: QueryError.Code, _ what: String, at index: Int, detail: String? = nil, hint: String? = nil
    ) -> QueryError {
        QueryError(code, option: option, what, position: position(index), detail: detail, hint: hint)
    }
}
