import Foundation

/// Describes datasets in DCAT-AP.de 3.0: the catalog (paged with Hydra, as ckanext-dcat and the
/// GovData harvester expect), each dataset with its publisher, contact point, themes, keywords and
/// distributions, licences from the dcat-ap.de vocabulary and file types from the EU table.
struct DCATMapper {
    let configuration: CatalogConfiguration

    private var base: String { configuration.publicURL }

    func datasetIRI(_ package: Package) -> RDFGraph.Term { .iri("\(base)/dataset/\(package.name)") }

    /// One page of the catalog.
    func catalog(
        _ packages: [Package], total: Int, page: Int, format: RDFFormat, query: [(String, String)]
    ) -> RDFGraph {
        var graph = RDFGraph()
        let catalog = RDFGraph.Term.iri("\(base)/catalog")
        graph.add(catalog, "rdf:type", .iri(RDFGraph.expand("dcat:Catalog")))
        graph.add(catalog, "dct:title", .literal(configuration.siteTitle, language: "de"))
        graph.add(
            catalog, "dct:description",
            .literal("Offene Daten von \(publisherName) im Format DCAT-AP.de.", language: "de"))
        graph.add(catalog, "dct:publisher", catalogPublisher(&graph))
        graph.add(catalog, "foaf:homepage", .iri(base))
        graph.add(catalog, "dct:language", .iri("http://publications.europa.eu/resource/authority/language/DEU"))
        if let newest = packages.map(\.metadataModified).max() {
            graph.add(catalog, "dct:modified", dateTime(newest))
        }
        for package in packages {
            graph.add(catalog, "dcat:dataset", datasetIRI(package))
            describe(package, into: &graph)
        }
        // Paging, the way ckanext-dcat writes it: the page links as literals.
        let pages = max(1, (total + configuration.pageSize - 1) / configuration.pageSize)
        func link(_ number: Int) -> RDFGraph.Term {
            let others = query.filter { $0.0 != "page" }.map { "\($0.0)=\(percent($0.1))" }
            return .literal(
                "\(base)/catalog.\(format.rawValue)?" + (others + ["page=\(number)"]).joined(separator: "&"))
        }
        guard case .literal(let own, _, _) = link(page) else { return graph }
        let collection = RDFGraph.Term.iri(own)
        graph.add(collection, "rdf:type", .iri(RDFGraph.expand("hydra:PagedCollection")))
        graph.add(collection, "hydra:totalItems", .literal(String(total), datatype: RDFGraph.expand("xsd:integer")))
        graph.add(
            collection, "hydra:itemsPerPage",
            .literal(String(configuration.pageSize), datatype: RDFGraph.expand("xsd:integer")))
        graph.add(collection, "hydra:firstPage", link(1))
        graph.add(collection, "hydra:lastPage", link(pages))
        if page > 1 { graph.add(collection, "hydra:previousPage", link(min(page - 1, pages))) }
        if page < pages { graph.add(collection, "hydra:nextPage", link(page + 1)) }
        return graph
    }

    /// One dataset on its own.
    func dataset(_ package: Package) -> RDFGraph {
        var graph = RDFGraph()
        describe(package, into: &graph)
        return graph
    }

    private var publisherName: String {
        configuration.publisher.isEmpty ? configuration.siteTitle : configuration.publisher
    }

    private func catalogPublisher(_ graph: inout RDFGraph) -> RDFGraph.Term {
        let publisher = RDFGraph.Term.iri("\(base)/publisher")
        graph.add(publisher, "rdf:type", .iri(RDFGraph.expand("foaf:Organization")))
        graph.add(publisher, "foaf:name", .literal(publisherName, language: "de"))
        return publisher
    }

    private func describe(_ package: Package, into graph: inout RDFGraph) {
        let dataset = datasetIRI(package)
        graph.add(dataset, "rdf:type", .iri(RDFGraph.expand("dcat:Dataset")))
        graph.add(dataset, "dct:identifier", .literal(package.id))
        graph.add(dataset, "dct:title", .literal(package.title, language: "de"))
        graph.add(
            dataset, "dct:description", .literal(package.notes.isEmpty ? package.title : package.notes, language: "de"))
        graph.add(dataset, "dct:issued", dateTime(package.metadataCreated))
        graph.add(dataset, "dct:modified", dateTime(package.metadataModified))
        graph.add(dataset, "dct:language", .iri("http://publications.europa.eu/resource/authority/language/DEU"))
        graph.add(dataset, "dcat:landingPage", .iri("\(base)/dataset/\(package.name)"))
        if !configuration.contributorID.isEmpty {
            graph.add(dataset, "dcatde:contributorID", .iri(configuration.contributorID))
        }
        // The publisher: the dataset's organisation, else the catalog's publisher.
        let publisher: RDFGraph.Term
        let publisherTitle: String
        if let organization = package.organization {
            publisher = .iri("\(base)/organization/\(organization.name)")
            publisherTitle = organization.title
            graph.add(publisher, "rdf:type", .iri(RDFGraph.expand("foaf:Organization")))
            graph.add(publisher, "foaf:name", .literal(organization.title, language: "de"))
        } else {
            publisher = catalogPublisher(&graph)
            publisherTitle = publisherName
        }
        graph.add(dataset, "dct:publisher", publisher)
        // Whom to ask: the maintainer, reachable by e-mail, else through the catalog's web address.
        let contact = RDFGraph.Term.iri("\(base)/dataset/\(package.name)#contact")
        graph.add(contact, "rdf:type", .iri(RDFGraph.expand("vcard:Organization")))
        graph.add(
            contact, "vcard:fn",
            .literal(package.maintainer.isEmpty ? publisherTitle : package.maintainer, language: "de"))
        if !package.maintainerEmail.isEmpty {
            graph.add(contact, "vcard:hasEmail", .iri("mailto:\(package.maintainerEmail)"))
        } else if !package.authorEmail.isEmpty {
            graph.add(contact, "vcard:hasEmail", .iri("mailto:\(package.authorEmail)"))
        } else {
            graph.add(contact, "vcard:hasURL", .iri(base))
        }
        graph.add(dataset, "dcat:contactPoint", contact)
        for tag in package.tags { graph.add(dataset, "dcat:keyword", .literal(tag.name, language: "de")) }
        for group in package.groups where DataTheme.all.contains(where: { $0.name == group.name }) {
            graph.add(dataset, "dcat:theme", .iri(DataTheme.uri(group.name)))
        }
        if !package.version.isEmpty { graph.add(dataset, "adms:version", .literal(package.version)) }
        let license = License.find(package.licenseId)
        for resource in package.resources {
            let distribution = RDFGraph.Term.iri("\(base)/dataset/\(package.name)/resource/\(resource.id)")
            graph.add(dataset, "dcat:distribution", distribution)
            graph.add(distribution, "rdf:type", .iri(RDFGraph.expand("dcat:Distribution")))
            let title = resource.name.isEmpty ? "\(package.title) (\(resource.format))" : resource.name
            graph.add(distribution, "dct:title", .literal(title, language: "de"))
            if !resource.description.isEmpty {
                graph.add(distribution, "dct:description", .literal(resource.description, language: "de"))
            }
            let address = resource.url.isEmpty ? "\(base)/dataset/\(package.name)" : resource.url
            graph.add(distribution, "dcat:accessURL", .iri(address))
            if !resource.url.isEmpty { graph.add(distribution, "dcat:downloadURL", .iri(resource.url)) }
            // Without a stated licence, nothing is granted: the closed licence says that.
            graph.add(distribution, "dct:license", .iri((license ?? License.find("other-closed"))?.uri ?? ""))
            if let license, license.id.contains("by") {
                graph.add(distribution, "dcatde:licenseAttributionByText", .literal(publisherTitle, language: "de"))
            }
            if let type = FileType.find(resource.format) {
                graph.add(
                    distribution, "dct:format",
                    .iri("http://publications.europa.eu/resource/authority/file-type/\(type.code)"))
                if !type.mediaType.isEmpty {
                    graph.add(
                        distribution, "dcat:mediaType",
                        .iri("https://www.iana.org/assignments/media-types/\(type.mediaType)"))
                }
            }
            if let size = resource.size {
                graph.add(
                    distribution, "dcat:byteSize",
                    .literal(String(size), datatype: RDFGraph.expand("xsd:nonNegativeInteger")))
            }
            graph.add(distribution, "dct:modified", dateTime(resource.metadataModified))
        }
    }

    private func dateTime(_ ckan: String) -> RDFGraph.Term {
        // CKAN's timestamps are UTC without a zone; xsd:dateTime gets the Z.
        let trimmed = ckan.split(separator: ".").first.map(String.init) ?? ckan
        return .literal(trimmed + "Z", datatype: RDFGraph.expand("xsd:dateTime"))
    }

    private func percent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }
}

/// Formats as CKAN resources name them, with their code in the EU file-type table and media type.
enum FileType {
    static let known: [(names: [String], code: String, mediaType: String)] = [
        (["CSV"], "CSV", "text/csv"), (["JSON"], "JSON", "application/json"),
        (["GEOJSON"], "GEOJSON", "application/geo+json"), (["PDF"], "PDF", "application/pdf"),
        (["XML"], "XML", "application/xml"),
        (["XLSX"], "XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (["XLS"], "XLS", "application/vnd.ms-excel"), (["ZIP"], "ZIP", "application/zip"),
        (["HTML"], "HTML", "text/html"), (["TXT", "TEXT"], "TXT", "text/plain"),
        (["RDF", "RDF/XML"], "RDF_XML", "application/rdf+xml"), (["TTL", "TURTLE"], "RDF_TURTLE", "text/turtle"),
        (["JSON-LD", "JSONLD"], "JSON_LD", "application/ld+json"),
        (["ODS"], "ODS", "application/vnd.oasis.opendocument.spreadsheet"),
        (["KML"], "KML", "application/vnd.google-earth.kml+xml"), (["GML"], "GML", "application/gml+xml"),
        (["SHP"], "SHP", ""),
    ]

    static func find(_ format: String) -> (code: String, mediaType: String)? {
        let upper = format.uppercased()
        return known.first { $0.names.contains(upper) }.map { ($0.code, $0.mediaType) }
    }
}
