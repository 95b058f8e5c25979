package import Crypto
import FoundationEssentials
package import StellwerkAPI
import X509

/// Seals the secret values of one node's desired state to that node's certificate key (HPKE with
/// P-256 and AES-256-GCM), and opens them on the node: a copy of the answer, or of a proxy's log, is
/// useless without the node's private key.
package enum SecretSealing {
    private static let suite = HPKE.Ciphersuite.P256_SHA256_AES_GCM_256

    /// The context both sides bind the sealing to: which node, of which environment, at which serial.
    private static func info(environment: String, node: String, serial: Int) -> Data {
        Data("stellwerk secrets v1\u{0}\(environment)\u{0}\(node)\u{0}\(serial)".utf8)
    }

    /// Seals `secrets` to the public key of `certificate` (DER), the node's current one.
    package static func seal(
        _ secrets: DeliveredSecrets, toCertificate der: [UInt8], environment: String, node: String, serial: Int
    ) throws -> SealedSecrets {
        let certificate = try Certificate(derEncoded: der)
        guard let signingKey = P256.Signing.PublicKey(certificate.publicKey) else {
            throw IdentityError("the node certificate of \(node) has no P-256 key; join the node again")
        }
        let recipient = try P256.KeyAgreement.PublicKey(rawRepresentation: signingKey.rawRepresentation)
        var sender = try HPKE.Sender(
            recipientKey: recipient, ciphersuite: suite,
            info: info(environment: environment, node: node, serial: serial))
        let plain = try WireJSON.encoder().encode(secrets)
        let sealed = try sender.seal(plain)
        return SealedSecrets(
            encapsulatedKey: sender.encapsulatedKey.base64EncodedString(), ciphertext: sealed.base64EncodedString())
    }

    /// Opens what the server sealed to the node key `key`.
    package static func open(
        _ sealed: SealedSecrets, with key: P256.Signing.PrivateKey, environment: String, node: String, serial: Int
    ) throws -> DeliveredSecrets {
        guard let encapsulated = Data(base64Encoded: sealed.encapsulatedKey),
            let ciphertext = Data(base64Encoded: sealed.ciphertext)
        else { throw IdentityError("the sealed secrets are not base64") }
        do {
            var recipient = try HPKE.Recipient(
                privateKey: try P256.KeyAgreement.PrivateKey(rawRepresentation: key.rawRepresentation),
                ciphersuite: suite, info: info(environment: environment, node: node, serial: serial),
                encapsulatedKey: encapsulated)
            let plain = try recipient.open(ciphertext)
            return try WireJSON.decoder().decode(DeliveredSecrets.self, from: plain)
        } catch {
            throw IdentityError("the secrets sent to \(node) do not open with its key (\(error))")
        }
    }
}
