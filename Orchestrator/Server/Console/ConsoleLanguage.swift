/// The console's two languages; German is the default, as for the municipalities' staff.
enum ConsoleLanguage: String, Sendable {
    case de, en

    /// `german` or `english`, whichever this is.
    func text(_ german: String, _ english: String) -> String { self == .de ? german : english }
}
