// The calls a client makes, one builder per endpoint, so callers write `send(.rollout(id))` and no
// path appears outside this module.

extension APICall where Body == NoBody, Answer == HealthView {
    public static var health: Self { Endpoints.health.call() }
}

extension APICall where Body == NoBody, Answer == SigningKeyView {
    public static var signingKey: Self { Endpoints.signingKey.call() }
}

extension APICall where Body == JoinRequest, Answer == JoinResponse {
    public static func join(_ request: JoinRequest) -> Self { Endpoints.join.call(body: request) }
}

extension APICall where Body == NoBody, Answer == DesiredStateResponse? {
    /// The node's desired state once it is newer than `known`, waiting up to `wait` seconds.
    public static func desiredState(known: Int, wait: Int, orchestrators: String? = nil) -> Self {
        Endpoints.desiredState.call(
            query: [("known", String(known)), ("wait", String(wait))]
                + (orchestrators.map { [("orchestrators", $0)] } ?? []))
    }
}

extension APICall where Body == NodeReport, Answer == NoContent {
    public static func report(_ report: NodeReport) -> Self { Endpoints.report.call(body: report) }
}

extension APICall where Body == RenewalRequest, Answer == RenewalResponse {
    public static func renewCertificate(_ request: RenewalRequest) -> Self {
        Endpoints.renewCertificate.call(body: request)
    }
}

extension APICall where Body == ReleaseManifest, Answer == SignedReleaseManifest {
    public static func createRelease(_ manifest: ReleaseManifest) -> Self {
        Endpoints.createRelease.call(body: manifest)
    }
}

extension APICall where Body == NoBody, Answer == [SignedReleaseManifest] {
    public static var releases: Self { Endpoints.releases.call() }
}

extension APICall where Body == NoBody, Answer == SignedReleaseManifest {
    public static func release(_ id: String) -> Self { Endpoints.release.call(["id": id]) }
}

extension APICall where Body == NoBody, Answer == CallerView {
    public static var whoami: Self { Endpoints.whoami.call() }
}

extension APICall where Body == JoinTokenRequest, Answer == IssuedToken {
    public static func createJoinToken(_ request: JoinTokenRequest) -> Self {
        Endpoints.createJoinToken.call(body: request)
    }
}

extension APICall where Body == UserRequest, Answer == IssuedToken {
    public static func createUser(_ request: UserRequest) -> Self { Endpoints.createUser.call(body: request) }
}

extension APICall where Body == NoBody, Answer == [JoinTokenView] {
    public static var joinTokens: Self { Endpoints.joinTokens.call() }
}

extension APICall where Body == NoBody, Answer == [NodeCertificateView] {
    public static func nodes(environment: String? = nil) -> Self {
        Endpoints.nodes.call(query: environment.map { [("env", $0)] } ?? [])
    }
}

extension APICall where Body == NoBody, Answer == NodeCertificateView {
    public static func revokeNode(_ node: String, environment: String) -> Self {
        Endpoints.revokeNode.call(["env": environment, "node": node])
    }
}

extension APICall where Body == PushRegistration, Answer == NoContent {
    public static func registerPushNode(_ node: String, environment: String, _ registration: PushRegistration) -> Self {
        Endpoints.registerPushNode.call(["env": environment, "node": node], body: registration)
    }
}

extension APICall where Body == NoBody, Answer == [UserView] {
    public static var users: Self { Endpoints.users.call() }
}

extension APICall where Body == NoBody, Answer == UserView {
    public static func approveUser(_ name: String) -> Self { Endpoints.approveUser.call(["name": name]) }
}

extension APICall where Body == NoBody, Answer == NoContent {
    public static func revokeUser(_ name: String) -> Self { Endpoints.revokeUser.call(["name": name]) }
    public static func breakLock(_ name: String) -> Self { Endpoints.breakLock.call(["name": name]) }
    public static func removeNode(_ node: String, environment: String, force: Bool) -> Self {
        Endpoints.removeNode.call(["env": environment, "node": node], query: force ? [("force", "true")] : [])
    }

    public static func deleteSecret(_ name: String, environment: String) -> Self {
        Endpoints.deleteSecret.call(["env": environment, "name": name])
    }
}

extension APICall where Body == NoBody, Answer == StatusDocument {
    public static func status(environment: String? = nil) -> Self {
        Endpoints.status.call(query: environment.map { [("env", $0)] } ?? [])
    }
}

extension APICall where Body == NoBody, Answer == StateSnapshot {
    public static func snapshot(_ environment: String) -> Self { Endpoints.snapshot.call(["env": environment]) }
}

extension APICall where Body == NoBody, Answer == PolicyView {
    public static func policy(_ environment: String) -> Self { Endpoints.policy.call(["env": environment]) }
}

extension APICall where Body == EnvironmentPolicy, Answer == PolicyView {
    public static func proposePolicy(_ policy: EnvironmentPolicy, environment: String) -> Self {
        Endpoints.proposePolicy.call(["env": environment], body: policy)
    }
}

extension APICall where Body == PolicyApproval, Answer == PolicyView {
    public static func approvePolicy(digest: String, environment: String) -> Self {
        Endpoints.approvePolicy.call(["env": environment], body: PolicyApproval(digest: digest))
    }
}

extension APICall where Body == ApplyRequest, Answer == RolloutView {
    /// Sends only what changes (``Plan/changesOnly``): the server looks at nothing else.
    public static func startRollout(_ plan: Plan) -> Self {
        Endpoints.startRollout.call(body: ApplyRequest(plan: plan.changesOnly))
    }
}

extension APICall where Body == NoBody, Answer == [RolloutView] {
    public static func rollouts(environment: String? = nil) -> Self {
        Endpoints.rollouts.call(query: environment.map { [("env", $0)] } ?? [])
    }
}

extension APICall where Body == NoBody, Answer == RolloutView {
    public static func rollout(_ id: String) -> Self { Endpoints.rollout.call(["id": id]) }
    public static func pauseRollout(_ id: String) -> Self { Endpoints.pauseRollout.call(["id": id]) }
    public static func resumeRollout(_ id: String) -> Self { Endpoints.resumeRollout.call(["id": id]) }
    public static func cancelRollout(_ id: String) -> Self { Endpoints.cancelRollout.call(["id": id]) }
    public static func rollback(_ environment: String) -> Self { Endpoints.rollback.call(["env": environment]) }
}

extension APICall where Body == NoBody, Answer == RollbackPreview {
    public static func rollbackPreview(_ environment: String) -> Self {
        Endpoints.rollbackPreview.call(["env": environment])
    }
}

extension APICall where Body == PromotionRequest, Answer == PromotionView {
    public static func requestPromotion(_ request: PromotionRequest) -> Self {
        Endpoints.requestPromotion.call(body: request)
    }
}

extension APICall where Body == NoBody, Answer == [PromotionView] {
    public static func promotions(environment: String? = nil) -> Self {
        Endpoints.promotions.call(query: environment.map { [("env", $0)] } ?? [])
    }
}

extension APICall where Body == NoBody, Answer == PromotionView {
    public static func promotion(_ id: String) -> Self { Endpoints.promotion.call(["id": id]) }
    public static func cancelPromotion(_ id: String) -> Self { Endpoints.cancelPromotion.call(["id": id]) }
}

extension APICall where Body == DecisionRequest, Answer == PromotionView {
    public static func approvePromotion(_ id: String, reason: String) -> Self {
        Endpoints.approvePromotion.call(["id": id], body: DecisionRequest(reason: reason))
    }
    public static func rejectPromotion(_ id: String, reason: String) -> Self {
        Endpoints.rejectPromotion.call(["id": id], body: DecisionRequest(reason: reason))
    }
}

extension APICall where Body == NoBody, Answer == [AuditEntryView] {
    public static func audit(limit: Int, environment: String? = nil) -> Self {
        Endpoints.audit.call(query: [("limit", String(limit))] + (environment.map { [("env", $0)] } ?? []))
    }
}

extension APICall where Body == NoBody, Answer == AuditVerificationView {
    public static var verifyAudit: Self { Endpoints.verifyAudit.call() }
}

extension APICall where Body == NoBody, Answer == [LockView] {
    public static var locks: Self { Endpoints.locks.call() }
}

extension APICall where Body == NoBody, Answer == [SecretView] {
    public static func secrets(_ environment: String) -> Self { Endpoints.secrets.call(["env": environment]) }
}

extension APICall where Body == SecretValueRequest, Answer == SecretView {
    public static func setSecret(_ name: String, environment: String, _ request: SecretValueRequest) -> Self {
        Endpoints.setSecret.call(["env": environment, "name": name], body: request)
    }
}

extension APICall where Body == SecretGenerateRequest, Answer == SecretView {
    public static func generateSecret(_ name: String, environment: String, _ request: SecretGenerateRequest) -> Self {
        Endpoints.generateSecret.call(["env": environment, "name": name], body: request)
    }
}

extension APICall where Body == SecretRotation, Answer == SecretView {
    public static func rotateSecret(_ name: String, environment: String, value: String? = nil) -> Self {
        Endpoints.rotateSecret.call(["env": environment, "name": name], body: SecretRotation(value: value))
    }
}

extension APICall where Body == NoBody, Answer == SecretValueView {
    public static func revealSecret(_ name: String, environment: String) -> Self {
        Endpoints.revealSecret.call(["env": environment, "name": name])
    }
}
