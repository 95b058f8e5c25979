/// A small RDF graph: what the DCAT-AP.de endpoints build, and what the Turtle, RDF/XML and JSON-LD
/// writers serialise. Subjects keep the order they were first used in, so output is stable.
package struct RDFGraph: Sendable {
    package enum Term: Sendable, Hashable {
        case iri(String)
        case literal(String, language: String? = nil, datatype: String? = nil)
        case blank(String)
    }

    package struct Triple: Sendable, Hashable {
        package var subject: Term
        package var predicate: String
        package var object: Term
    }

    /// Prefix → namespace, for writers that abbreviate.
    package static let prefixes: [(prefix: String, namespace: String)] = [
        ("dcat", "http://www.w3.org/ns/dcat#"), ("dct", "http://purl.org/dc/terms/"),
        ("dcatde", "http://dcat-ap.de/def/dcatde/"), ("foaf", "http://xmlns.com/foaf/0.1/"),
        ("vcard", "http://www.w3.org/2006/vcard/ns#"), ("hydra", "http://www.w3.org/ns/hydra/core#"),
        ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"), ("xsd", "http://www.w3.org/2001/XMLSchema#"),
        ("adms", "http://www.w3.org/ns/adms#"),
    ]

    package private(set) var triples: [Triple] = []
    private var seen: Set<Triple> = []

    package init() {}

    /// Adds a triple given with a prefixed predicate (`dct:title`); duplicates are dropped.
    package mutating func add(_ subject: Term, _ predicate: String, _ object: Term) {
        let triple = Triple(subject: subject, predicate: Self.expand(predicate), object: object)
        if seen.insert(triple).inserted { triples.append(triple) }
    }

    package mutating func add(_ subject: Term, _ predicate: String, _ objects: [Term]) {
        for object in objects { add(subject, predicate, object) }
    }

    /// The triples grouped by subject, in first-use order.
    package var subjects: [(subject: Term, triples: [Triple])] {
        var order: [Term] = []
        var groups: [Term: [Triple]] = [:]
        for triple in triples {
            if groups[triple.subject] == nil { order.append(triple.subject) }
            groups[triple.subject, default: []].append(triple)
        }
        return order.map { ($0, groups[$0] ?? []) }
    }

    /// `dct:title` → the full IRI; a full IRI stays as it is.
    package static func expand(_ name: String) -> String {
        guard let colon = name.firstIndex(of: ":"), !name.contains("//") else { return name }
        let prefix = String(name[..<colon])
        guard let namespace = prefixes.first(where: { $0.prefix == prefix })?.namespace else { return name }
        return namespace + name[name.index(after: colon)...]
    }

    /// A full IRI as `prefix:local`, when a known namespace covers it and the local part is a plain name.
    package static func compact(_ iri: String) -> String? {
        for (prefix, namespace) in prefixes where iri.hasPrefix(namespace) {
            let local = iri.dropFirst(namespace.count)
            if !local.isEmpty, local.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }),
                local.first?.isLetter == true
            {
                return "\(prefix):\(local)"
            }
        }
        return nil
    }

    /// An IRI safe to write: characters RDF syntaxes do not allow in IRIs are percent-encoded.
    package static func safeIRI(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar.value <= 0x20 || "<>\"{}|\\^`".unicodeScalars.contains(scalar) {
                for byte in String(scalar).utf8 {
                    result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
                }
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
