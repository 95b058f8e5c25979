package import Crypto
package import FoundationEssentials
import Glibc
import Identity
import StellwerkAPI
import SwiftASN1
package import X509

/// The orchestrator's own small certificate authority: it signs the server's certificate and one
/// client certificate per node, and agents pin it by its fingerprint when they join.
///
/// The CA key and certificate live in the server's data folder (`ca/`), created on first start with
/// mode 0600 for the key.
package struct CertificateAuthority: Sendable {
    package let certificate: Certificate
    private let privateKey: P256.Signing.PrivateKey

    /// How long a node certificate is valid; agents renew after two thirds of it.
    package static let nodeCertificateLifetime: TimeInterval = 30 * 24 * 3600

    package init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// Loads the CA from `folder`, or creates it there when the folder holds none.
    package static func loadOrCreate(in folder: URL, name: String = "Stellwerk CA") throws -> CertificateAuthority {
        let keyFile = folder.appendingPathComponent("ca.key")
        let certificateFile = folder.appendingPathComponent("ca.pem")
        if FileManager.default.fileExists(atPath: keyFile.path) {
            do {
                let key = try P256.Signing.PrivateKey(
                    pemRepresentation: try String(contentsOf: keyFile, encoding: .utf8))
                let certificate = try Certificate(pemEncoded: try String(contentsOf: certificateFile, encoding: .utf8))
                return CertificateAuthority(certificate: certificate, privateKey: key)
            } catch {
                throw IdentityError("\(folder.path) holds no readable CA key and certificate: \(error)")
            }
        }
        let authority = try create(name: name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try PEMFiles.writeSecret(authority.privateKey.pemRepresentation, to: keyFile)
        try PEMFiles.write(try authority.certificatePEM, to: certificateFile)
        return authority
    }

    /// A new CA that lives only in memory (for a certificate that stands in until a site's own comes).
    package static func create(name: String) throws -> CertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("Stellwerk")
            CommonName(name)
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(20 * 365 * 24 * 3600),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key))
        return CertificateAuthority(certificate: certificate, privateKey: key)
    }

    /// The CA certificate as PEM, for agents and operators to trust.
    package var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString }
    }

    /// SHA-256 of the CA certificate's DER bytes, lowercase hex: what `join --ca-fingerprint` pins.
    package var fingerprint: String {
        get throws { try CertificateFingerprint.of(certificate) }
    }

    /// A certificate for the server itself, valid for the given DNS names and IP addresses.
    package func issueServerCertificate(
        hosts: [String], lifetime: TimeInterval = 365 * 24 * 3600
    ) throws -> (
        certificate: Certificate, privateKey: P256.Signing.PrivateKey
    ) {
        let key = P256.Signing.PrivateKey()
        var names: [GeneralName] = []
        for host in hosts {
            if let bytes = IPAddressBytes.parse(host) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
            } else {
                names.append(.dnsName(host))
            }
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(lifetime),
            issuer: self.certificate.subject,
            subject: try DistinguishedName {
                OrganizationName("Stellwerk")
                CommonName(hosts.first ?? "stellwerk")
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(privateKey))
        return (certificate, key)
    }

    /// Signs a node's certificate signing request after checking that the requester holds the key.
    /// The subject is the CA's choice (the node the join token was for), never the request's.
    package func issueNodeCertificate(
        for request: CertificateSigningRequest, environment: String, node: String,
        lifetime: TimeInterval = nodeCertificateLifetime, now: Date = Date()
    ) throws -> Certificate {
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw IdentityError("the certificate request is not signed by the key it carries")
        }
        // Valid a little before now, for clocks that lag; a tenth of a short lifetime at most, since
        // the agent counts two thirds of the whole span before it renews.
        let backdated = min(300, lifetime / 10)
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: request.publicKey,
            notValidBefore: now.addingTimeInterval(-backdated), notValidAfter: now.addingTimeInterval(lifetime),
            issuer: certificate.subject,
            subject: try DistinguishedName {
                OrganizationName("Stellwerk")
                OrganizationalUnitName(environment)
                CommonName(node)
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
            },
            issuerPrivateKey: .init(privateKey))
    }
}

/// What a node certificate says about its holder.
package struct NodeName: Sendable, Hashable {
    package var environment: String
    package var node: String

    /// Reads the environment (OU) and node (CN) the CA wrote into a node certificate.
    package init?(certificate: Certificate) {
        var environment: String?
        var node: String?
        for rdn in certificate.subject {
            for attribute in rdn {
                if attribute.type == .RDNAttributeType.organizationalUnitName {
                    environment = String(describing: attribute.value)
                } else if attribute.type == .RDNAttributeType.commonName {
                    node = String(describing: attribute.value)
                }
            }
        }
        guard let environment, let node else { return nil }
        self.environment = environment
        self.node = node
    }
}

enum IPAddressBytes {
    /// The 4 or 16 bytes of a literal IP address, or `nil` for a host name.
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
