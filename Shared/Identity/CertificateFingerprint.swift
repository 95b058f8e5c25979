import Crypto
import StellwerkAPI
import SwiftASN1
package import X509

/// How a certificate is named by operators and in the store: the SHA-256 of its DER bytes.
package enum CertificateFingerprint {
    /// SHA-256 over the certificate's DER bytes, lowercase hex.
    package static func of(_ certificate: Certificate) throws -> String {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return of(der: serializer.serializedBytes)
    }

    /// The fingerprint of a certificate in PEM, such as the orchestrator's `ca.pem`.
    package static func of(pem: String) throws -> String {
        try of(try Certificate(pemEncoded: pem))
    }

    package static func of(der: [UInt8]) -> String {
        SHA256.hash(data: der).lowercaseHex
    }

    /// Accepts `AB:CD:…`, `sha256:abcd…` or plain hex, as operators copy it from different tools.
    package static func normalize(_ text: String) -> String {
        var value = text.lowercased()
        if value.hasPrefix("sha256:") { value.removeFirst("sha256:".count) }
        return value.filter { $0 != ":" && !$0.isWhitespace }
    }
}
