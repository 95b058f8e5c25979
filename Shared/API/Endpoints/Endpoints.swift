/// Every endpoint of the orchestrator's API, by area. docs/api/openapi.json is generated from these.
public enum Endpoints {
    static let environment = QueryParameter("env", .string, "only this environment")
    static let megabytes64 = 64 << 20

    // MARK: The server itself

    public static let health = Endpoint<NoBody, HealthView>(
        .get, "/health", access: .anyone, summary: "Liveness and readiness: the state store answers.")
    public static let metrics = Endpoint<NoBody, PlainText>(
        .get, "/metrics", access: .anyone, summary: "Prometheus metrics (text format 0.0.4).")
    public static let openAPI = Endpoint<NoBody, AnyJSON>(
        .get, "/openapi.json", access: .anyone, summary: "This API as an OpenAPI 3.1 document.")
    public static let authority = Endpoint<NoBody, PlainText>(
        .get, "/v1/ca", access: .anyone,
        summary: "The orchestrator's CA certificate (PEM); a joining agent pins it by its fingerprint.")
    public static let signingKey = Endpoint<NoBody, SigningKeyView>(
        .get, "/v1/signing-key", access: .signedIn, summary: "The Ed25519 key releases are signed with.")

    // MARK: Agents

    public static let join = Endpoint<JoinRequest, JoinResponse>(
        .post, "/v1/join", access: .anyone,
        summary: "Redeem a single-use join token for a node certificate (the request is the certificate's CSR).")
    public static let desiredState = Endpoint<NoBody, DesiredStateResponse?>(
        .get, "/v1/agent/desired-state", access: .agent,
        summary: "The node's desired state when newer than `known`; waits up to `wait` seconds, else 204.",
        query: [
            QueryParameter("known", .integer, "the serial the agent has"),
            QueryParameter("wait", .integer, "seconds to wait for a newer one (0 to 60)"),
            QueryParameter(
                "orchestrators", .string,
                "the digest of the agent's list of servers; another list than the server's is answered at once"),
        ])
    public static let report = Endpoint<NodeReport, NoContent>(
        .post, "/v1/agent/report", access: .agent, summary: "What the node runs and how each instance is doing.")
    public static let renewCertificate = Endpoint<RenewalRequest, RenewalResponse>(
        .post, "/v1/agent/certificate", access: .agent,
        summary: "A new certificate for a new key, signed in over the current one.")

    // MARK: Artifacts and releases

    public static let artifact = Endpoint<NoBody, RawBytes>(
        .get, "/v1/artifacts/{sha256}", access: .agentOrReader,
        summary: "An artifact by its SHA-256, whole or the byte range asked for (HEAD answers its size).")
    public static let uploadArtifact = Endpoint<RawBytes, NoContent>(
        .put, "/v1/artifacts/{sha256}", access: .role(.deploy, .anyEnvironment),
        summary: "Store an artifact under its SHA-256 (204 when it is there already).", success: 201,
        bodyLimit: 2 << 30)
    public static let createRelease = Endpoint<ReleaseManifest, SignedReleaseManifest>(
        .post, "/v1/releases", access: .role(.deploy, .anyEnvironment),
        summary: "Register an immutable release of uploaded artifacts; the answer is signed (200 when it exists).",
        success: 201)
    public static let releases = Endpoint<NoBody, [SignedReleaseManifest]>(
        .get, "/v1/releases", access: .signedIn, summary: "Every release, newest first, signed.")
    public static let release = Endpoint<NoBody, SignedReleaseManifest>(
        .get, "/v1/releases/{id}", access: .signedIn, summary: "One release, signed.")

    // MARK: Operators and access

    public static let whoami = Endpoint<NoBody, CallerView>(
        .get, "/v1/whoami", access: .signedIn, summary: "The operator the token belongs to, with their roles.")
    public static let createJoinToken = Endpoint<JoinTokenRequest, IssuedToken>(
        .post, "/v1/join-tokens", access: .role(.administer, .subject),
        summary: "A single-use, expiring join token for one node (shown once).", success: 201)
    public static let joinTokens = Endpoint<NoBody, [JoinTokenView]>(
        .get, "/v1/join-tokens", access: .role(.administer, .everyEnvironment),
        summary: "Join tokens, without the tokens themselves.")
    public static let createUser = Endpoint<UserRequest, IssuedToken>(
        .post, "/v1/users", access: .role(.administer, .everyEnvironment),
        summary: "An operator with roles per environment, and their API token (shown once).", success: 201)
    public static let users = Endpoint<NoBody, [UserView]>(
        .get, "/v1/users", access: .role(.administer, .everyEnvironment), summary: "Every operator.")
    public static let revokeUser = Endpoint<NoBody, NoContent>(
        .delete, "/v1/users/{name}", access: .role(.administer, .everyEnvironment),
        summary: "Revoke an operator's token.")
    public static let approveUser = Endpoint<NoBody, UserView>(
        .post, "/v1/users/{name}/approve", access: .role(.administer, .everyEnvironment),
        summary:
            "Approve roles that decide on an environment with a promotion source, as a second admin (not the grantor)."
    )

    // MARK: Nodes

    public static let nodes = Endpoint<NoBody, [NodeCertificateView]>(
        .get, "/v1/nodes", access: .signedIn,
        summary:
            "Every node the operator may read, with its connection and its certificate's serial, expiry and state.",
        query: [environment])
    public static let revokeNode = Endpoint<NoBody, NodeCertificateView>(
        .post, "/v1/environments/{env}/nodes/{node}/revoke", access: .role(.administer, .path("env")),
        summary: "Revoke the node's certificates at once (audited); it must join again with a new token.")

    public static let registerPushNode = Endpoint<PushRegistration, NoContent>(
        .put, "/v1/environments/{env}/nodes/{node}/push", access: .role(.administer, .path("env")),
        summary:
            "Register how the orchestrator pushes to a node that cannot call out (`transport: ssh`; audited); `stellwerk node bootstrap` does it."
    )

    public static let removeNode = Endpoint<NoBody, NoContent>(
        .delete, "/v1/environments/{env}/nodes/{node}", access: .role(.administer, .path("env")),
        summary:
            "Decommission a node a rollout left without instances: certificates revoked, records removed (audited).",
        query: [
            QueryParameter("force", .string, "`true`: also while it still reports instances (a node gone for good)")
        ])

    // MARK: Environments and status

    public static let status = Endpoint<NoBody, StatusDocument>(
        .get, "/v1/status", access: .signedIn,
        summary: "Every node's connection and instances, per environment the operator may read.",
        query: [environment])
    public static let snapshot = Endpoint<NoBody, StateSnapshot>(
        .get, "/v1/environments/{env}/snapshot", access: .role(.read, .path("env")),
        summary: "The recorded state a plan is computed against, with its serial.")

    // MARK: Environment policies

    public static let policy = Endpoint<NoBody, PolicyView>(
        .get, "/v1/environments/{env}/policy", access: .role(.read, .path("env")),
        summary: "The policy the server enforces on the environment, and a change waiting for approval.")
    public static let proposePolicy = Endpoint<EnvironmentPolicy, PolicyView>(
        .put, "/v1/environments/{env}/policy", access: .role(.approve, .path("env")),
        summary:
            "Record the environment's policy from its files (audited); for an environment with a promotion source it waits for a second approver."
    )
    public static let approvePolicy = Endpoint<PolicyApproval, PolicyView>(
        .post, "/v1/environments/{env}/policy/approve", access: .role(.approve, .path("env")),
        summary: "Approve the proposed policy change with the digest read; not the proposer's own.")

    // MARK: Rollouts

    public static let startRollout = Endpoint<ApplyRequest, RolloutView>(
        .post, "/v1/rollouts", access: .role(.deploy, .subject),
        summary: "Apply a plan: a rollout in waves; refused when the plan is stale.", success: 201,
        bodyLimit: megabytes64)
    public static let rollouts = Endpoint<NoBody, [RolloutView]>(
        .get, "/v1/rollouts", access: .signedIn, summary: "Rollouts, newest first.", query: [environment])
    public static let rollout = Endpoint<NoBody, RolloutView>(
        .get, "/v1/rollouts/{id}", access: .role(.read, .subject), summary: "One rollout with its steps.")
    public static let pauseRollout = Endpoint<NoBody, RolloutView>(
        .post, "/v1/rollouts/{id}/pause", access: .role(.deploy, .subject),
        summary: "Pause a running rollout: steps in flight finish, no new ones start.")
    public static let resumeRollout = Endpoint<NoBody, RolloutView>(
        .post, "/v1/rollouts/{id}/resume", access: .role(.deploy, .subject), summary: "Resume a paused rollout.")
    public static let cancelRollout = Endpoint<NoBody, RolloutView>(
        .post, "/v1/rollouts/{id}/cancel", access: .role(.deploy, .subject),
        summary: "Cancel a rollout; nodes keep what they have.")
    public static let rollback = Endpoint<NoBody, RolloutView>(
        .post, "/v1/environments/{env}/rollback", access: .role(.deploy, .path("env")),
        summary: "Roll back to the last release that was healthy everywhere, without a canary.", success: 201)
    public static let rollbackPreview = Endpoint<NoBody, RollbackPreview>(
        .get, "/v1/environments/{env}/rollback", access: .role(.deploy, .path("env")),
        summary: "What a rollback would do, and whose data it restores from a backup.")

    // MARK: Promotions

    public static let requestPromotion = Endpoint<PromotionRequest, PromotionView>(
        .post, "/v1/promotions", access: .role(.deploy, .subject),
        summary: "Promote a verified release into the plan's environment (200 for a dry run).", success: 201,
        bodyLimit: megabytes64)
    public static let promotions = Endpoint<NoBody, [PromotionView]>(
        .get, "/v1/promotions", access: .signedIn, summary: "Promotions, newest first.", query: [environment])
    public static let promotion = Endpoint<NoBody, PromotionView>(
        .get, "/v1/promotions/{id}", access: .role(.read, .subject), summary: "One promotion with its gates and sites.")
    public static let approvePromotion = Endpoint<DecisionRequest, PromotionView>(
        .post, "/v1/promotions/{id}/approve", access: .role(.approve, .subject),
        summary: "Approve a waiting promotion; the requester cannot.")
    public static let rejectPromotion = Endpoint<DecisionRequest, PromotionView>(
        .post, "/v1/promotions/{id}/reject", access: .role(.approve, .subject),
        summary: "Reject a waiting promotion, with a reason.")
    public static let cancelPromotion = Endpoint<NoBody, PromotionView>(
        .post, "/v1/promotions/{id}/cancel", access: .role(.deploy, .subject),
        summary: "Stop a promotion; sites not started stay untouched.")

    // MARK: Secrets

    public static let secrets = Endpoint<NoBody, [SecretView]>(
        .get, "/v1/environments/{env}/secrets", access: .role(.read, .path("env")),
        summary: "The environment's secrets by name: version, who changed them, which instances use them; never values."
    )
    public static let setSecret = Endpoint<SecretValueRequest, SecretView>(
        .put, "/v1/environments/{env}/secrets/{name}", access: .role(.deploy, .path("env")),
        summary: "Set a secret's value (1 byte to 64 KiB of text), sealed at rest; audited without the value.",
        bodyLimit: 512 << 10)
    public static let generateSecret = Endpoint<SecretGenerateRequest, SecretView>(
        .post, "/v1/environments/{env}/secrets/{name}/generate", access: .role(.deploy, .path("env")),
        summary: "Make a new secret with a random value of a kind (token, password, ed25519); 409 when it exists.",
        success: 201)
    public static let rotateSecret = Endpoint<SecretRotation, SecretView>(
        .post, "/v1/environments/{env}/secrets/{name}/rotate", access: .role(.deploy, .path("env")),
        summary: "Give a secret a new version: a new random value of its kind, or the value sent for one that was set.",
        bodyLimit: 512 << 10)
    public static let deleteSecret = Endpoint<NoBody, NoContent>(
        .delete, "/v1/environments/{env}/secrets/{name}", access: .role(.deploy, .path("env")),
        summary: "Delete a secret no instance's desired state uses (409 naming them otherwise).")
    public static let revealSecret = Endpoint<NoBody, SecretValueView>(
        .get, "/v1/environments/{env}/secrets/{name}/value", access: .role(.approve, .path("env")),
        summary: "A secret's value, for an approver, only from a server started with --reveal-secrets (audited).")

    // MARK: Events, audit, locks

    public static let events = Endpoint<NoBody, EventStream>(
        .get, "/v1/events", access: .signedIn,
        summary: "Server-sent events as they happen; `Last-Event-ID` or `after` replays the ones missed.",
        query: [environment, QueryParameter("after", .integer, "replay events after this sequence number")])
    public static let audit = Endpoint<NoBody, [AuditEntryView]>(
        .get, "/v1/audit", access: .role(.administer, .everyEnvironment),
        summary: "The newest audit entries, oldest first.",
        query: [environment, QueryParameter("limit", .integer, "how many (1 to 10000, default 100)")])
    public static let verifyAudit = Endpoint<NoBody, AuditVerificationView>(
        .get, "/v1/audit/verify", access: .role(.administer, .everyEnvironment),
        summary: "Walk the whole hash chain; every entry modified, deleted or moved is named.")
    public static let locks = Endpoint<NoBody, [LockView]>(
        .get, "/v1/locks", access: .signedIn, summary: "The locks (leases) the servers hold, with their expiry.")
    public static let breakLock = Endpoint<NoBody, NoContent>(
        .delete, "/v1/locks/{name}", access: .role(.administer, .everyEnvironment),
        summary: "Break a lock whoever holds it (audited); a live holder takes it again at its next renewal.")

    /// Every endpoint, in the order above.
    public static let all: [AnyEndpoint] = [
        health.erased, metrics.erased, openAPI.erased, authority.erased, signingKey.erased,
        join.erased, desiredState.erased, report.erased, renewCertificate.erased,
        artifact.erased, uploadArtifact.erased, createRelease.erased, releases.erased, release.erased,
        whoami.erased, createJoinToken.erased, joinTokens.erased, createUser.erased, users.erased, revokeUser.erased,
        approveUser.erased,
        nodes.erased, revokeNode.erased, registerPushNode.erased, removeNode.erased,
        status.erased, snapshot.erased, policy.erased, proposePolicy.erased, approvePolicy.erased,
        startRollout.erased, rollouts.erased, rollout.erased, pauseRollout.erased, resumeRollout.erased,
        cancelRollout.erased, rollback.erased, rollbackPreview.erased,
        requestPromotion.erased, promotions.erased, promotion.erased, approvePromotion.erased,
        rejectPromotion.erased, cancelPromotion.erased,
        secrets.erased, setSecret.erased, generateSecret.erased, rotateSecret.erased, deleteSecret.erased,
        revealSecret.erased,
        events.erased, audit.erased, verifyAudit.erased, locks.erased, breakLock.erased,
    ]
}
