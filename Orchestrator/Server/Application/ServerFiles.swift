package import Authority
import Crypto
package import Foundation
import Identity

/// The server's data folder: its CA (`ca/`), the TLS certificate it serves (`tls/`), the Ed25519
/// key that signs releases (`signing.key`), the artifacts it hands to agents (`artifacts/`), and a
/// stable ID, so a restarted server takes its rollout lease straight back.
package struct ServerFiles: Sendable {
    package let folder: URL
    package let authority: CertificateAuthority
    package let signingKey: Data
    package let serverID: String

    package init(folder: URL) throws {
        self.folder = folder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: folder.path)
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("artifacts"), withIntermediateDirectories: true)
        authority = try CertificateAuthority.loadOrCreate(in: folder.appendingPathComponent("ca"))
        let keyFile = folder.appendingPathComponent("signing.key")
        if let text = try? String(contentsOf: keyFile, encoding: .utf8) {
            guard let key = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), key.count == 32
            else { throw IdentityError("\(keyFile.path) does not hold a base64 Ed25519 private key") }
            signingKey = key
        } else {
            let key = Curve25519.Signing.PrivateKey().rawRepresentation
            try PEMFiles.writeSecret(key.base64EncodedString() + "\n", to: keyFile)
            signingKey = key
        }
        let idFile = folder.appendingPathComponent("server-id")
        if let text = try? String(contentsOf: idFile, encoding: .utf8), !text.isEmpty {
            serverID = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            serverID = "server-" + UUID().uuidString.lowercased().prefix(8)
            try Data((serverID + "\n").utf8).write(to: idFile, options: .atomic)
        }
    }

    package var artifactFolder: URL { folder.appendingPathComponent("artifacts") }
    package var authorityFile: URL { folder.appendingPathComponent("ca/ca.pem") }

    /// The public half of the signing key, base64, as agents are configured with it.
    package var signingPublicKey: String {
        get throws {
            try Curve25519.Signing.PrivateKey(rawRepresentation: signingKey).publicKey.rawRepresentation
                .base64EncodedString()
        }
    }

    /// Issues (again, on every start) the certificate the server presents, for the names it is reached by.
    package func serverCertificate(hosts: [String]) throws -> (certificate: String, key: String) {
        let issued = try authority.issueServerCertificate(hosts: hosts)
        let tls = folder.appendingPathComponent("tls")
        try FileManager.default.createDirectory(at: tls, withIntermediateDirectories: true)
        let certificate = try issued.certificate.serializeAsPEM().pemString
        try PEMFiles.write(certificate, to: tls.appendingPathComponent("server.pem"))
        try PEMFiles.writeSecret(issued.privateKey.pemRepresentation, to: tls.appendingPathComponent("server.key"))
        return (certificate, issued.privateKey.pemRepresentation)
    }
}

/// Tokens are random, shown once, and stored only as their SHA-256.
package enum Tokens {
    /// A new token: a readable prefix and 32 random bytes, URL-safe.
    package static func make(prefix: String) -> String {
        "\(prefix)_\(random(bytes: 32))"
    }

    /// `bytes` random bytes as URL-safe base64 without padding.
    static func random(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    package static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).lowercaseHex
    }
}
