import Foundation
import Markup

/// Pieces of the console's pages: escaping, the frame every page shares, tables. Rendered on the
/// server, no script; every page works with a keyboard and a screen reader.
enum ConsoleHTML {
    static func escape(_ text: String) -> String { MarkupText.escape(text) }

    /// A value for a query string.
    static func query(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? ""
    }

    /// The frame of a page: head, the navigation (signed in), the heading, `body`.
    static func page(
        title: String, language: ConsoleLanguage, signedIn: (name: String, csrf: String)?, path: String,
        body: String
    ) -> String {
        let t = language.text
        var html = """
            <!DOCTYPE html>
            <html lang="\(language.rawValue)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) – Stellwerk</title>
            <link rel="stylesheet" href="/console/console.css">
            <link rel="icon" href="/console/icon.svg" type="image/svg+xml">
            </head>
            <body>
            <a class="skip" href="#main">\(t("Zum Inhalt", "Skip to content"))</a>
            <header>
            <p class="brand">Stellwerk</p>

            """
        if let signedIn {
            let links = [
                ("/console", t("Übersicht", "Overview")), ("/console/promotions", t("Promotionen", "Promotions")),
                ("/console/rollouts", "Rollouts"), ("/console/releases", "Releases"),
                ("/console/audit", t("Prüfprotokoll", "Audit log")), ("/console/secrets", t("Geheimnisse", "Secrets")),
            ]
            html += "<nav aria-label=\"\(t("Bereiche", "Sections"))\"><ul>"
            for (href, label) in links {
                let current = href == path ? " aria-current=\"page\"" : ""
                html += "<li><a href=\"\(href)\"\(current)>\(escape(label))</a></li>"
            }
            html += "</ul></nav>\n"
            html += """
                <form class="signout" method="post" action="/console/sign-out">
                <input type="hidden" name="csrf" value="\(escape(signedIn.csrf))">
                <span>\(escape(signedIn.name))</span> <button type="submit">\(t("Abmelden", "Sign out"))</button>
                </form>

                """
        }
        let other: ConsoleLanguage = language == .de ? .en : .de
        html += """
            <p class="language"><a href="\(escape(path))?lang=\(other.rawValue)" lang="\(other.rawValue)" hreflang="\(other.rawValue)">\(other == .en ? "English" : "Deutsch")</a></p>
            </header>
            <main id="main">
            <h1>\(escape(title))</h1>
            \(body)
            </main>
            </body>
            </html>

            """
        return html
    }

    /// A table with a caption, head cells and rows of cells given as HTML.
    static func table(caption: String, head: [String], rows: [[String]], empty: String) -> String {
        var html = "<div class=\"table\"><table>\n<caption>\(escape(caption))</caption>\n<thead><tr>"
        for cell in head { html += "<th scope=\"col\">\(escape(cell))</th>" }
        html += "</tr></thead>\n<tbody>\n"
        for row in rows { html += "<tr>" + row.map { "<td>\($0)</td>" }.joined() + "</tr>\n" }
        if rows.isEmpty { html += "<tr><td colspan=\"\(head.count)\">\(escape(empty))</td></tr>\n" }
        return html + "</tbody>\n</table></div>\n"
    }

    /// A time as people read it: `2026-12-07 08:15 UTC`.
    static func time(_ date: Date?) -> String {
        guard let date else { return "–" }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d UTC", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
            parts.hour ?? 0, parts.minute ?? 0)
    }

    /// A state as a word with a sign that does not depend on colour.
    static func state(_ ok: Bool, _ text: String) -> String {
        "<span class=\"\(ok ? "ok" : "bad")\">\(ok ? "✔" : "✘") \(escape(text))</span>"
    }

    /// The console's icon: a signal on its mast, as a signal box sets them.
    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b4f8a"/><rect x="14" y="12" width="4" height="16" fill="#fff"/><circle cx="16" cy="9" r="5" fill="#f2b600"/></svg>
        """

    static let stylesheet = """
        :root { color-scheme: light; --text: #1b1f24; --muted: #4a535c; --link: #0b4f8a; --bad: #9b1c1c; --ok: #1d5e2b; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--text); background: #fff; }
        .skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px; }
        header { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: center; padding: 8px 16px; border-bottom: 1px solid #c8ced6; }
        .brand { font-weight: 700; margin: 0; }
        nav ul { display: flex; flex-wrap: wrap; gap: 4px 16px; list-style: none; margin: 0; padding: 0; }
        a { color: var(--link); } a:focus, button:focus, input:focus, select:focus { outline: 3px solid #f2b600; outline-offset: 2px; }
        a[aria-current] { font-weight: 700; }
        .signout, .language { margin: 0; }
        main { padding: 16px; max-width: 1200px; }
        h1 { font-size: 1.6rem; margin: 0 0 12px; }
        h2 { font-size: 1.25rem; margin: 24px 0 8px; }
        .table { overflow-x: auto; max-width: 100%; }
        table { border-collapse: collapse; margin: 8px 0; }
        caption { text-align: left; font-weight: 600; padding: 4px 0; }
        th, td { border: 1px solid #c8ced6; padding: 4px 8px; text-align: left; vertical-align: top; }
        .ok { color: var(--ok); } .bad { color: var(--bad); font-weight: 600; }
        .muted { color: var(--muted); }
        .notice { border-left: 4px solid var(--bad); padding: 8px 12px; background: #fdf2f2; }
        .done { border-left: 4px solid var(--ok); padding: 8px 12px; background: #eef7f0; }
        label { display: block; font-weight: 600; margin: 8px 0 4px; }
        input[type=text], input[type=password], select { font: inherit; padding: 6px; width: min(100%, 32rem); }
        button { font: inherit; padding: 6px 14px; margin: 8px 8px 0 0; }
        ins { background: #e6f4ea; text-decoration: none; } del { background: #fbe9e9; }
        """
}
