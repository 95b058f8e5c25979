import Foundation
import Hummingbird
import StellwerkAPI
import Store

/// The operator console at `/console`: HTML pages over the same engines as the API, for whoever
/// would rather look than read command output. An operator signs in with their API token, which
/// becomes a session cookie (HttpOnly, Secure, SameSite=Strict); every form carries the session's
/// CSRF token; what an operator may see and decide is what their roles allow in the API. The API
/// itself never takes the cookie, so no page of another site can call it with the operator's rights.
struct ConsoleController: Sendable {
    let store: StateStore
    let sessions: ConsoleSessions
    let status: StatusReport
    let rollouts: Rollouts
    let promotions: PromotionEngine
    let releases: ReleaseRegistry
    let secrets: SecretVault
    let nodes: AccessDirectory
    let policies: EnvironmentPolicies

    static let sessionCookie = "stellwerk_session"
    static let signInCookie = "stellwerk_signin"
    static let languageCookie = "stellwerk_lang"

    /// A signed-in request: who, their session, the language of the page.
    struct Visit {
        var user: Operator
        var sessionID: String
        var session: ConsoleSessions.Session
        var language: ConsoleLanguage
        /// The language cookie to set, when the request chose one.
        var chosen: ConsoleLanguage?
    }

    func register(on router: Router<ServerContext>) {
        router.get("/console/console.css") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: ConsoleHTML.stylesheet)))
        }
        router.get("/console/icon.svg") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "public, max-age=86400"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: ConsoleHTML.icon)))
        }
        router.get("/console/sign-in") { request, _ in signInPage(request) }
        router.post("/console/sign-in") { request, context in await signIn(request, context) }
        router.post("/console/sign-out") { request, context in
            await form(request, context) { visit, _ in
                sessions.close(visit.sessionID)
                var response = redirect("/console/sign-in")
                response.setCookie(Self.cookie(Self.sessionCookie, "", maxAge: 0))
                return response
            }
        }
        router.get("/console") { request, _ in await page(request, path: "/console") { try await overview($0) } }
        router.get("/console/sites/:env/:site") { request, context in
            await page(request, path: request.uri.path) { visit in
                try await site(
                    visit, environment: context.parameters.get("env") ?? "", name: context.parameters.get("site") ?? "")
            }
        }
        router.get("/console/nodes/:env/:node") { request, context in
            await page(request, path: request.uri.path) { visit in
                try await node(
                    visit, environment: context.parameters.get("env") ?? "", name: context.parameters.get("node") ?? "")
            }
        }
        router.get("/console/promotions") { request, _ in
            await page(request, path: "/console/promotions") { try await promotionList($0) }
        }
        router.get("/console/promotions/:id") { request, context in
            await page(request, path: request.uri.path) { visit in
                try await promotion(visit, id: context.parameters.get("id") ?? "", outcome: nil)
            }
        }
        router.post("/console/promotions/:id/decision") { request, context in
            await form(request, context) { visit, fields in
                try await decide(visit, id: context.parameters.get("id") ?? "", fields: fields)
            }
        }
        router.get("/console/rollouts") { request, _ in
            await page(request, path: "/console/rollouts") { try await rolloutList($0) }
        }
        router.get("/console/rollouts/:id") { request, context in
            await page(request, path: request.uri.path) {
                try await rollout($0, id: context.parameters.get("id") ?? "")
            }
        }
        router.get("/console/releases") { request, _ in
            await page(request, path: "/console/releases") { try await releaseList($0) }
        }
        router.get("/console/audit") { request, _ in
            await page(request, path: "/console/audit") { try await audit($0, query: request.uri.queryParameters) }
        }
        router.get("/console/secrets") { request, _ in
            await page(request, path: "/console/secrets") { try await secretList($0) }
        }
    }

    // MARK: Sessions and forms

    static func cookie(_ name: String, _ value: String, maxAge: Int?) -> Cookie {
        Cookie(
            name: name, value: value, maxAge: maxAge, path: "/console", secure: true, httpOnly: true,
            sameSite: .strict)
    }

    /// The language a request asks for (`?lang=`), else its cookie's, else German.
    static func language(of request: Request) -> (ConsoleLanguage, chosen: ConsoleLanguage?) {
        if let asked = request.uri.queryParameters["lang"].flatMap({ ConsoleLanguage(rawValue: String($0)) }) {
            return (asked, asked)
        }
        return (request.cookies[languageCookie].flatMap { ConsoleLanguage(rawValue: $0.value) } ?? .de, nil)
    }

    /// The signed-in operator of `request`, or nil: no session, an expired one, or one whose token was
    /// revoked since (then the session ends too).
    func visit(_ request: Request) async throws -> Visit? {
        let (language, chosen) = Self.language(of: request)
        guard let id = request.cookies[Self.sessionCookie]?.value, let session = sessions.session(id) else {
            return nil
        }
        guard let record = try await store.activeOperator(tokenHash: session.tokenHash), !record.awaitingApproval
        else {
            sessions.close(id)
            return nil
        }
        return Visit(
            user: Operator(name: record.name, roles: record.roles), sessionID: id, session: session,
            language: language, chosen: chosen)
    }

    /// A page for a signed-in operator; anyone else is sent to sign in. An error is a page saying what.
    func page(
        _ request: Request, path: String, _ render: (Visit) async throws -> (title: String, body: String)
    ) async -> Response {
        do {
            guard let visit = try await visit(request) else { return redirect("/console/sign-in") }
            let (title, body) = try await render(visit)
            return html(
                ConsoleHTML.page(
                    title: title, language: visit.language, signedIn: (visit.user.name, visit.session.csrf),
                    path: path, body: body), language: visit.chosen)
        } catch {
            return failure(error, request: request)
        }
    }

    /// A form of a signed-in operator, checked against the session's CSRF token before anything happens.
    func form(
        _ request: Request, _ context: ServerContext,
        _ handle: (Visit, [String: String]) async throws -> Response
    ) async -> Response {
        do {
            guard let visit = try await visit(request) else { return redirect("/console/sign-in") }
            let fields = try await Self.fields(of: request)
            guard let csrf = fields["csrf"], Self.same(csrf, visit.session.csrf) else {
                let t = visit.language.text
                return html(
                    ConsoleHTML.page(
                        title: t("Formular abgelaufen", "Form expired"), language: visit.language,
                        signedIn: (visit.user.name, visit.session.csrf), path: "/console",
                        body: "<p class=\"notice\" role=\"alert\">"
                            + t(
                                "Das Formular gehört nicht zu Ihrer Anmeldung (CSRF-Prüfung). Nichts wurde geändert; laden Sie die Seite neu.",
                                "The form does not belong to your session (CSRF check). Nothing was changed; reload the page."
                            )
                            + "</p>"), status: .forbidden)
            }
            return try await handle(visit, fields)
        } catch {
            return failure(error, request: request)
        }
    }

    /// The fields of a form (`application/x-www-form-urlencoded`), at most 16 KiB.
    static func fields(of request: Request) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: 16_384)
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ text: Substring) -> String {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            guard let key = parts.first else { continue }
            fields[decoded(key)] = parts.count > 1 ? decoded(parts[1]) : ""
        }
        return fields
    }

    /// Compares two secrets in time that does not depend on where they differ.
    static func same(_ left: String, _ right: String) -> Bool {
        let (a, b) = (Array(left.utf8), Array(right.utf8))
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// An HTML answer with the console's headers: no script, no framing, nothing from elsewhere.
    func html(_ text: String, status: HTTPResponse.Status = .ok, language: ConsoleLanguage? = nil) -> Response {
        var response = Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy:
                    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                .init("X-Content-Type-Options")!: "nosniff", .init("Referrer-Policy")!: "no-referrer",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        if let language { response.setCookie(Self.cookie(Self.languageCookie, language.rawValue, maxAge: 31_536_000)) }
        return response
    }

    /// What went wrong, as a page: the API's refusal with its status, or a server error.
    func failure(_ error: any Error, request: Request) -> Response {
        let (language, _) = Self.language(of: request)
        let t = language.text
        let (status, message): (HTTPResponse.Status, String) =
            if let error = error as? APIError { (error.status, error.message) } else {
                (
                    .internalServerError,
                    t(
                        "Ein Fehler im Server; das Protokoll des Servers sagt mehr.",
                        "A server error; the server's log says more.")
                )
            }
        return html(
            ConsoleHTML.page(
                title: t("Nicht möglich", "Not possible"), language: language, signedIn: nil, path: "/console",
                body: "<p class=\"notice\" role=\"alert\">\(ConsoleHTML.escape(message))</p><p><a href=\"/console\">"
                    + t("Zur Übersicht", "To the overview") + "</a></p>"), status: status)
    }

    // MARK: Sign-in

    func signInPage(_ request: Request, problem: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let (language, chosen) = Self.language(of: request)
        let t = language.text
        let nonce = Tokens.random(bytes: 24)
        var body = ""
        if let problem { body += "<p class=\"notice\" role=\"alert\">\(ConsoleHTML.escape(problem))</p>\n" }
        body += """
            <p>\(t("Melden Sie sich mit Ihrem API-Token an (von `stellwerk user create`). Die Anmeldung gilt in diesem Browser, bis Sie sich abmelden, sie abläuft oder der Token widerrufen wird.", "Sign in with your API token (from `stellwerk user create`). The sign-in holds in this browser until you sign out, it expires, or the token is revoked."))</p>
            <form method="post" action="/console/sign-in">
            <input type="hidden" name="csrf" value="\(nonce)">
            <label for="token">\(t("API-Token", "API token"))</label>
            <input type="password" id="token" name="token" autocomplete="off" required>
            <button type="submit">\(t("Anmelden", "Sign in"))</button>
            </form>
            """
        var response = html(
            ConsoleHTML.page(
                title: t("Anmelden", "Sign in"), language: language, signedIn: nil, path: "/console/sign-in",
                body: body), status: status, language: chosen)
        // The form's nonce is also a cookie: a sign-in form from another site cannot know it.
        response.setCookie(Self.cookie(Self.signInCookie, nonce, maxAge: 3600))
        return response
    }

    func signIn(_ request: Request, _ context: ServerContext) async -> Response {
        let t = Self.language(of: request).0.text
        do {
            let fields = try await Self.fields(of: request)
            guard let nonce = request.cookies[Self.signInCookie]?.value, let sent = fields["csrf"],
                Self.same(nonce, sent)
            else {
                return signInPage(
                    request,
                    problem: t(
                        "Das Anmeldeformular ist abgelaufen oder kam nicht von hier; bitte noch einmal.",
                        "The sign-in form expired or did not come from here; please try again."), status: .forbidden)
            }
            let token = (fields["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty, token.utf8.count <= 512,
                let record = try await store.activeOperator(tokenHash: Tokens.hash(token))
            else {
                return signInPage(
                    request,
                    problem: t("Der Token ist unbekannt oder widerrufen.", "The token is not known or was revoked."),
                    status: .unauthorized)
            }
            guard !record.awaitingApproval else {
                return signInPage(
                    request,
                    problem: t(
                        "Die Rollen von \(record.name) warten auf die Bestätigung eines zweiten Admins.",
                        "The roles of \(record.name) wait for a second admin's approval."), status: .unauthorized)
            }
            let (id, _) = sessions.open(tokenHash: Tokens.hash(token))
            var response = redirect("/console")
            response.setCookie(Self.cookie(Self.sessionCookie, id, maxAge: Int(sessions.lifetime)))
            response.setCookie(Self.cookie(Self.signInCookie, "", maxAge: 0))
            return response
        } catch {
            return failure(error, request: request)
        }
    }

    // MARK: Decisions

    func decide(_ visit: Visit, id: String, fields: [String: String]) async throws -> Response {
        let view = try await promotions.view(id: id)
        guard visit.user.may(.read, in: view.target) else { throw APIError.notFound("there is no promotion \(id)") }
        try visit.user.require(.approve, in: view.target)
        let decision: Decision
        switch fields["decision"] {
        case "approve": decision = .approve
        case "reject": decision = .reject
        default: throw APIError.badRequest("decision must be approve or reject")
        }
        let reason = String((fields["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(2000))
        let t = visit.language.text
        let outcome: (ok: Bool, text: String)
        var status = HTTPResponse.Status.ok
        do {
            _ = try await promotions.decide(view.id, decision, reason: reason, approver: visit.user.name)
            outcome = (
                true,
                decision == .approve
                    ? t("Ihre Freigabe ist vermerkt.", "Your approval is recorded.")
                    : t("Ihre Ablehnung ist vermerkt.", "Your rejection is recorded.")
            )
        } catch let error as APIError {
            outcome = (false, error.message)
            status = error.status
        }
        let (title, body) = try await promotion(visit, id: view.id, outcome: outcome)
        return html(
            ConsoleHTML.page(
                title: title, language: visit.language, signedIn: (visit.user.name, visit.session.csrf),
                path: "/console/promotions/\(view.id)", body: body), status: status)
    }
}
