import Model
import TestSupport
import Testing

@Suite struct FixtureTests {
    @Test func fixtures_whenLoaded_areValid() throws {
        let workspace = try Fixtures.load(Fixtures.files())
        #expect(workspace.blueprints.keys.sorted() == ["api", "web"])
        #expect(workspace.environmentNames == ["live", "sandbox"])
        let sandbox = try EnvironmentResolver(workspace: workspace).resolve("sandbox")
        let beta = try #require(sandbox.sites.first { $0.name == "beta" })
        let web = try #require(beta.nodes.first?.instances.first { $0.service == "web" })
        #expect(web.arguments == ["web", "--api", "http://127.0.1.1:9001"])
    }
}
