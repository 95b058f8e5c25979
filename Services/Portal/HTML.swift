import ServiceSupport

/// Escapes text for HTML content and attribute values.
func escape(_ text: String) -> String { MarkupText.escape(text) }

/// A dataset description (CKAN's Markdown) as safe HTML: paragraphs, line breaks and *emphasis*;
/// everything else is shown as text.
func markdown(_ text: String) -> String {
    text.components(separatedBy: "\n\n").map { paragraph -> String in
        var html = escape(paragraph.trimmingCharacters(in: .whitespacesAndNewlines))
        while let open = html.range(of: "*"), let close = html.range(of: "*", range: open.upperBound..<html.endIndex),
            open.upperBound < close.lowerBound
        {
            let inner = html[open.upperBound..<close.lowerBound]
            html.replaceSubrange(open.lowerBound..<close.upperBound, with: "<em>\(inner)</em>")
        }
        return "<p>\(html.replacingOccurrences(of: "\n", with: "<br>"))</p>"
    }.filter { $0 != "<p></p>" }.joined(separator: "\n")
}

/// Percent-encodes a query or path value.
func urlEncode(_ text: String) -> String {
    var allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".unicodeScalars)
    allowed.remove("+")
    var out = ""
    for byte in text.utf8 {
        let scalar = Unicode.Scalar(byte)
        if byte < 128, allowed.contains(scalar) {
            out.unicodeScalars.append(scalar)
        } else {
            out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
        }
    }
    return out
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

/// The portal's only stylesheet, served from its own origin: system fonts, contrast above 4.5:1,
/// visible focus, no external requests; in the site's colour (`accent`, from ``PortalLook/palette``).
func portalStylesheet(accent: String) -> String {
    """
    :root { --ink: #1a1a1a; --muted: #4a4a4a; --accent: \(accent); --line: #d0d7de; --soft: #f4f6f8; }
    * { box-sizing: border-box; }
    body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
      background: #fff; line-height: 1.5; font-size: 1rem; }
    a { color: var(--accent); }
    a:focus, button:focus, input:focus, select:focus { outline: 3px solid #f5a623; outline-offset: 2px; }
    .skip { position: absolute; left: -10000px; top: 0; background: #fff; padding: .5rem 1rem; }
    .skip:focus { left: 1rem; }
    header { background: var(--accent); color: #fff; }
    header .bar { max-width: 72rem; margin: 0 auto; padding: .75rem 1rem; display: flex; flex-wrap: wrap;
      align-items: center; justify-content: space-between; gap: .5rem 1.5rem; }
    header a { color: #fff; }
    .brand { font-size: 1.25rem; font-weight: 700; text-decoration: none; display: inline-flex; align-items: center;
      gap: .5rem; }
    .brand img { height: 40px; width: auto; max-width: 10rem; background: #fff; border-radius: 4px; padding: 2px; }
    nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; }
    main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
    footer { border-top: 1px solid var(--line); color: var(--muted); }
    footer .bar { max-width: 72rem; margin: 0 auto; padding: 1rem; display: flex; flex-wrap: wrap; gap: 1rem; }
    form.search { display: flex; gap: .5rem; margin: 1rem 0; flex-wrap: wrap; }
    form.search input[type=search] { flex: 1 1 20rem; padding: .6rem; font-size: 1rem; border: 1px solid var(--muted);
      border-radius: 4px; }
    button { padding: .6rem 1.2rem; font-size: 1rem; background: var(--accent); color: #fff; border: 0; border-radius: 4px;
      cursor: pointer; }
    select { padding: .4rem; font-size: 1rem; }
    .layout { display: grid; grid-template-columns: 16rem 1fr; gap: 2rem; }
    @media (max-width: 48rem) { .layout { grid-template-columns: 1fr; } }
    .facet h3 { font-size: 1rem; margin: 1rem 0 .25rem; }
    .facet ul, .plain { list-style: none; padding: 0; margin: 0; }
    .results > li { border-bottom: 1px solid var(--line); padding: .75rem 0; }
    .results h3 { margin: 0 0 .25rem; font-size: 1.125rem; }
    .meta { color: var(--muted); font-size: .9rem; }
    .preview { overflow-x: auto; max-width: 100%; margin: .5rem 0; }
    .preview table { border-collapse: collapse; font-size: .9rem; }
    .preview caption { text-align: left; padding: .25rem 0; }
    .preview th, .preview td { border: 1px solid #767676; padding: .25rem .5rem; text-align: left; vertical-align: top; }
    .badge { display: inline-block; border: 1px solid var(--accent); color: var(--accent); border-radius: 3px;
      padding: 0 .4rem; font-size: .8rem; font-weight: 600; margin-right: .25rem; }
    .tags a { display: inline-block; background: var(--soft); border-radius: 3px; padding: .1rem .5rem; margin: .1rem;
      text-decoration: none; }
    .pages { display: flex; gap: 1rem; align-items: center; margin: 1rem 0; }
    dl.info { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
    dl.info dt { font-weight: 600; }
    .notice { background: var(--soft); border-left: 4px solid var(--accent); padding: 1rem; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
    img.chart { max-width: 100%; height: auto; border: 1px solid #d5dade; }
    figure { margin: 0; }
    """
}

/// The portal's icon: a simple mark of its own, so browsers need not ask anywhere else.
let portalIcon = """
    <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b4f8a"/>\
    <path d="M8 22V10h5a4 4 0 0 1 0 8h-5M18 22l6-12" stroke="#fff" stroke-width="3" fill="none"/></svg>
    """
