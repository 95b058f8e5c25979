import Database
package import Foundation

/// The orchestrator's identity as the store keeps it for every server that shares it: the CA's
/// certificate (public), and its private key and the release-signing key, each sealed with the
/// key-encryption key the servers read from a file — the store alone holds no usable key.
package struct OrchestratorIdentity: Sendable, Hashable {
    package var caCertificate: String
    package var sealedCAKey: String
    package var sealedSigningKey: String
    /// The server that made it, and when.
    package var createdBy: String
    package var createdAt: Date

    package init(
        caCertificate: String, sealedCAKey: String, sealedSigningKey: String, createdBy: String, createdAt: Date
    ) {
        self.caCertificate = caCertificate
        self.sealedCAKey = sealedCAKey
        self.sealedSigningKey = sealedSigningKey
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

extension StateStore {
    /// The identity every server of this store uses; nil before the first server kept its own.
    package func orchestratorIdentity() async throws -> OrchestratorIdentity? {
        try await read { connection in try Self.identity(on: connection) }
    }

    /// Keeps `identity` unless the store holds one already; answers the one it holds after, so two
    /// servers starting at once end up with the same.
    package func keepOrchestratorIdentity(_ identity: OrchestratorIdentity) async throws -> OrchestratorIdentity {
        try await transaction { connection in
            try connection.run(
                """
                INSERT INTO orchestrator_identity (id, ca_certificate, ca_key, signing_key, created_by, created_at)
                VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING
                """, .text(identity.caCertificate), .text(identity.sealedCAKey), .text(identity.sealedSigningKey),
                .text(identity.createdBy), .integer(Int64(Self.milliseconds(identity.createdAt))))
            return try Self.identity(on: connection) ?? identity
        }
    }

    /// Seals the keys again (a new key-encryption key): the same identity, another box.
    package func resealOrchestratorIdentity(caKey: String, signingKey: String) async throws {
        _ = try await transaction { connection in
            try connection.run(
                "UPDATE orchestrator_identity SET ca_key = $1, signing_key = $2 WHERE id = 1", .text(caKey),
                .text(signingKey))
        }
    }

    private static func identity(on connection: any SQLConnection) throws -> OrchestratorIdentity? {
        try connection.query(
            "SELECT ca_certificate, ca_key, signing_key, created_by, created_at FROM orchestrator_identity WHERE id = 1"
        ).first.map {
            OrchestratorIdentity(
                caCertificate: $0.text(0), sealedCAKey: $0.text(1), sealedSigningKey: $0.text(2), createdBy: $0.text(3),
                createdAt: date($0.integer(4)))
        }
    }
}
