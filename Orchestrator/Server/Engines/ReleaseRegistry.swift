import Artifacts
import Foundation
import StellwerkAPI
import Store

/// Artifacts, stored by their SHA-256 in the server's data folder (and in a shared store, for the
/// other servers), and the immutable releases made of them, signed with the server's key whenever
/// they are handed out.
struct ReleaseRegistry: Sendable {
    let store: StateStore
    let hub: EventHub
    let files: ServerFiles
    var shelf: ArtifactShelf { ArtifactShelf(store: store, files: files) }

    /// The artifact `sha256` (64 hex digits, any case) in lowercase; refuses any other name.
    func artifactName(_ sha256: String) throws(APIError) -> String {
        let sha = sha256.lowercased()
        guard Hex.isSHA256(sha) else {
            throw .badRequest("an artifact is named by its SHA-256: 64 hex digits")
        }
        return sha
    }

    /// The file of the artifact `sha256`, taken from the store first when only the store holds it.
    func artifactFile(_ sha256: String) async throws -> (sha256: String, path: String?) {
        let sha = try artifactName(sha256)
        return (sha, try await shelf.file(sha))
    }

    /// Stores the bytes of `body` as the artifact `sha256` after checking they have that digest;
    /// `false` when it was there already.
    func store<Bytes: AsyncSequence>(
        _ sha256: String, from body: Bytes, actor: String
    ) async throws -> Bool where Bytes.Element == [UInt8] {
        let sha = try artifactName(sha256)
        let path = shelf.path(sha)
        if FileManager.default.fileExists(atPath: path) {
            // Taken in before its store was shared, or its copy to the store was cut short.
            try await shelf.share(sha)
            return false
        }
        var chunks = body.makeAsyncIterator()
        let (actual, total) = try await shelf.keep(sha) {
            try await chunks.next()
        }
        guard actual == sha else { throw APIError.badRequest("the uploaded bytes have SHA-256 \(actual), not \(sha)") }
        try await shelf.share(sha)
        _ = try await store.audit(
            AuditEvent(actor: actor, action: "artifact.upload", object: sha, detail: "\(total) bytes"))
        return true
    }

    /// Registers a release whose artifacts were uploaded; `created` is false when the same release
    /// exists already. A release is immutable: the same ID with other content is refused.
    func create(
        _ body: ReleaseManifest, by user: String, actor: String
    ) async throws -> (
        release: SignedReleaseManifest, created: Bool
    ) {
        var manifest = body.content
        guard !manifest.id.isEmpty, manifest.id != ReleaseManifest.unreleased,
            manifest.id.allSatisfy({ $0.isLetter || $0.isNumber || "-._".contains($0) })
        else {
            throw APIError.badRequest(
                "the release id '\(manifest.id)' is empty or holds characters other than letters, digits, - . _")
        }
        for (component, artifact) in manifest.components.sorted(by: { $0.key < $1.key }) {
            guard try await shelf.has(try artifactName(artifact.sha256)) else {
                throw APIError.conflict(
                    "the artifact of \(component) (\(artifact.sha256.prefix(12))) was not uploaded; upload it first")
            }
        }
        if let existing = try await store.release(id: manifest.id) {
            guard existing.content == manifest else {
                throw APIError.conflict("release \(manifest.id) exists with other content; releases are immutable")
            }
            return (try sign(existing), false)
        }
        manifest.createdAt = WireJSON.signable(Date())
        manifest.createdBy = user
        try await store.storeRelease(manifest, actor: actor)
        hub.publish(.release, environment: "", object: manifest.id, detail: "version \(manifest.version)")
        return (try sign(manifest), true)
    }

    func release(_ id: String) async throws -> SignedReleaseManifest {
        guard let manifest = try await store.release(id: id) else {
            throw APIError.notFound("there is no release \(id)")
        }
        return try sign(manifest)
    }

    func releases() async throws -> [SignedReleaseManifest] { try await store.releases().map(sign) }

    func signingKey() throws -> SigningKeyView {
        let key = try files.signingPublicKey
        return SigningKeyView(
            publicKey: key, fingerprint: ReleaseSigner.fingerprint(of: Data(base64Encoded: key) ?? Data()))
    }

    private func sign(_ manifest: ReleaseManifest) throws -> SignedReleaseManifest {
        try ReleaseSigner.sign(manifest, privateKey: files.signingKey)
    }
}
