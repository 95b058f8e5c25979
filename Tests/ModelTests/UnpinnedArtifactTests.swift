import Foundation
import Model
import Planner
import StellwerkAPI
import TestSupport
import Testing

/// An artifact from elsewhere without a pinned SHA-256 (issue #19): each release carries it as
/// `external:BLUEPRINT`, so a new version needs no blueprint edit and the release stays the one lock
/// of every digest.
@Suite struct UnpinnedArtifactTests {
    static let component = "  product: datenplattform\n"

    @Test(arguments: [
        "  artifact: {}\n  executable: bin/api\n",
        "  artifact: {url: https://x.example/api.tar}\n  executable: bin/api\n",
    ])
    func unpinnedArtifact_isValid_andTakesItsDigestFromTheRelease(component: String) throws {
        let files = try Fixtures.files(changing: FixturePath.api, Self.component, to: component)
        #expect(errors(files).isEmpty, "\(errors(files))")
        let sandbox = try EnvironmentResolver(workspace: try Fixtures.load(files)).resolve("sandbox")
        let digest = String(repeating: "ab", count: 32)
        let release = ReleaseManifest(
            id: "r-1", version: "1", revision: "",
            components: [
                "external:api": ComponentArtifact(sha256: digest, size: 10, migrations: []),
                "datenplattform": ComponentArtifact(
                    sha256: String(repeating: "cd", count: 32), size: 10, migrations: []),
            ])
        let state = Planner(release: release).desiredState(sandbox, secrets: [:])
        let api = try #require(state.first { $0.node == "alpha-1" }?.instances.first { $0.service == "api" })
        #expect(api.artifact.component == "external:api")
        #expect(api.artifact.sha256 == digest)
        #expect(api.artifact.url == nil)
        // Without a release, nothing is runnable yet, as for products.
        let unreleased = Planner(release: nil).desiredState(sandbox, secrets: [:])
        #expect(
            unreleased.first { $0.node == "alpha-1" }?.instances.first { $0.service == "api" }?.artifact.sha256 == nil)
    }

    @Test func aReleaseWithoutTheArtifact_isNamedInThePlan_withTheCommandThatMakesOne() throws {
        let files = try Fixtures.files(
            changing: FixturePath.api, Self.component, to: "  artifact: {}\n  executable: bin/api\n")
        let sandbox = try EnvironmentResolver(workspace: try Fixtures.load(files)).resolve("sandbox")
        let release = ReleaseManifest(
            id: "r-2", version: "2", revision: "",
            components: [
                "datenplattform": ComponentArtifact(
                    sha256: String(repeating: "cd", count: 32), size: 10, migrations: [])
            ])
        let plan = Planner(release: release).plan(sandbox, revision: "x", recorded: .empty(environment: "sandbox"))
        #expect(
            plan.warnings.contains(
                "release r-2 carries no external:api, so this plan cannot be applied; make a release with "
                    + "`stellwerk release create --artifact api=FILE.tar`"), "\(plan.warnings)")
    }

    @Test func aPinnedArtifact_stillNeedsItsURL_andAWellFormedDigest() throws {
        let noURL = try Fixtures.files(
            changing: FixturePath.api, Self.component,
            to: "  artifact: {sha256: \(String(repeating: "a", count: 64))}\n  executable: bin/api\n")
        #expect(try onlyError(noURL, in: FixturePath.api).message.contains("missing key 'url'"))
        let badDigest = try Fixtures.files(
            changing: FixturePath.api, Self.component,
            to: "  artifact: {url: https://x.example/a.tar, sha256: ABC}\n  executable: bin/api\n")
        let diagnostic = try onlyError(badDigest, in: FixturePath.api)
        #expect(diagnostic.message.contains("sha256 must be 64 lowercase hex digits"))
        #expect(diagnostic.hint?.contains("leave it out, and each release carries the artifact") == true)
    }
}
