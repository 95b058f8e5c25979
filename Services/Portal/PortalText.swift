/// The portal's two languages, German first.
package enum PortalLanguage: String, Sendable, CaseIterable {
    case de, en

    var other: PortalLanguage { self == .de ? .en : .de }

    /// Every sentence the portal shows, in this language.
    var text: PortalText { self == .de ? .german : .english }
}

struct PortalText: Sendable {
    var skipToContent: String
    var languageName: String
    var switchLanguage: String
    var mainNavigation: String
    var datasets: String
    var organizations: String
    var categories: String
    var imprint: String
    var privacy: String
    var searchLabel: String
    var searchPlaceholder: String
    var searchButton: String
    var welcome: String
    var newest: String
    var allDatasets: String
    var results: @Sendable (Int) -> String
    var noResults: String
    var sortLabel: String
    var sortRelevance: String
    var sortNewest: String
    var sortTitle: String
    var sortApply: String
    var filters: String
    var facetNames: [String: String]
    var removeFilter: String
    /// The scope switch of a site with organisations of its own: "Search in:", the cluster's name.
    var searchIn: String
    var wholeCluster: String
    var showAll: @Sendable (Int) -> String
    var showFewer: String
    var pagination: String
    var previous: String
    var next: String
    var page: @Sendable (Int, Int) -> String
    var resources: String
    var download: String
    var license: String
    var noLicense: String
    var tags: String
    var furtherInformation: String
    var publisher: String
    var maintainer: String
    var contact: String
    var version: String
    var created: String
    var modified: String
    var source: String
    var metadata: String
    var metadataIntro: String
    var datasetCount: @Sendable (Int) -> String
    var notFoundTitle: String
    var notFoundText: String
    var unavailableTitle: String
    var unavailableText: String
    var imprintText: String
    var imprintLink: String
    var privacyText: [String]
    var privacyLink: String
    var footer: String
    /// The data preview on a dataset page.
    var preview = "Vorschau"
    var previewCaption: @Sendable (Int, String) -> String = { "Die ersten \($0) Zeilen von \($1)" }
    var delimiter = "Trennzeichen"
    var encoding = "Zeichensatz"
    var tab = "Tabulator"
    var geometry = "Geometrie"
    var previewMore = "Die Datei hat weitere Zeilen; die ganze Datei gibt es oben zum Herunterladen."
    var previewTooLarge: @Sendable (Int) -> String = {
        "Keine Vorschau: Die Datei ist größer als \($0 / 1024) KiB, und ihr Server liefert den Anfang nicht allein."
    }
    var previewNotAllowed: @Sendable (String) -> String = {
        "Keine Vorschau: Dateien von \($0) zeigt dieses Portal nicht in der Vorschau."
    }
    var previewUnreadable = "Keine Vorschau: Die Datei ließ sich nicht als Tabelle lesen."
    var previewFailed = "Keine Vorschau: Die Datei war gerade nicht abrufbar."

    static let german = PortalText(
        skipToContent: "Zum Inhalt springen", languageName: "Deutsch", switchLanguage: "English",
        mainNavigation: "Hauptnavigation", datasets: "Datensätze", organizations: "Organisationen",
        categories: "Kategorien", imprint: "Impressum", privacy: "Datenschutz", searchLabel: "Datensätze durchsuchen",
        searchPlaceholder: "z. B. Pegelstände, Haushalt, Parken", searchButton: "Suchen",
        welcome: "Offene Daten der Verwaltung: frei nutzbar, maschinenlesbar, aktuell.", newest: "Neueste Datensätze",
        allDatasets: "Alle Datensätze", results: { $0 == 1 ? "1 Datensatz gefunden" : "\($0) Datensätze gefunden" },
        noResults: "Keine Datensätze gefunden. Versuchen Sie andere Suchbegriffe oder entfernen Sie Filter.",
        sortLabel: "Sortieren nach", sortRelevance: "Relevanz", sortNewest: "Zuletzt geändert",
        sortTitle: "Titel (A–Z)",
        sortApply: "Sortieren", filters: "Filter",
        facetNames: [
            "organization": "Organisation", "groups": "Kategorie", "tags": "Schlagwort", "res_format": "Format",
            "license_id": "Lizenz",
        ], removeFilter: "Filter entfernen:", searchIn: "Suchen in:", wholeCluster: "allen Kommunen des Verbunds",
        showAll: { "Alle \($0) anzeigen" }, showFewer: "Weniger anzeigen", pagination: "Seiten",
        previous: "Vorherige Seite",
        next: "Nächste Seite", page: { "Seite \($0) von \($1)" }, resources: "Daten und Ressourcen",
        download: "Herunterladen", license: "Lizenz", noLicense: "Keine Lizenz angegeben", tags: "Schlagwörter",
        furtherInformation: "Weitere Informationen", publisher: "Herausgeber", maintainer: "Ansprechpartner",
        contact: "Kontakt", version: "Version", created: "Erstellt", modified: "Zuletzt geändert", source: "Quelle",
        metadata: "Metadaten", metadataIntro: "Dieser Datensatz als DCAT-AP.de:",
        datasetCount: { $0 == 1 ? "1 Datensatz" : "\($0) Datensätze" }, notFoundTitle: "Seite nicht gefunden",
        notFoundText: "Diese Seite gibt es nicht (mehr). Vielleicht hilft die Suche weiter.",
        unavailableTitle: "Datenkatalog gerade nicht erreichbar",
        unavailableText:
            "Das Portal erreicht den Datenkatalog im Moment nicht. Bitte versuchen Sie es in einigen Minuten erneut.",
        imprintText:
            "Dieses Portal wird von der unten genannten Verwaltung betrieben. Die Angaben nach § 5 DDG finden Sie im Impressum der Verwaltung:",
        imprintLink: "Zum Impressum",
        privacyText: [
            "Dieses Portal setzt keine Cookies, bindet keine Inhalte Dritter ein (keine externen Schriften, Skripte oder Analysedienste) und erstellt keine Nutzungsprofile.",
            "Beim Aufruf einer Seite verarbeitet der Server technisch notwendige Daten (angefragte Adresse, Zeitpunkt, Antwortcode), um die Seite auszuliefern; personenbezogene Daten werden dabei nicht gespeichert.",
            "Suchanfragen werden nur an den Datenkatalog des Verbunds weitergegeben, um Ergebnisse anzuzeigen.",
        ], privacyLink: "Zur Datenschutzerklärung der Verwaltung",
        footer: "Offene Daten, bereitgestellt über die gemeinsame Datenplattform des kommunalen Verbunds.")

    static let english = PortalText(
        skipToContent: "Skip to content", languageName: "English", switchLanguage: "Deutsch",
        mainNavigation: "Main navigation", datasets: "Datasets", organizations: "Organisations",
        categories: "Categories", imprint: "Imprint", privacy: "Privacy", searchLabel: "Search datasets",
        searchPlaceholder: "e.g. water levels, budget, parking", searchButton: "Search",
        welcome: "Open data from public administration: free to use, machine-readable, up to date.",
        newest: "Newest datasets", allDatasets: "All datasets",
        results: { $0 == 1 ? "1 dataset found" : "\($0) datasets found" },
        noResults: "No datasets found. Try other search terms or remove filters.", sortLabel: "Sort by",
        sortRelevance: "Relevance", sortNewest: "Last modified", sortTitle: "Title (A–Z)", sortApply: "Sort",
        filters: "Filters",
        facetNames: [
            "organization": "Organisation", "groups": "Category", "tags": "Keyword", "res_format": "Format",
            "license_id": "Licence",
        ], removeFilter: "Remove filter:", searchIn: "Search in:", wholeCluster: "all municipalities of the cluster",
        showAll: { "Show all \($0)" }, showFewer: "Show fewer", pagination: "Pages", previous: "Previous page",
        next: "Next page",
        page: { "Page \($0) of \($1)" }, resources: "Data and resources", download: "Download", license: "Licence",
        noLicense: "No licence given", tags: "Keywords", furtherInformation: "Further information",
        publisher: "Publisher", maintainer: "Contact person", contact: "Contact", version: "Version",
        created: "Created", modified: "Last modified", source: "Source", metadata: "Metadata",
        metadataIntro: "This dataset as DCAT-AP.de:", datasetCount: { $0 == 1 ? "1 dataset" : "\($0) datasets" },
        notFoundTitle: "Page not found", notFoundText: "This page does not exist (any more). Try the search instead.",
        unavailableTitle: "Data catalog currently unavailable",
        unavailableText: "The portal cannot reach the data catalog right now. Please try again in a few minutes.",
        imprintText:
            "This portal is run by the administration named below. Its legal notice is part of the administration's imprint:",
        imprintLink: "Go to the imprint",
        privacyText: [
            "This portal sets no cookies, embeds nothing from third parties (no external fonts, scripts or analytics) and builds no usage profiles.",
            "When a page is requested, the server processes the technically necessary data (address requested, time, response code) to deliver it; no personal data is stored.",
            "Search terms are passed only to the cluster's data catalog, to show results.",
        ], privacyLink: "Go to the administration's privacy statement",
        footer: "Open data, published through the shared data platform of the municipal cluster.",
        preview: "Preview", previewCaption: { "The first \($0) rows of \($1)" }, delimiter: "delimiter",
        encoding: "encoding", tab: "tab", geometry: "Geometry",
        previewMore: "The file has more rows; download the whole file above.",
        previewTooLarge: {
            "No preview: the file is larger than \($0 / 1024) KiB, and its server does not send its beginning alone."
        }, previewNotAllowed: { "No preview: this portal does not preview files from \($0)." },
        previewUnreadable: "No preview: the file could not be read as a table.",
        previewFailed: "No preview: the file could not be fetched just now.")
}
