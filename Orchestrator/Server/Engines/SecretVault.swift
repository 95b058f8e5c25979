import Authority
import Crypto
import Foundation
import Identity
import StellwerkAPI
import Store

/// The secrets the orchestrator holds: sealed in the store with the key-encryption key, changed only
/// by operators (audited, never with the value), and delivered to a node sealed to its key, only the
/// ones its desired state names.
struct SecretVault: Sendable {
    let store: StateStore
    let hub: EventHub
    let keyring: SecretKeyring
    /// Whether approvers may read values back (`--reveal-secrets`, for a local platform).
    let revealAllowed: Bool

    // MARK: Operators

    func list(_ environment: String) async throws -> [SecretView] {
        let usage = try await usage(environment)
        return try await store.secrets(environment: environment).map { record in
            view(record, usedBy: usage[record.name] ?? [], problem: readProblem(record))
        }
    }

    func set(
        _ name: String, environment: String, _ request: SecretValueRequest, actor: String
    ) async throws -> SecretView {
        try Self.validate(name: name, site: request.site)
        try Self.validate(value: request.value)
        return try await store(
            name, environment: environment, value: request.value, kind: .value, site: request.site,
            change: .set, actor: actor)
    }

    func generate(
        _ name: String, environment: String, _ request: SecretGenerateRequest, actor: String
    )
        async throws -> SecretView
    {
        try Self.validate(name: name, site: request.site)
        let value = try Self.generateValue(request.kind, length: request.length)
        return try await store(
            name, environment: environment, value: value, kind: request.kind, site: request.site,
            change: .generate, actor: actor)
    }

    func rotate(
        _ name: String, environment: String, _ request: SecretRotation, actor: String
    ) async throws -> SecretView {
        guard let current = try await store.secret(environment: environment, name: name) else {
            throw APIError.notFound("there is no secret '\(name)' in \(environment)")
        }
        let value: String
        switch (current.kind, request.value) {
        case (.value, nil):
            throw APIError.badRequest(
                "secret '\(name)' was set from a value, so its new value must be given: "
                    + "`stellwerk secret rotate \(name) --env \(environment) --stdin`")
        case (.value, let given?):
            try Self.validate(value: given)
            value = given
        case (let kind, nil):
            value = try Self.generateValue(
                kind, length: nil, like: try keyring.open(current.ciphertext, environment: environment, name: name))
        case (_, _?):
            throw APIError.badRequest(
                "secret '\(name)' is generated (\(current.kind.rawValue)); a rotation makes its new value, send none")
        }
        return try await store(
            name, environment: environment, value: value, kind: current.kind, site: current.site,
            change: .rotate, actor: actor)
    }

    func delete(_ name: String, environment: String, actor: String) async throws {
        try await refuseDuringRollout(environment, name)
        if let users = try await usage(environment)[name], !users.isEmpty {
            throw APIError.conflict(
                "secret '\(name)' is used by \(users.joined(separator: ", ")); apply a plan without it first")
        }
        try await store.deleteSecret(environment: environment, name: name, actor: actor)
        hub.publish(.secret, environment: environment, object: name, detail: "deleted")
    }

    func reveal(_ name: String, environment: String, actor: String) async throws -> SecretValueView {
        guard revealAllowed else {
            throw APIError.forbidden(
                "this server does not reveal secret values; only a local platform's server does (`--reveal-secrets`)")
        }
        guard let record = try await store.secret(environment: environment, name: name) else {
            throw APIError.notFound("there is no secret '\(name)' in \(environment)")
        }
        let value = try open(record)
        _ = try await store.audit(
            AuditEvent(
                actor: actor, action: "secret.reveal", environment: environment, object: name,
                detail: "version \(record.version)"))
        return SecretValueView(name: name, version: record.version, value: value)
    }

    /// A rollout gives its nodes the values their states were planned with; a secret changed under
    /// it would reach some nodes and not others.
    private func refuseDuringRollout(_ environment: String, _ name: String) async throws {
        if let active = try await store.rollouts(environment: environment).first(where: \.state.isActive) {
            throw APIError.conflict(
                "rollout \(active.id) is \(active.state.rawValue) in \(environment); change secret '\(name)' once it ended"
            )
        }
    }

    private func store(
        _ name: String, environment: String, value: String, kind: SecretKind, site: String?, change: SecretChange,
        actor: String
    ) async throws -> SecretView {
        if change != .generate { try await refuseDuringRollout(environment, name) }
        let record = SecretRecord(
            environment: environment, name: name,
            ciphertext: try keyring.seal(value, environment: environment, name: name),
            fingerprint: keyring.fingerprint(value, environment: environment, name: name), updatedAt: Date(),
            updatedBy: actor, kind: kind, site: site)
        let stored = try await store.putSecret(record, change: change)
        hub.publish(.secret, environment: environment, object: name, detail: "version \(stored.version) by \(actor)")
        return view(stored, usedBy: try await usage(environment)[name] ?? [], problem: nil)
    }

    private func view(_ record: SecretRecord, usedBy: [String], problem: String?) -> SecretView {
        SecretView(
            environment: record.environment, name: record.name, site: record.site, kind: record.kind,
            version: record.version, fingerprint: record.fingerprint, updatedAt: record.updatedAt,
            updatedBy: record.updatedBy, usedBy: usedBy.sorted(), problem: problem)
    }

    /// `SITE/NODE/SERVICE` of each instance whose desired state names a secret, by secret name.
    private func usage(_ environment: String) async throws -> [String: [String]] {
        var users: [String: [String]] = [:]
        for state in try await store.desiredStates(environment: environment) {
            for instance in state.instances {
                for name in instance.secretNames {
                    users[name, default: []].append("\(state.site)/\(state.node)/\(instance.service)")
                }
            }
        }
        return users
    }

    private func open(_ record: SecretRecord) throws -> String {
        do {
            return try keyring.open(record.ciphertext, environment: record.environment, name: record.name)
        } catch let error as IdentityError {
            throw APIError(.internal, error.description)
        }
    }

    private func readProblem(_ record: SecretRecord) -> String? {
        do {
            _ = try keyring.open(record.ciphertext, environment: record.environment, name: record.name)
            return nil
        } catch {
            return "\(error)"
        }
    }

    // MARK: Nodes

    /// The values `state` names, sealed to the node's certificate key; nil when it names none. A
    /// secret that is not held, is held for another site than the one the node joined for, or was
    /// changed after the state was written (its fingerprint there is another), or cannot be opened, is
    /// named in ``DeliveredSecrets/refused`` with why, so the node's error says it.
    func delivery(for state: NodeDesiredState, serial: Int, certificate: [UInt8]) async throws -> SealedSecrets? {
        guard let delivered = try await values(for: state) else { return nil }
        return try SecretSealing.seal(
            delivered, toCertificate: certificate, environment: state.environment, node: state.node, serial: serial)
    }

    /// The values `state` names, and why each it cannot have is refused; nil when it names none. For
    /// sealing to a node's key, or for a push node's SSH channel.
    func values(for state: NodeDesiredState) async throws -> DeliveredSecrets? {
        var names: Set<String> = []
        var planned: [String: String] = [:]
        for instance in state.instances {
            names.formUnion(instance.secretNames)
            for case .secret(let name, let fingerprint?) in instance.parameters.values { planned[name] = fingerprint }
        }
        guard !names.isEmpty else { return nil }
        var delivered = DeliveredSecrets(values: [:])
        let held = Dictionary(
            try await store.secrets(environment: state.environment).map { ($0.name, $0) },
            uniquingKeysWith: { a, _ in a })
        let site = try await store.site(ofNode: state.node, environment: state.environment) ?? state.site
        for name in names.sorted() {
            guard let record = held[name] else {
                delivered.refused[name] =
                    "the orchestrator holds no secret '\(name)' in \(state.environment); "
                    + "set it with `stellwerk secret set \(name) --env \(state.environment) --stdin`"
                continue
            }
            if let only = record.site, only != site {
                delivered.refused[name] = "secret '\(name)' is held for the site \(only) only, not for \(site)"
                continue
            }
            if let fingerprint = planned[name], fingerprint != record.fingerprint {
                delivered.refused[name] =
                    "secret '\(name)' changed (version \(record.version)) after this node's desired state was written; "
                    + "plan and apply again"
                continue
            }
            do {
                delivered.values[name] = try keyring.open(
                    record.ciphertext, environment: record.environment, name: name)
            } catch {
                delivered.refused[name] = "the orchestrator cannot deliver it: \(error)"
            }
        }
        return delivered
    }

    // MARK: Key-encryption key

    /// Checks at start that every stored secret was sealed with a key the server was given, and seals
    /// those sealed with a previous key again with the current one. Refuses to start with a secret
    /// sealed by a key it does not have (the wrong key file), naming the secrets; a secret whose
    /// stored value was altered is kept and named in the answer, and `secret list` shows it.
    func prepare() async throws -> (resealed: Int, unreadable: [String]) {
        var reseal: [(environment: String, name: String, replacing: String, ciphertext: String)] = []
        var unknownKey: [String] = []
        var unreadable: [String] = []
        let known = Set(([keyring.current] + keyring.previous).map(SecretKeyring.keyID))
        for record in try await store.allSecrets() where !keyring.isCurrent(record.ciphertext) {
            let keyID = record.ciphertext.split(separator: ".").dropFirst().first.map(String.init) ?? ""
            guard known.contains(keyID) else {
                unknownKey.append("\(record.environment)/\(record.name) (key \(keyID))")
                continue
            }
            do {
                let value = try keyring.open(record.ciphertext, environment: record.environment, name: record.name)
                let sealed = try keyring.seal(value, environment: record.environment, name: record.name)
                reseal.append((record.environment, record.name, record.ciphertext, sealed))
            } catch {
                unreadable.append("\(error)")
            }
        }
        guard unknownKey.isEmpty else {
            throw IdentityError(
                "the store holds secrets sealed with a key-encryption key this server was not given (it has "
                    + "\(SecretKeyring.keyID(keyring.current))): \(unknownKey.joined(separator: ", ")); start it with "
                    + "the key file they were sealed with, as --secrets-key or --previous-secrets-key")
        }
        return (try await store.resealSecrets(reseal, actor: "orchestrator"), unreadable)
    }

    // MARK: Values

    static func validate(name: String, site: String?) throws(APIError) {
        for (what, text) in [("secret name", name), ("site", site ?? "a")] where !Names.isValid(text) {
            throw .badRequest("the \(what) '\(text.prefix(64))' is not valid: \(Names.rule)")
        }
    }

    static func validate(value: String) throws(APIError) {
        if let problem = SecretKeyring.problem(with: value) {
            throw .badRequest("the secret's value is refused: \(problem)")
        }
    }

    /// A random value of `kind`; `length` is a password's characters or a token's bytes (16 to 1024).
    static func generateValue(_ kind: SecretKind, length: Int?, like previous: String? = nil) throws(APIError) -> String
    {
        if let length, !(16...1024).contains(length) {
            throw .badRequest("the length \(length) is outside 16 to 1024")
        }
        var generator = SystemRandomNumberGenerator()
        switch kind {
        case .value:
            throw .badRequest("a secret of kind 'value' is given with `secret set`, not generated")
        case .token:
            return Tokens.random(bytes: length ?? previous.flatMap { Data(base64URL: $0)?.count } ?? 32)
        case .password:
            // No 0/O, 1/l/I: read off a screen and typed in, a password must not be ambiguous.
            let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
            let count = length ?? previous?.count ?? 24
            return String((0..<count).map { _ in alphabet.randomElement(using: &generator)! })
        case .ed25519:
            if length != nil { throw .badRequest("an ed25519 key has no length to choose") }
            return Ed25519PEM.privateKey(Curve25519.Signing.PrivateKey())
        }
    }
}

/// An Ed25519 private key as OpenSSL and OpenSSH read it: PKCS #8 in PEM.
enum Ed25519PEM {
    static func privateKey(_ key: Curve25519.Signing.PrivateKey) -> String {
        // The fixed DER of a PKCS #8 OneAsymmetricKey for Ed25519 (RFC 8410), then the 32 key bytes.
        let prefix: [UInt8] = [
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
        ]
        let base64 = Data(prefix + Array(key.rawRepresentation)).base64EncodedString()
        return "-----BEGIN PRIVATE KEY-----\n\(base64)\n-----END PRIVATE KEY-----\n"
    }
}

extension Data {
    fileprivate init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}
