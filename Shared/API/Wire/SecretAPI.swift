public import FoundationEssentials

/// How a secret's value came about, and so how `secret rotate` makes a new one.
public enum SecretKind: String, WireEnum {
    /// Given by an operator (`secret set`); a rotation needs the new value.
    case value
    /// Random, URL-safe text (`secret generate --kind token`).
    case token
    /// Random letters and digits that are easy to type (`--kind password`).
    case password
    /// An Ed25519 private key in PKCS #8 PEM (`--kind ed25519`).
    case ed25519
    public static let wireName = "secret kind"
}

/// `PUT /v1/environments/{env}/secrets/{name}`: a value an operator gives.
public struct SecretValueRequest: Codable, Sendable, Hashable {
    /// The value, as text (1 byte to 64 KiB); it never appears in an answer, a log or the audit log.
    public var value: String
    /// Only nodes of this site receive it; nil for every site of the environment.
    public var site: String?

    public init(value: String, site: String? = nil) {
        self.value = value
        self.site = site
    }
}

/// `POST /v1/environments/{env}/secrets/{name}/generate`: a value the server makes.
public struct SecretGenerateRequest: Codable, Sendable, Hashable {
    public var kind: SecretKind
    /// Characters of a password, or random bytes of a token (16 to 1024); nil for the default (32).
    public var length: Int?
    public var site: String?

    public init(kind: SecretKind, length: Int? = nil, site: String? = nil) {
        self.kind = kind
        self.length = length
        self.site = site
    }
}

/// `POST /v1/environments/{env}/secrets/{name}/rotate`: a generated secret gets a new value of its
/// kind; a secret that was set needs the new value.
public struct SecretRotation: Codable, Sendable, Hashable {
    public var value: String?

    public init(value: String? = nil) { self.value = value }
}

/// A secret as operators see it: never its value.
public struct SecretView: Codable, Sendable, Hashable {
    public var environment: String
    public var name: String
    /// The one site whose nodes receive it; nil for every site.
    public var site: String?
    public var kind: SecretKind
    /// 1 when first set, one more on each change.
    public var version: Int
    /// Identifies the value (an HMAC the server keys), as plans and desired states name it.
    public var fingerprint: String
    public var updatedAt: Date
    public var updatedBy: String
    /// `SITE/NODE/SERVICE` of every instance whose desired state uses it.
    public var usedBy: [String]
    /// Why the server cannot read its stored value (altered, or sealed with a key it was not given);
    /// nil when it can.
    public var problem: String?

    public init(
        environment: String, name: String, site: String?, kind: SecretKind, version: Int, fingerprint: String,
        updatedAt: Date, updatedBy: String, usedBy: [String], problem: String?
    ) {
        self.environment = environment
        self.name = name
        self.site = site
        self.kind = kind
        self.version = version
        self.fingerprint = fingerprint
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
        self.usedBy = usedBy
        self.problem = problem
    }
}

/// `GET /v1/environments/{env}/secrets/{name}/value`, on a server started with `--reveal-secrets`.
public struct SecretValueView: Codable, Sendable, Hashable {
    public var name: String
    public var version: Int
    public var value: String

    public init(name: String, version: Int, value: String) {
        self.name = name
        self.version = version
        self.value = value
    }
}

/// The secret values of a node's desired state, sealed to the key of the certificate the node
/// presented (HPKE, P-256, AES-256-GCM), so they are readable by that node alone, over mutual TLS.
/// The agent keeps them in memory only: the desired state it saves leaves them out.
public struct SealedSecrets: Codable, Sendable, Hashable {
    /// The HPKE encapsulated key, base64.
    public var encapsulatedKey: String
    /// The sealed ``DeliveredSecrets`` JSON, base64.
    public var ciphertext: String

    public init(encapsulatedKey: String, ciphertext: String) {
        self.encapsulatedKey = encapsulatedKey
        self.ciphertext = ciphertext
    }
}

/// What ``SealedSecrets`` holds.
public struct DeliveredSecrets: Codable, Sendable, Hashable {
    /// Values by secret name.
    public var values: [String: String]
    /// Secrets the node's state names that the server could not deliver, with why (never a value).
    public var refused: [String: String]

    public init(values: [String: String], refused: [String: String] = [:]) {
        self.values = values
        self.refused = refused
    }
}
