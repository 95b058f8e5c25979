import Crypto
import FoundationEssentials

/// A password as Mosquitto 2's password files hold it: `$7$101$SALT$HASH`, PBKDF2 with HMAC-SHA512,
/// 101 iterations, a 12-byte salt and a 64-byte key, both in Base64 — what `mosquitto_passwd` writes.
///
/// The salt is derived from the secret (an HMAC keyed by it, over its name), not random: the same
/// secret renders the same file, so a config that did not change keeps its digest and is not drift.
/// Secrets differ per site, and so do their salts.
package enum MosquittoPassword {
    static let iterations = 101

    package static func hash(_ password: String, label: String) -> String {
        let key = SymmetricKey(data: Data(password.utf8))
        let salt = Array(
            HMAC<SHA256>.authenticationCode(for: Data("mosquitto salt: \(label)".utf8), using: key).prefix(12))
        let derived = pbkdf2SHA512(password: Array(password.utf8), salt: salt, iterations: iterations)
        return "$7$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    /// RFC 8018 PBKDF2 with HMAC-SHA512, one block (the 64 bytes Mosquitto keeps).
    package static func pbkdf2SHA512(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var block = Array(HMAC<SHA512>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var result = block
        for _ in 1..<iterations {
            block = Array(HMAC<SHA512>.authenticationCode(for: block, using: key))
            for index in result.indices { result[index] ^= block[index] }
        }
        return result
    }
}
