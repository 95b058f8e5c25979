import Foundation
import TestSupport
import Testing

/// The catalog's DCAT-AP.de output, checked by the official DCAT-AP.de 3.0 SHACL shapes through
/// `../shared/dcat-ap-de/validate.py` (pyshacl from `.build/python-clients`): every page of the
/// catalog and single datasets, in Turtle, RDF/XML and JSON-LD, with zero violations.
@Suite(.serialized) struct CatalogDCATTests {
    /// Only beside the repository: the shapes are shared with the other projects of the workplace.
    static let validator: URL? = [
        Fixtures.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/dcat-ap-de/validate.py")
    ].first { FileManager.default.fileExists(atPath: $0.path) }
    static let available = validator != nil && CatalogInteropTests.available

    /// Runs the validator on `file`; returns its exit status and output.
    static func validate(_ file: URL) async throws -> (Int32, String) {
        let output = file.path + ".validation"
        let validator = try #require(Self.validator).path
        let status = try await offloaded {
            try Spawn.run(CatalogInteropTests.python.path, [validator, file.path], standardOutput: output).status
        }
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    @Test(
        .enabled(
            if: available || CatalogInteropTests.required, "the DCAT-AP.de validator or the Python clients are missing")
    )
    func everyPageAndDataset_inEverySyntax_conformsToDCATAPde() async throws {
        try #require(Self.available, "need ../shared/dcat-ap-de/validate.py and scripts/python-clients")
        let catalog = try await CatalogProcess(host: "127.0.52.20", pageSize: 4)
        defer { catalog.stop() }
        try await catalog.start()
        var documents: [URL] = []
        for format in ["ttl", "rdf", "jsonld"] {
            for page in 1...3 {
                let reply = try await catalog.get("/catalog.\(format)", [("page", String(page))])
                #expect(reply.status == 200)
                let file = catalog.root.appendingPathComponent("catalog-\(page).\(format)")
                try Data(reply.text.utf8).write(to: file)
                documents.append(file)
            }
            let dataset = try await catalog.get("/dataset/pegelstaende-nette.\(format)")
            let file = catalog.root.appendingPathComponent("dataset.\(format)")
            try Data(dataset.text.utf8).write(to: file)
            documents.append(file)
        }
        for document in documents {
            let (status, output) = try await Self.validate(document)
            #expect(status == 0, "\(document.lastPathComponent): \(output)")
            #expect(output.contains("0 Verstöße / violations"), "\(document.lastPathComponent): \(output)")
        }
        // The validator is not lenient: a dataset without a description is refused.
        let broken = catalog.root.appendingPathComponent("broken.ttl")
        let turtle = try String(contentsOf: catalog.root.appendingPathComponent("dataset.ttl"), encoding: .utf8)
        try Data(
            turtle.split(separator: "\n").filter { !$0.contains("dct:description") }.joined(separator: "\n").utf8
        ).write(to: broken)
        #expect(try await Self.validate(broken).0 == 1)
    }

    @Test func catalogPages_followHydra_andFilterByDateAndText() async throws {
        let catalog = try await CatalogProcess(host: "127.0.52.21", pageSize: 4)
        defer { catalog.stop() }
        try await catalog.start()
        let first = try await catalog.get("/catalog.ttl")
        #expect(first.text.contains("hydra:totalItems \"10\"^^xsd:integer"))
        #expect(first.text.contains("hydra:nextPage \"\(catalog.url)/catalog.ttl?page=2\""))
        #expect(first.text.components(separatedBy: "a dcat:Dataset").count - 1 == 4)
        let last = try await catalog.get("/catalog.ttl", [("page", "3")])
        #expect(last.text.components(separatedBy: "a dcat:Dataset").count - 1 == 2)
        #expect(!last.text.contains("hydra:nextPage"))
        #expect(last.text.contains("hydra:previousPage \"\(catalog.url)/catalog.ttl?page=2\""))

        let pegel = try await catalog.get("/catalog.ttl", [("q", "Pegel"), ("modified_since", "2020-01-01")])
        #expect(pegel.text.contains("hydra:totalItems \"3\"^^xsd:integer"), "\(pegel.text)")
        #expect(
            pegel.text.contains("q=Pegel&modified_since=2020-01-01&page=1")
                || pegel.text.contains("modified_since=2020-01-01&q=Pegel&page=1"))
        let future = try await catalog.get("/catalog.ttl", [("modified_since", "2999-01-01T00:00:00Z")])
        #expect(future.text.contains("hydra:totalItems \"0\"^^xsd:integer"))

        // Licences and file types from the vocabularies; a dataset page of its own.
        let dataset = try await catalog.get("/dataset/parkhaus-belegung.rdf")
        #expect(dataset.text.contains("<dct:license rdf:resource=\"http://dcat-ap.de/def/licenses/dl-by-de/2.0\"/>"))
        #expect(
            dataset.text.contains(
                "<dct:format rdf:resource=\"http://publications.europa.eu/resource/authority/file-type/CSV\"/>"))

        // Bad input: one readable line and the right status.
        #expect(try await catalog.get("/catalog.ttl", [("page", "0")]).status == 400)
        #expect(try await catalog.get("/catalog.ttl", [("modified_since", "gestern")]).status == 400)
        #expect(try await catalog.get("/dataset/gibt-es-nicht.ttl").status == 404)
        #expect(try await catalog.get("/dataset/parkhaus-belegung.docx").status == 404)
        // Private datasets never reach harvesters.
        _ = try await catalog.action(
            "package_patch", ["id": "parkhaus-belegung", "private": true], token: catalog.token)
        #expect(try await catalog.get("/dataset/parkhaus-belegung.ttl").status == 404)
        #expect(!(try await catalog.get("/catalog.ttl", [("q", "Parkhaus")])).text.contains("a dcat:Dataset"))
    }
}
