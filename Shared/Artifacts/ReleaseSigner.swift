import Crypto
package import FoundationEssentials
package import StellwerkAPI

/// Signs release manifests with the orchestrator's Ed25519 key and checks them on the agent, over
/// the manifest's canonical JSON (sorted keys), so the same manifest always has the same signature input.
package enum ReleaseSigner {
    /// The bytes a signature covers (see ``WireJSON/canonicalEncoder()`` for why dates are whole seconds).
    package static func canonicalBytes(of manifest: ReleaseManifest) throws -> Data {
        try WireJSON.canonicalEncoder().encode(manifest)
    }

    /// Signs `manifest` with a raw 32-byte Ed25519 private key.
    package static func sign(_ manifest: ReleaseManifest, privateKey: Data) throws -> SignedReleaseManifest {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: privateKey)
        let signature = try key.signature(for: canonicalBytes(of: manifest))
        return SignedReleaseManifest(
            manifest: manifest, signature: signature.base64EncodedString(),
            keyFingerprint: fingerprint(of: key.publicKey.rawRepresentation))
    }

    /// Checks a signed manifest against the orchestrator's raw 32-byte public key; throws why not.
    package static func verify(
        _ signed: SignedReleaseManifest, publicKey: Data
    ) throws(ArtifactError) -> ReleaseManifest {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else {
            throw ArtifactError(.badKey, "the orchestrator's public key is not a 32-byte Ed25519 key")
        }
        guard !signed.signature.isEmpty else {
            throw ArtifactError(.unsigned, "release \(signed.manifest.id) is not signed")
        }
        guard let signature = Data(base64Encoded: signed.signature),
            let bytes = try? canonicalBytes(of: signed.manifest),
            key.isValidSignature(signature, for: bytes)
        else {
            throw ArtifactError(
                .badSignature,
                "the signature of release \(signed.manifest.id) does not match: the manifest was altered or signed by another key"
            )
        }
        return signed.manifest
    }

    /// A short, stable name for a public key: the first 16 hex digits of its SHA-256.
    package static func fingerprint(of publicKey: Data) -> String {
        SHA256.hash(data: publicKey).prefix(8).lowercaseHex
    }

    /// Checks that `bytes` have the SHA-256 `expected` (lowercase hex).
    package static func verifyDigest(of bytes: [UInt8], expected: String, artifact: String) throws(ArtifactError) {
        try verifyDigest(SHA256.hash(data: bytes).lowercaseHex, expected: expected, artifact: artifact)
    }

    /// Checks that the digest `actual` (of an artifact read in pieces) is `expected`.
    package static func verifyDigest(_ actual: String, expected: String, artifact: String) throws(ArtifactError) {
        guard actual == expected.lowercased() else {
            throw ArtifactError(
                .badDigest,
                "the artifact \(artifact) has SHA-256 \(actual.prefix(16))…, not \(expected.prefix(16))…; it was altered or damaged"
            )
        }
    }
}

/// Why an artifact or release was refused.
package struct ArtifactError: Error, Sendable, CustomStringConvertible {
    package enum Code: Sendable, Hashable {
        case unsigned, badSignature, badKey, badDigest
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
