/// A refusal or failure about keys and certificates, in one readable sentence.
package struct IdentityError: Error, CustomStringConvertible, Sendable {
    package var description: String
    package init(_ description: String) { self.description = description }
}
