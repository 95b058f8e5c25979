/// Why a query option of a SensorThings request cannot be used, in one line a client can act on:
/// the option, what is wrong, the token and its position (`$filter: unexpected 'foo' at position 12;
/// expected an operator`).
///
/// Positions count characters from 1 in the value of the query parameter the option came in. For
/// an option inside `$expand` that is the `$expand` value, and ``option`` says where inside it the
/// error is (`$expand=Datastreams($filter)`).
package struct QueryError: Error, Sendable, Hashable, CustomStringConvertible {
    package enum Code: Sendable, Hashable {
        /// The text does not follow the grammar: a stray token, an unterminated string, a bad number.
        case syntax
        /// A property, navigation, function or option the model does not have.
        case unknownName
        /// Operands of the wrong type (`name add 1`, `length(3)`).
        case typeMismatch
        /// Beyond a limit that keeps a request cheap: `$top`, nesting, text length, polygon size.
        case limitExceeded
        /// Valid SensorThings, but not something this server does.
        case notSupported
    }

    package let code: Code
    /// The query option as the client wrote it, `$filter`, or its place inside `$expand`.
    package let option: String
    /// Where the offending token starts (1-based), when the error is about one token.
    package let position: Int?
    /// What is wrong, without the option: `unexpected 'foo' at position 12; expected an operator`.
    package let message: String

    package var description: String { "\(option): \(message)" }

    /// An error about the token at `position`: the message reads "`what` at position n `detail`;
    /// `hint`" (`'add' at position 6 needs numbers, but 'name' is a string`).
    init(
        _ code: Code, option: String, _ what: String, position: Int?, detail: String? = nil, hint: String? = nil
    ) {
        self.code = code
        self.option = option
        self.position = position
        var message = what
        if let position { message += " at position \(position)" }
        if let detail { message += " \(detail)" }
        if let hint { message += "; \(hint)" }
        self.message = message
    }

    /// A token as messages show it: quoted, and cut short so a huge literal does not make a huge
    /// message.
    static func quoted(_ token: String) -> String {
        let limit = 40
        return token.count > limit ? "'\(token.prefix(limit))…'" : "'\(token)'"
    }
}
