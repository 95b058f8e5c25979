public import FoundationEssentials

/// An immutable, content-addressed set of artifacts: what is deployed and promoted.
///
/// `stellwerk release create` uploads the artifacts and registers the manifest; the orchestrator
/// records who created it and when, and signs it. A plan without a release deploys the working tree
/// as `unreleased`.
public struct ReleaseManifest: Codable, Sendable, Hashable {
    /// The release's ID, derived from its content.
    public var id: String
    /// A human version label such as `2026.11.3`.
    public var version: String
    /// The blueprint and config revision the release was made from.
    public var revision: String
    /// Artifacts by component name (`datenplattform`, `external:NAME`).
    public var components: [String: ComponentArtifact]
    /// When the orchestrator registered the release (whole seconds); not part of the ID.
    public var createdAt: Date?
    /// The operator who registered it, as the orchestrator authenticated them; not part of the ID.
    public var createdBy: String?

    public init(
        id: String, version: String, revision: String, components: [String: ComponentArtifact],
        createdAt: Date? = nil, createdBy: String? = nil
    ) {
        self.id = id
        self.version = version
        self.revision = revision
        self.components = components
        self.createdAt = createdAt
        self.createdBy = createdBy
    }

    /// The manifest without who registered it and when: what the ID stands for.
    public var content: ReleaseManifest {
        var content = self
        content.createdAt = nil
        content.createdBy = nil
        return content
    }

    /// The release name plans use when no release is given: the working tree, not built yet.
    public static let unreleased = "unreleased"
}

/// One component's artifact in a release.
public struct ComponentArtifact: Codable, Sendable, Hashable {
    /// SHA-256 of the artifact archive, lowercase hex.
    public var sha256: String
    /// Size of the archive in bytes.
    public var size: Int
    /// The component's migrations, oldest first, by ID.
    public var migrations: [String]

    public init(sha256: String, size: Int, migrations: [String]) {
        self.sha256 = sha256
        self.size = size
        self.migrations = migrations
    }
}

/// A release manifest with the orchestrator's Ed25519 signature over its canonical JSON; agents
/// refuse manifests that are unsigned or whose signature does not match their configured key.
public struct SignedReleaseManifest: Codable, Sendable, Hashable {
    public var manifest: ReleaseManifest
    /// The Ed25519 signature, base64.
    public var signature: String
    /// Which key signed: the first 16 hex digits of the public key's SHA-256.
    public var keyFingerprint: String

    public init(manifest: ReleaseManifest, signature: String, keyFingerprint: String) {
        self.manifest = manifest
        self.signature = signature
        self.keyFingerprint = keyFingerprint
    }
}

/// `GET /v1/signing-key`: the orchestrator's Ed25519 release-signing public key.
public struct SigningKeyView: Codable, Sendable, Hashable {
    /// The raw 32-byte public key, base64.
    public var publicKey: String
    /// The first 16 hex digits of the key's SHA-256, as signed manifests name it.
    public var fingerprint: String

    public init(publicKey: String, fingerprint: String) {
        self.publicKey = publicKey
        self.fingerprint = fingerprint
    }
}
