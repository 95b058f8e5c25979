/// The site's dashboards: `/dashboards` lists them, `/dashboards/ID` shows one with every panel,
/// `/dashboards/ID/panel/PANEL.svg` and `.csv` give one panel alone.
extension VisualizationServer {
    /// What a dashboard request may ask: a language, a preset for every panel, and for a panel
    /// alone its size.
    struct DashboardQuery {
        var language: ChartLanguage
        var range: String?
        var frame: ChartFrame

        init(_ query: [(String, String)]) throws(ChartRequest.Refusal) {
            language = try ChartRequest.language(in: query)
            range = try ChartRequest.preset(in: query)
            frame = try ChartRequest.frame(in: query)
        }
    }

    private var renderer: PanelRenderer {
        PanelRenderer(
            sources: sources, outline: configuration.outline, theme: ChartTheme.named(configuration.theme),
            prefix: configuration.pathPrefix)
    }

    func dashboardList(query: [(String, String)], now: Int64) -> Rendered {
        let language: ChartLanguage
        do {
            language = try DashboardQuery(query).language
        } catch {
            return badRequest(error, format: .html, now: now)
        }
        return rendered(
            DashboardPage.list(
                configuration.dashboards.dashboards, language: language, prefix: configuration.pathPrefix), .html,
            now: now)
    }

    func dashboard(_ id: String, query: [(String, String)], now: Int64) async -> Rendered {
        let request: DashboardQuery
        do {
            request = try DashboardQuery(query)
        } catch {
            return badRequest(error, format: .html, now: now)
        }
        guard let dashboard = configuration.dashboards.dashboard(id) else {
            return notFound(dashboard: id, panel: nil, format: .html, language: request.language, now: now)
        }
        var panels: [(panel: Panel, rendered: RenderedPanel)] = []
        var complete = true
        for (index, panel) in dashboard.panels.enumerated() {
            let drawn = await draw(panel, range: request.range, language: request.language, now: now, id: "p\(index)")
            switch drawn {
            case .success(let rendered): panels.append((panel, rendered))
            case .failure(let placeholder):
                complete = false
                panels.append(
                    (
                        panel,
                        RenderedPanel(
                            svg: placeholder.svg, csv: "", table: "<p>\(SVGText.escape(placeholder.message))</p>\n")
                    ))
            }
        }
        var datasets: [String: DatasetTitles.Answer] = [:]
        for name in Set(dashboard.panels.compactMap(\.dataset)) {
            if let answer = await datasetTitles.title(of: name, now: now) { datasets[name] = answer }
        }
        if datasets.values.contains(.unavailable) { complete = false }
        let page = DashboardPage(
            dashboard: dashboard, panels: panels, range: request.range, language: request.language,
            portalURL: configuration.portalURL, datasets: datasets, prefix: configuration.pathPrefix)
        // A page with a placeholder is kept briefly: the source may be back in a moment.
        return rendered(page.html(), .html, now: now, cacheSeconds: complete ? configuration.cacheSeconds : 5)
    }

    func panel(_ file: String, of id: String, query: [(String, String)], now: Int64) async -> Rendered {
        let format: ChartRequest.Format = file.hasSuffix(".csv") ? .csv : .svg
        let request: DashboardQuery
        do {
            request = try DashboardQuery(query)
        } catch {
            return badRequest(error, format: format, now: now)
        }
        guard file.hasSuffix(".svg") || file.hasSuffix(".csv") else {
            return badRequest(
                ChartRequest.Refusal(message: "a panel is PANEL.svg or PANEL.csv"), format: .svg, now: now)
        }
        let name = String(file.dropLast(4))
        guard let dashboard = configuration.dashboards.dashboard(id), let panel = dashboard.panel(name) else {
            let known = configuration.dashboards.dashboard(id) != nil
            return notFound(
                dashboard: id, panel: known ? name : nil, format: format, language: request.language, now: now)
        }
        switch await draw(panel, range: request.range, language: request.language, now: now, id: "panel") {
        case .success(let drawn):
            let svg = request.frame == .narrow ? drawn.narrowSVG ?? drawn.svg : drawn.svg
            return format == .svg ? rendered(svg, .svg, now: now) : rendered(drawn.csv, .csv, now: now)
        case .failure(let placeholder):
            return self.placeholder(
                status: placeholder.status, format: format, title: placeholder.title, message: placeholder.message,
                theme: ChartTheme.named(configuration.theme), now: now, cacheSeconds: placeholder.status == 503 ? 5 : 0)
        }
    }

    /// Why a panel could not be drawn, and what stands in its place.
    struct PanelPlaceholder: Error {
        var status: Int
        var title: String
        var message: String
        var svg: String
    }

    private func draw(
        _ panel: Panel, range: String?, language: ChartLanguage, now: Int64, id: String
    ) async -> Result<RenderedPanel, PanelPlaceholder> {
        let words = PlaceholderWords(language: language)
        let theme = ChartTheme.named(configuration.theme)
        do throws(SensorSource.Failure) {
            return .success(try await renderer.render(panel, range: range, language: language, now: now, id: id))
        } catch {
            let (status, title, message): (Int, String, String)
            switch error {
            case .notFound:
                (status, title, message) = (
                    404, words.notFoundTitle, panel.datastream.map { words.notFound($0) } ?? words.notFoundTitle
                )
            case .ambiguous(let name):
                (status, title, message) = (422, words.ambiguousTitle, words.ambiguous(name))
            case .tooMany(let count):
                (status, title, message) = (422, words.tooManyTitle, words.tooMany(count))
            case .unavailable(let reason):
                logger.warning("visualization: panel \(panel.id) has no data: \(reason)")
                (status, title, message) = (503, words.unavailableTitle, words.unavailable)
            }
            let svg = Placeholder.svg(title: title, message: message, theme: theme, id: id)
            return .failure(PanelPlaceholder(status: status, title: title, message: message, svg: svg))
        }
    }

    private func rendered(
        _ body: String, _ format: ChartRequest.Format, now: Int64, cacheSeconds: Int64? = nil
    )
        -> Rendered
    {
        let type =
            switch format {
            case .svg: "image/svg+xml; charset=utf-8"
            case .csv: "text/csv; charset=utf-8"
            case .html: "text/html; charset=utf-8"
            }
        let seconds = cacheSeconds ?? configuration.cacheSeconds
        return Rendered(
            status: 200, contentType: type, body: body, etag: Self.etag(body), expires: now + seconds * 1000,
            maxAge: seconds)
    }

    private func badRequest(_ error: ChartRequest.Refusal, format: ChartRequest.Format, now: Int64) -> Rendered {
        placeholder(
            status: 400, format: format, title: "Ungültige Anfrage / Bad request", message: error.message,
            theme: ChartTheme.named(configuration.theme), now: now, cacheSeconds: 0)
    }

    private func notFound(
        dashboard: String, panel: String?, format: ChartRequest.Format, language: ChartLanguage, now: Int64
    ) -> Rendered {
        let german = language == .de
        let shown = String(dashboard.prefix(60))
        let message =
            panel.map { panel in
                let name = String(panel.prefix(60))
                return german
                    ? "Das Dashboard \(shown) hat kein Feld \(name)." : "The dashboard \(shown) has no panel \(name)."
            } ?? (german ? "Ein Dashboard \(shown) gibt es hier nicht." : "There is no dashboard \(shown) here.")
        return placeholder(
            status: 404, format: format, title: german ? "Nicht gefunden" : "Not found", message: message,
            theme: ChartTheme.named(configuration.theme), now: now, cacheSeconds: 0)
    }
}
