/// An immutable, content-addressed set of artifacts: what is deployed and promoted.
///
/// Releases are built by `stellwerk release create` (a later issue); until then a plan can name one
/// from a file, or deploys the working tree as `unreleased`.
public struct ReleaseManifest: Codable, Sendable, Hashable {
    /// The release's ID, derived from its content.
    public var id: String
    /// A human version label such as `2026.11.3`.
    public var version: String
    /// The blueprint and config revision the release was made from.
    public var revision: String
    /// Artifacts by component name (`datenplattform`, `external:NAME`).
    public var components: [String: ComponentArtifact]

    public init(id: String, version: String, revision: String, components: [String: ComponentArtifact]) {
        self.id = id
        self.version = version
        self.revision = revision
        self.components = components
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
