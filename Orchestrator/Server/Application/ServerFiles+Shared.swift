package import Authority
package import Foundation
import Identity
package import Store

extension ServerFiles {
    /// The name the orchestrator's keys are sealed under in the store.
    static let sealedCAKeyName = "orchestrator/ca.key"
    static let sealedSigningKeyName = "orchestrator/signing.key"

    /// The data folder of a server of `store`: every server of one store is one orchestrator, with one
    /// CA (so an agent that joined through one server is trusted by every other) and one
    /// release-signing key. The first server keeps its own in the store, its private keys sealed with
    /// the key-encryption key; a server with a fresh data folder takes them from there (it needs the
    /// same key file). A data folder with a CA of another orchestrator is refused, never replaced: the
    /// agents that joined through it would stop trusting it.
    package static func shared(folder: URL, store: StateStore, keyring: SecretKeyring) async throws -> ServerFiles {
        let caKeyFile = folder.appendingPathComponent("ca/ca.key")
        let hadOwn = FileManager.default.fileExists(atPath: caKeyFile.path)
        if let stored = try await store.orchestratorIdentity() {
            return try await adopt(stored, folder: folder, hadOwn: hadOwn, store: store, keyring: keyring)
        }
        let files = try ServerFiles(folder: folder)
        let mine = OrchestratorIdentity(
            caCertificate: try String(contentsOf: files.authorityFile, encoding: .utf8),
            sealedCAKey: try keyring.seal(
                try String(contentsOf: caKeyFile, encoding: .utf8), environment: "", name: sealedCAKeyName),
            sealedSigningKey: try keyring.seal(
                files.signingKey.base64EncodedString(), environment: "", name: sealedSigningKeyName),
            createdBy: files.serverID, createdAt: Date())
        let kept = try await store.keepOrchestratorIdentity(mine)
        if Self.same(kept.caCertificate, mine.caCertificate) { return files }
        // Another server of the store was first: its identity is the orchestrator's.
        return try await adopt(kept, folder: folder, hadOwn: hadOwn, store: store, keyring: keyring)
    }

    private static func adopt(
        _ stored: OrchestratorIdentity, folder: URL, hadOwn: Bool, store: StateStore, keyring: SecretKeyring
    ) async throws -> ServerFiles {
        let caKey: String
        let signingKey: String
        do {
            caKey = try keyring.open(stored.sealedCAKey, environment: "", name: sealedCAKeyName)
            signingKey = try keyring.open(stored.sealedSigningKey, environment: "", name: sealedSigningKeyName)
        } catch {
            let sealedWith = stored.sealedCAKey.split(separator: ".").dropFirst().first.map(String.init) ?? "?"
            throw IdentityError(
                "the store holds the orchestrator's CA and signing key (kept by \(stored.createdBy)), sealed with a "
                    + "key-encryption key this server was not given (\(sealedWith); it has "
                    + "\(SecretKeyring.keyID(keyring.current))): start every server of one store with the same "
                    + "--secrets-key file, and during a rotation with the old one as --previous-secrets-key")
        }
        let caFolder = folder.appendingPathComponent("ca")
        let signingFile = folder.appendingPathComponent("signing.key")
        if hadOwn {
            let local = (try? String(contentsOf: caFolder.appendingPathComponent("ca.pem"), encoding: .utf8)) ?? ""
            let localSigning = (try? String(contentsOf: signingFile, encoding: .utf8)) ?? ""
            guard same(local, stored.caCertificate), same(localSigning, signingKey) else {
                throw IdentityError(
                    "\(folder.path) holds a CA and signing key of another orchestrator than the one its store holds "
                        + "(kept by \(stored.createdBy)); agents joined through it would not trust the others: give "
                        + "this server a fresh --data folder, or move ca/ and signing.key out of it")
            }
        } else {
            try FileManager.default.createDirectory(at: caFolder, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: folder.path)
            try PEMFiles.writeSecret(caKey, to: caFolder.appendingPathComponent("ca.key"))
            try PEMFiles.write(stored.caCertificate, to: caFolder.appendingPathComponent("ca.pem"))
            try PEMFiles.writeSecret(signingKey.trimmingCharacters(in: .whitespacesAndNewlines) + "\n", to: signingFile)
        }
        // Sealed with a key being replaced (--previous-secrets-key): sealed again with the current one.
        if !keyring.isCurrent(stored.sealedCAKey) || !keyring.isCurrent(stored.sealedSigningKey) {
            try await store.resealOrchestratorIdentity(
                caKey: try keyring.seal(caKey, environment: "", name: sealedCAKeyName),
                signingKey: try keyring.seal(signingKey, environment: "", name: sealedSigningKeyName))
        }
        return try ServerFiles(folder: folder)
    }

    private static func same(_ left: String, _ right: String) -> Bool {
        left.trimmingCharacters(in: .whitespacesAndNewlines) == right.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
