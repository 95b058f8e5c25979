package import Crypto
package import Foundation
import Glibc
import Identity
import StellwerkAPI

/// The key-encryption key that secrets are sealed with in the store, read from a file outside it,
/// and the keys it replaced (during a rotation): each stored value is AES-GCM sealed with the
/// environment and name as associated data, so a ciphertext copied to another row does not open.
package struct SecretKeyring: Sendable {
    /// The largest secret value: configs hold tokens, passwords, keys and certificates, not files.
    package static let maximumValueBytes = 64 * 1024

    package let current: SymmetricKey
    package let previous: [SymmetricKey]

    package init(current: SymmetricKey, previous: [SymmetricKey] = []) {
        self.current = current
        self.previous = previous
    }

    /// Reads the key file (base64 of 32 bytes, mode 0600 or stricter); when `creating`, a missing
    /// file is made with a new random key first.
    package static func load(_ file: URL, creating: Bool = false) throws -> SymmetricKey {
        var status = stat()
        if stat(file.path, &status) != 0 {
            guard creating, errno == ENOENT else {
                throw IdentityError(
                    "the key-encryption key file \(file.path) does not exist; make one with "
                        + "`(umask 077; head -c 32 /dev/urandom | base64 > \(file.path))`")
            }
            let key = SymmetricKey(size: .bits256)
            try PrivateFiles.write(Data((key.withUnsafeBytes { Data($0) }.base64EncodedString() + "\n").utf8), to: file)
            return key
        }
        guard status.st_mode & 0o077 == 0 else {
            throw IdentityError(
                "the key-encryption key file \(file.path) is readable by others (mode "
                    + String(status.st_mode & 0o777, radix: 8) + "); run `chmod 600 \(file.path)`")
        }
        guard let text = try? String(contentsOf: file, encoding: .utf8),
            let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32
        else { throw IdentityError("the key-encryption key file \(file.path) does not hold base64 of 32 bytes") }
        return SymmetricKey(data: bytes)
    }

    /// A short public name of a key, stored with each ciphertext, so a wrong key file is named as such.
    package static func keyID(_ key: SymmetricKey) -> String {
        String(
            Array(HMAC<SHA256>.authenticationCode(for: Data("stellwerk key id".utf8), using: key)).lowercaseHex.prefix(
                12))
    }

    /// `v1.KEYID.BASE64(nonce ‖ ciphertext ‖ tag)`.
    package func seal(_ value: String, environment: String, name: String) throws -> String {
        let box = try AES.GCM.seal(Data(value.utf8), using: current, authenticating: Self.context(environment, name))
        guard let combined = box.combined else { throw IdentityError("AES-GCM gave no combined box") }
        return "v1.\(Self.keyID(current)).\(combined.base64EncodedString())"
    }

    /// The value of a sealed secret, or an error naming the secret and what is wrong — never a value.
    package func open(_ sealed: String, environment: String, name: String) throws -> String {
        let parts = sealed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", let combined = Data(base64Encoded: String(parts[2])) else {
            throw IdentityError(
                "the stored value of secret '\(name)' in \(environment) is not in a format this server reads")
        }
        guard let key = ([current] + previous).first(where: { Self.keyID($0) == parts[1] }) else {
            throw IdentityError(
                "secret '\(name)' in \(environment) was sealed with key \(parts[1]), which this server was not given "
                    + "(it has \(Self.keyID(current))); start it with that key file as --previous-secrets-key")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            let plain = try AES.GCM.open(box, using: key, authenticating: Self.context(environment, name))
            guard let value = String(data: plain, encoding: .utf8) else { throw IdentityError("not UTF-8") }
            return value
        } catch {
            throw IdentityError(
                "the stored value of secret '\(name)' in \(environment) fails its authentication: it was altered in the store, "
                    + "or copied from another secret; set it again")
        }
    }

    /// Whether a ciphertext was sealed with the current key (else a rotation re-seals it).
    package func isCurrent(_ sealed: String) -> Bool {
        sealed.hasPrefix("v1.\(Self.keyID(current)).")
    }

    /// Identifies a value without revealing it: an HMAC keyed by a key derived from the key-encryption
    /// key, so a copy of the store alone cannot test guesses. Fingerprints are kept through a rotation of
    /// that key (they only need to change when the value does).
    package func fingerprint(_ value: String, environment: String, name: String) -> String {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: current, info: Data("stellwerk secret fingerprint".utf8), outputByteCount: 32)
        var message = Self.context(environment, name)
        message.append(Data(value.utf8))
        return String(Array(HMAC<SHA256>.authenticationCode(for: message, using: key)).lowercaseHex.prefix(32))
    }

    private static func context(_ environment: String, _ name: String) -> Data {
        Data("stellwerk secret\u{0}\(environment)\u{0}\(name)".utf8)
    }

    /// Why a value cannot be a secret, or nil: empty, over 64 KiB, or with NUL characters.
    package static func problem(with value: String) -> String? {
        if value.isEmpty { return "the value is empty" }
        if value.utf8.count > maximumValueBytes {
            return "the value has \(value.utf8.count) bytes; a secret may have at most \(maximumValueBytes) (64 KiB)"
        }
        if value.utf8.contains(0) { return "the value contains a NUL byte; secrets are text" }
        return nil
    }
}
