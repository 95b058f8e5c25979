import Authority
import Crypto
import Foundation
import Identity
import StellwerkAPI
import TestSupport
import Testing

/// Sealing secrets at rest with the key-encryption key, and to a node's key for delivery: what opens,
/// what is refused, and that the refusals name the secret and never the value.
struct SecretKeyringTests {
    let keyring = SecretKeyring(current: SymmetricKey(size: .bits256))

    @Test func sealedValues_openOnlyAsTheSecretTheyWereSealedFor() throws {
        let sealed = try keyring.seal("geheim-123", environment: "live", name: "catalog-admin-token")
        #expect(!sealed.contains("geheim"))
        #expect(try keyring.open(sealed, environment: "live", name: "catalog-admin-token") == "geheim-123")
        // Copied to another row (name or environment), the value does not open.
        for (environment, name) in [("live", "other-token"), ("sandbox", "catalog-admin-token")] {
            #expect {
                try keyring.open(sealed, environment: environment, name: name)
            } throws: { error in
                "\(error)".contains("secret '\(name)' in \(environment) fails its authentication")
                    && !"\(error)".contains("geheim")
            }
        }
    }

    @Test func tamperedCiphertext_isRefusedNamingTheSecret() throws {
        let sealed = try keyring.seal("geheim-123", environment: "live", name: "token")
        var parts = sealed.split(separator: ".").map(String.init)
        var bytes = try #require(Data(base64Encoded: parts[2]))
        bytes[bytes.count / 2] ^= 0x01
        parts[2] = bytes.base64EncodedString()
        #expect {
            try keyring.open(parts.joined(separator: "."), environment: "live", name: "token")
        } throws: { "\($0)".contains("the stored value of secret 'token' in live fails its authentication") }
        #expect(throws: IdentityError.self) { try keyring.open("garbage", environment: "live", name: "token") }
    }

    @Test func anotherKey_isNamedByItsID_andAPreviousKeyStillOpens() throws {
        let old = SymmetricKey(size: .bits256)
        let sealed = try SecretKeyring(current: old).seal("v", environment: "e", name: "n")
        #expect {
            try keyring.open(sealed, environment: "e", name: "n")
        } throws: {
            "\($0)".contains("was sealed with key \(SecretKeyring.keyID(old)), which this server was not given")
        }
        let rotating = SecretKeyring(current: SymmetricKey(size: .bits256), previous: [old])
        #expect(try rotating.open(sealed, environment: "e", name: "n") == "v")
        #expect(!rotating.isCurrent(sealed))
        #expect(rotating.isCurrent(try rotating.seal("v", environment: "e", name: "n")))
    }

    @Test func fingerprints_identifyTheValue_withoutTheKeyNotReproducible() {
        let first = keyring.fingerprint("a", environment: "e", name: "n")
        #expect(first == keyring.fingerprint("a", environment: "e", name: "n"))
        #expect(first != keyring.fingerprint("b", environment: "e", name: "n"))
        #expect(first != keyring.fingerprint("a", environment: "f", name: "n"))
        #expect(
            first != SecretKeyring(current: SymmetricKey(size: .bits256)).fingerprint("a", environment: "e", name: "n"))
        #expect(first.count == 32)
    }

    @Test func values_emptyTooLargeOrWithNUL_areRefused() {
        #expect(SecretKeyring.problem(with: "") == "the value is empty")
        #expect(SecretKeyring.problem(with: String(repeating: "x", count: 65_536)) == nil)
        #expect(SecretKeyring.problem(with: String(repeating: "x", count: 65_537))?.contains("at most 65536") == true)
        #expect(SecretKeyring.problem(with: "a\u{0}b")?.contains("NUL") == true)
    }

    @Test func keyFile_missingOpenOrMalformed_isRefused_andMadeOnlyWhenAsked() throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-kek")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("secrets.key")
        #expect { try SecretKeyring.load(file) } throws: { "\($0)".contains("does not exist; make one with") }
        let made = try SecretKeyring.load(file, creating: true)
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(SecretKeyring.keyID(try SecretKeyring.load(file)) == SecretKeyring.keyID(made))
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: file.path)
        #expect { try SecretKeyring.load(file) } throws: { "\($0)".contains("is readable by others (mode 640)") }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        try Data("c2hvcnQ=\n".utf8).write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        #expect { try SecretKeyring.load(file) } throws: { "\($0)".contains("does not hold base64 of 32 bytes") }
    }

    @Test func deliveries_openOnlyWithTheNodeKey_forThatNodeAndSerial() throws {
        let (key, request) = try NodeIdentity.makeRequest()
        let authority = try CertificateAuthority.loadOrCreate(
            in: try Fixtures.temporaryFolder("stellwerk-ca").appendingPathComponent("ca"))
        let certificate = try authority.issueNodeCertificate(
            for: try .init(pemEncoded: request), environment: "e2e", node: "n1", lifetime: 3600)
        let der = try certificate.serializeAsPEM().derBytes
        let secrets = DeliveredSecrets(values: ["token": "geheim"], refused: ["other": "not held"])
        let sealed = try SecretSealing.seal(secrets, toCertificate: der, environment: "e2e", node: "n1", serial: 7)
        #expect(!sealed.ciphertext.contains("geheim"))
        #expect(try SecretSealing.open(sealed, with: key, environment: "e2e", node: "n1", serial: 7) == secrets)
        #expect(throws: IdentityError.self) {
            try SecretSealing.open(sealed, with: key, environment: "e2e", node: "n1", serial: 8)
        }
        #expect(throws: IdentityError.self) {
            try SecretSealing.open(sealed, with: P256.Signing.PrivateKey(), environment: "e2e", node: "n1", serial: 7)
        }
    }
}
