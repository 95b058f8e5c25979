/// Compares a token a client sent with the one a service expects, in time that does not depend on
/// where they differ: a timing difference would let a client guess the token byte by byte.
package enum AccessToken {
    /// Whether `given` is `expected`; an empty `expected` matches nothing (nobody may write).
    package static func matches(_ given: String, _ expected: String) -> Bool {
        let expectedBytes = Array(expected.utf8)
        let givenBytes = Array(given.utf8)
        guard !expectedBytes.isEmpty, givenBytes.count == expectedBytes.count else { return false }
        var difference: UInt8 = 0
        for index in givenBytes.indices { difference |= givenBytes[index] ^ expectedBytes[index] }
        return difference == 0
    }
}
