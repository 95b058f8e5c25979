import Artifacts
import Crypto
import Foundation
import StellwerkAPI
import Store

/// Artifacts, stored by their SHA-256 in the server's data folder, and the immutable releases made of
/// them, signed with the server's key whenever they are handed out.
struct ReleaseRegistry: Sendable {
    let store: StateStore
    let hub: EventHub
    let files: ServerFiles
    /// The largest artifact accepted.
    static let artifactLimit = 2 << 30

    /// The file of the artifact `sha256` (64 hex digits, any case); refuses any other name.
    func artifactFile(_ sha256: String) throws(APIError) -> (sha256: String, path: String) {
        let sha = sha256.lowercased()
        guard Hex.isSHA256(sha) else {
            throw .badRequest("an artifact is named by its SHA-256: 64 hex digits")
        }
        return (sha, files.artifactFolder.appendingPathComponent(sha).path)
    }

    /// Stores the bytes of `body` as the artifact `sha256` after checking they have that digest;
    /// `false` when it was there already.
    func store<Bytes: AsyncSequence>(
        _ sha256: String, from body: Bytes, actor: String
    ) async throws -> Bool where Bytes.Element == [UInt8] {
        let (sha, path) = try artifactFile(sha256)
        if FileManager.default.fileExists(atPath: path) { return false }
        let temporary = files.artifactFolder.appendingPathComponent(".upload-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw APIError(.internal, "cannot write to the artifact folder")
        }
        defer { try? FileManager.default.removeItem(at: temporary) }
        let handle = try FileHandle(forWritingTo: temporary)
        var hasher = SHA256()
        var total = 0
        do {
            for try await bytes in body {
                total += bytes.count
                guard total <= Self.artifactLimit else {
                    throw APIError(.tooLarge, "artifacts are limited to \(Self.artifactLimit >> 30) GiB")
                }
                hasher.update(data: bytes)
                try handle.write(contentsOf: bytes)
            }
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }
        let actual = hasher.finalize().lowercaseHex
        guard actual == sha else { throw APIError.badRequest("the uploaded bytes have SHA-256 \(actual), not \(sha)") }
        try FileManager.default.moveItem(atPath: temporary.path, toPath: path)
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
            let (_, path) = try artifactFile(artifact.sha256)
            guard FileManager.default.fileExists(atPath: path) else {
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
