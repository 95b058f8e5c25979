import Artifacts
import Crypto
import Foundation
import StellwerkAPI
import Testing

/// Agents accept only manifests signed by the orchestrator's key, and artifacts with their digest.
@Suite struct ReleaseSignerTests {
    static let manifest = ReleaseManifest(
        id: "r-7a1c", version: "2026.11.3", revision: "9132ab51",
        components: [
            "datenplattform": ComponentArtifact(
                sha256: String(repeating: "c", count: 64), size: 42, migrations: ["0001"])
        ])

    @Test func signedManifest_verifiesWithTheMatchingKey() throws {
        let key = Curve25519.Signing.PrivateKey()
        let signed = try ReleaseSigner.sign(Self.manifest, privateKey: key.rawRepresentation)
        #expect(try ReleaseSigner.verify(signed, publicKey: key.publicKey.rawRepresentation) == Self.manifest)
        #expect(signed.keyFingerprint == ReleaseSigner.fingerprint(of: key.publicKey.rawRepresentation))
        #expect(signed.keyFingerprint.count == 16)
    }

    @Test func alteredUnsignedOrForeignManifests_areRefused() throws {
        let key = Curve25519.Signing.PrivateKey()
        let signed = try ReleaseSigner.sign(Self.manifest, privateKey: key.rawRepresentation)

        var altered = signed
        altered.manifest.components["datenplattform"]?.sha256 = String(repeating: "d", count: 64)
        #expect { try ReleaseSigner.verify(altered, publicKey: key.publicKey.rawRepresentation) } throws: {
            ($0 as? ArtifactError)?.code == .badSignature
        }
        var unsigned = signed
        unsigned.signature = ""
        #expect { try ReleaseSigner.verify(unsigned, publicKey: key.publicKey.rawRepresentation) } throws: {
            ($0 as? ArtifactError)?.message == "release r-7a1c is not signed"
        }
        let stranger = Curve25519.Signing.PrivateKey()
        #expect { try ReleaseSigner.verify(signed, publicKey: stranger.publicKey.rawRepresentation) } throws: {
            ($0 as? ArtifactError)?.code == .badSignature
        }
        #expect { try ReleaseSigner.verify(signed, publicKey: Data([1, 2, 3])) } throws: {
            ($0 as? ArtifactError)?.code == .badKey
        }
    }

    @Test func artifactDigest_mustMatch() throws {
        let bytes = Array("artifact".utf8)
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        try ReleaseSigner.verifyDigest(of: bytes, expected: digest, artifact: "datenplattform")
        #expect {
            try ReleaseSigner.verifyDigest(of: bytes + [0], expected: digest, artifact: "datenplattform")
        } throws: {
            ($0 as? ArtifactError)?.code == .badDigest
                && ($0 as? ArtifactError)?.message.contains("was altered or damaged") == true
        }
    }
}
