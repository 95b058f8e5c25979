import Foundation

/// The three syntaxes DCAT-AP.de harvesters read: Turtle, RDF/XML and JSON-LD, written from one graph.
package enum RDFFormat: String, Sendable, CaseIterable {
    case turtle = "ttl"
    case rdfXML = "rdf"
    case jsonLD = "jsonld"

    package var contentType: String {
        switch self {
        case .turtle: "text/turtle; charset=utf-8"
        case .rdfXML: "application/rdf+xml; charset=utf-8"
        case .jsonLD: "application/ld+json; charset=utf-8"
        }
    }

    package func write(_ graph: RDFGraph) -> String {
        switch self {
        case .turtle: TurtleWriter.write(graph)
        case .rdfXML: RDFXMLWriter.write(graph)
        case .jsonLD: JSONLDWriter.write(graph)
        }
    }
}

enum TurtleWriter {
    static func write(_ graph: RDFGraph) -> String {
        var out = RDFGraph.prefixes.map { "@prefix \($0.prefix): <\($0.namespace)> ." }.joined(separator: "\n") + "\n"
        for (subject, triples) in graph.subjects {
            out += "\n\(term(subject))"
            let types = triples.filter { $0.predicate == RDFGraph.expand("rdf:type") }
            let rest = triples.filter { $0.predicate != RDFGraph.expand("rdf:type") }
            var lines: [String] = []
            if !types.isEmpty { lines.append("a " + types.map { term($0.object) }.joined(separator: ", ")) }
            var order: [String] = []
            var objects: [String: [String]] = [:]
            for triple in rest {
                if objects[triple.predicate] == nil { order.append(triple.predicate) }
                objects[triple.predicate, default: []].append(term(triple.object))
            }
            for predicate in order {
                lines.append(
                    (RDFGraph.compact(predicate) ?? "<\(RDFGraph.safeIRI(predicate))>") + " "
                        + (objects[predicate] ?? []).joined(separator: ", "))
            }
            out += "\n    " + lines.joined(separator: " ;\n    ") + " .\n"
        }
        return out
    }

    static func term(_ term: RDFGraph.Term) -> String {
        switch term {
        case .iri(let iri): return RDFGraph.compact(iri) ?? "<\(RDFGraph.safeIRI(iri))>"
        case .blank(let id): return "_:\(id)"
        case .literal(let text, let language, let datatype):
            var escaped = ""
            for character in text {
                switch character {
                case "\\": escaped += "\\\\"
                case "\"": escaped += "\\\""
                case "\n": escaped += "\\n"
                case "\r": escaped += "\\r"
                case "\t": escaped += "\\t"
                default: escaped.append(character)
                }
            }
            if let language { return "\"\(escaped)\"@\(language)" }
            if let datatype { return "\"\(escaped)\"^^" + (RDFGraph.compact(datatype) ?? "<\(datatype)>") }
            return "\"\(escaped)\""
        }
    }
}

enum RDFXMLWriter {
    static func write(_ graph: RDFGraph) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rdf:RDF"
        for (prefix, namespace) in RDFGraph.prefixes { out += "\n    xmlns:\(prefix)=\"\(namespace)\"" }
        out += ">\n"
        for (subject, triples) in graph.subjects {
            switch subject {
            case .iri(let iri): out += "  <rdf:Description rdf:about=\"\(escape(RDFGraph.safeIRI(iri)))\">\n"
            case .blank(let id): out += "  <rdf:Description rdf:nodeID=\"\(escape(id))\">\n"
            case .literal: continue
            }
            for triple in triples {
                // Predicates outside the known namespaces do not occur in what the catalog writes.
                guard let name = RDFGraph.compact(triple.predicate) else { continue }
                switch triple.object {
                case .iri(let iri): out += "    <\(name) rdf:resource=\"\(escape(RDFGraph.safeIRI(iri)))\"/>\n"
                case .blank(let id): out += "    <\(name) rdf:nodeID=\"\(escape(id))\"/>\n"
                case .literal(let text, let language, let datatype):
                    var attributes = ""
                    if let language { attributes = " xml:lang=\"\(language)\"" }
                    if let datatype { attributes = " rdf:datatype=\"\(escape(datatype))\"" }
                    out += "    <\(name)\(attributes)>\(escape(text))</\(name)>\n"
                }
            }
            out += "  </rdf:Description>\n"
        }
        return out + "</rdf:RDF>\n"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\r": out += "&#13;"
            default:
                // XML 1.0 has no place for most control characters; they are dropped.
                if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

enum JSONLDWriter {
    static func write(_ graph: RDFGraph) -> String {
        var context: [String: Any] = [:]
        for (prefix, namespace) in RDFGraph.prefixes { context[prefix] = namespace }
        var nodes: [[String: Any]] = []
        for (subject, triples) in graph.subjects {
            var node: [String: Any] = [:]
            switch subject {
            case .iri(let iri): node["@id"] = RDFGraph.safeIRI(iri)
            case .blank(let id): node["@id"] = "_:\(id)"
            case .literal: continue
            }
            var values: [String: [Any]] = [:]
            for triple in triples {
                if triple.predicate == RDFGraph.expand("rdf:type"), case .iri(let type) = triple.object {
                    node["@type", default: [String]()] = (node["@type"] as? [String] ?? []) + [type]
                    continue
                }
                let value: Any =
                    switch triple.object {
                    case .iri(let iri): ["@id": RDFGraph.safeIRI(iri)]
                    case .blank(let id): ["@id": "_:\(id)"]
                    case .literal(let text, let language, let datatype):
                        language.map { ["@value": text, "@language": $0] }
                            ?? datatype.map { ["@value": text, "@type": $0] } ?? ["@value": text]
                    }
                values[triple.predicate, default: []].append(value)
            }
            for (predicate, list) in values { node[predicate] = list }
            nodes.append(node)
        }
        let document: [String: Any] = ["@context": context, "@graph": nodes]
        let data =
            (try? JSONSerialization.data(
                withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
