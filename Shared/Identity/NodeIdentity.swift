package import Crypto
package import FoundationEssentials
import X509

/// A node's key pair and the certificate the orchestrator issued for it, kept in the agent's data
/// folder (`identity/`): `node.key` (0600), `node.pem`, the pinned `ca.pem`, and `orchestrator.json`
/// with the server's address and its release-signing key.
package struct NodeIdentity: Sendable {
    package var folder: URL

    package init(folder: URL) { self.folder = folder }

    package var keyFile: URL { folder.appendingPathComponent("node.key") }
    package var certificateFile: URL { folder.appendingPathComponent("node.pem") }
    package var authorityFile: URL { folder.appendingPathComponent("ca.pem") }
    package var orchestratorFile: URL { folder.appendingPathComponent("orchestrator.json") }

    /// Whether the node has joined (it holds a key, a certificate and the orchestrator's address).
    package var exists: Bool {
        [keyFile, certificateFile, authorityFile, orchestratorFile].allSatisfy {
            FileManager.default.fileExists(atPath: $0.path)
        }
    }

    /// A fresh key pair and a request for a certificate; the key is written only once the certificate
    /// arrives (see ``store(key:certificate:)``), so a failed join leaves nothing half-done.
    package static func makeRequest() throws -> (key: P256.Signing.PrivateKey, request: String) {
        let key = P256.Signing.PrivateKey()
        let request = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName("stellwerk-agent") },
            privateKey: .init(key), attributes: CertificateSigningRequest.Attributes(),
            signatureAlgorithm: .ecdsaWithSHA256)
        return (key, try request.serializeAsPEM().pemString)
    }

    /// Saves a key with the certificate issued for it (after renewal too): the key first, so a
    /// certificate never sits next to a key it does not belong to for longer than one rename.
    package func store(key: P256.Signing.PrivateKey, certificate: String) throws {
        try PrivateFiles.folder(folder)
        let parsed = try Certificate(pemEncoded: certificate)
        guard parsed.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw IdentityError("the orchestrator issued a certificate for another key")
        }
        try PEMFiles.writeSecret(key.pemRepresentation, to: keyFile)
        try PEMFiles.write(certificate, to: certificateFile)
    }

    /// The node's current private key.
    package func privateKey() throws -> P256.Signing.PrivateKey {
        do {
            return try P256.Signing.PrivateKey(pemRepresentation: try PEMFiles.read(keyFile, what: "node key"))
        } catch let error as IdentityError {
            throw error
        } catch {
            throw IdentityError("\(keyFile.path) holds no P-256 private key")
        }
    }

    /// When the current certificate expires.
    package func certificateExpiry() throws -> Date {
        let certificate = try Certificate(pemEncoded: try PEMFiles.read(certificateFile, what: "node certificate"))
        return certificate.notValidAfter
    }

    /// When to renew: after two thirds of the certificate's life, well before it expires.
    /// How long the current certificate lasts from its start to its expiry.
    package func certificateLifetime() throws -> TimeInterval {
        let certificate = try Certificate(pemEncoded: try PEMFiles.read(certificateFile, what: "node certificate"))
        return certificate.notValidAfter.timeIntervalSince(certificate.notValidBefore)
    }

    package func renewalDue(now: Date = Date()) throws -> Bool {
        let certificate = try Certificate(pemEncoded: try PEMFiles.read(certificateFile, what: "node certificate"))
        let lifetime = certificate.notValidAfter.timeIntervalSince(certificate.notValidBefore)
        return now >= certificate.notValidBefore.addingTimeInterval(lifetime * 2 / 3)
    }
}
