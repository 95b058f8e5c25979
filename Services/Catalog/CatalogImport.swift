import Foundation
import ServiceSupport

/// Loads a catalog file (`{"organizations": [...], "datasets": [...]}`, each in CKAN's shape) through
/// the same actions the API runs, so imported data passes the same checks. Existing organisations
/// are kept; existing datasets (by name) are updated: importing twice gives the same catalog.
package struct CatalogImport {
    package let actions: CatalogActions

    package init(actions: CatalogActions) { self.actions = actions }

    package func load(_ path: String) async throws -> (organizations: Int, datasets: Int) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ServiceStartError("\(path): cannot read it")
        }
        guard case .object(let file) = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            throw ServiceStartError("\(path): not a JSON object with organizations and datasets")
        }
        var organizations = 0
        var datasets = 0
        for (index, item) in (Self.items(file["organizations"])).enumerated() {
            guard case .object(let fields) = item, let name = fields["name"]?.text else {
                throw ServiceStartError("\(path): organizations[\(index)] has no name")
            }
            if try await actions.store.organization(name) != nil { continue }
            try await run("organization_create", fields, what: "organizations[\(index)] (\(name))", in: path)
            organizations += 1
        }
        for (index, item) in Self.items(file["datasets"]).enumerated() {
            guard case .object(let fields) = item, let name = fields["name"]?.text else {
                throw ServiceStartError("\(path): datasets[\(index)] has no name")
            }
            var values = fields
            let action: String
            if let existing = try await actions.store.package(name) {
                values["id"] = .string(existing.id)
                action = "package_update"
            } else {
                action = "package_create"
            }
            try await run(action, values, what: "datasets[\(index)] (\(name))", in: path)
            datasets += 1
        }
        return (organizations, datasets)
    }

    private func run(_ action: String, _ fields: [String: JSONValue], what: String, in path: String) async throws {
        do {
            _ = try await actions.perform(action, Parameters(fields), authorized: true)
        } catch let error as CatalogError {
            throw ServiceStartError("\(path): \(what): \(error.message)")
        }
    }

    private static func items(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let items) = value { return items }
        return []
    }
}
