import Foundation
import StellwerkAPI
import TestSupport
import Testing

/// The wire between orchestrator, CLI and agents: endpoints declared once, closed sets of values, and
/// the OpenAPI document generated from them.
@Suite struct WireTests {
    @Test func endpoints_haveOneDeclarationPerMethodAndPath() {
        var seen = Set<String>()
        for endpoint in Endpoints.all {
            let key = "\(endpoint.method.rawValue) \(endpoint.path)"
            #expect(seen.insert(key).inserted, "\(key) is declared twice")
            #expect(endpoint.path.hasPrefix("/"), "\(key)")
            #expect(!endpoint.summary.isEmpty, "\(key) has no summary")
        }
        #expect(Endpoints.all.count == 55)
    }

    @Test func calls_fillTheirPathsAndQueries_percentEncodingWhatTheyCarry() {
        #expect(APICall<NoBody, RolloutView>.rollout("ro-1a2b").target == "/v1/rollouts/ro-1a2b")
        #expect(APICall<NoBody, RolloutView>.pauseRollout("ro-1").endpoint.method == .post)
        #expect(APICall<NoBody, StateSnapshot>.snapshot("live").target == "/v1/environments/live/snapshot")
        // A name with a slash or a query character stays one path segment.
        #expect(APICall<NoBody, NoContent>.revokeUser("a/b?c").target == "/v1/users/a%2Fb%3Fc")
        #expect(
            APICall<NoBody, DesiredStateResponse?>.desiredState(known: 3, wait: 25).target
                == "/v1/agent/desired-state?known=3&wait=25")
        #expect(APICall<NoBody, StatusDocument>.status().target == "/v1/status")
        #expect(APICall<NoBody, StatusDocument>.status(environment: "live").target == "/v1/status?env=live")
    }

    @Test func wireEnums_readTheirValues_andNameAnUnknownOneWithTheKnownOnes() throws {
        let decoder = WireJSON.decoder()
        #expect(try decoder.decode(RolloutState.self, from: Data(#""rolling-back""#.utf8)) == .rollingBack)
        #expect(try decoder.decode([String: Role].self, from: Data(#"{"*": "approver"}"#.utf8)) == ["*": .approver])
        let error = #expect(throws: DecodingError.self) {
            try decoder.decode(RolloutView.self, from: Data(Self.rollout(state: "teleporting").utf8))
        }
        guard case .dataCorrupted(let context) = error else {
            Issue.record("expected a dataCorrupted error, got \(String(describing: error))")
            return
        }
        #expect(context.codingPath.map(\.stringValue) == ["state"])
        #expect(
            context.debugDescription
                == "'teleporting' is not a rollout state; known: running, paused, succeeded, failed, cancelled, rolling-back, rolled-back"
        )
        #expect(try decoder.decode(RolloutView.self, from: Data(Self.rollout(state: "paused").utf8)).state == .paused)
    }

    @Test func wireJSON_writesWholeSecondISODates_andReadsTheFormerSecondsSince2001() throws {
        let date = Date(timeIntervalSince1970: 1_795_000_000)
        let written = String(decoding: try WireJSON.encoder().encode(["at": date]), as: UTF8.self)
        #expect(written == #"{"at":"2026-11-18T11:06:40Z"}"#)
        let former = Data(#"{"at": \#(date.timeIntervalSinceReferenceDate)}"#.utf8)
        #expect(try WireJSON.decoder().decode([String: Date].self, from: former)["at"] == date)
        #expect(WireJSON.signable(date.addingTimeInterval(0.75)) == date)
        #expect(throws: DecodingError.self) {
            try WireJSON.decoder().decode([String: Date].self, from: Data(#"{"at": "Dienstag"}"#.utf8))
        }
    }

    @Test func openAPIDocument_describesEveryEndpoint_withItsTypes_andMatchesTheOneInDocs() throws {
        let generated = try OpenAPIDocument.json()
        let document = try #require(try JSONSerialization.jsonObject(with: generated) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        for endpoint in Endpoints.all {
            #expect(paths[endpoint.path]?[endpoint.method.rawValue.lowercased()] != nil, "\(endpoint.path)")
        }
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        // Every reference resolves.
        let text = String(decoding: generated, as: UTF8.self)
        for match in text.matches(of: #/"#/components/schemas/([A-Za-z]+)"/#) {
            #expect(schemas[String(match.1)] != nil, "\(match.1) is referenced but not defined")
        }
        // What the types say: required and optional fields, enums with their values, nested types.
        let rollout = try #require(schemas["RolloutView"] as? [String: Any])
        let properties = try #require(rollout["properties"] as? [String: [String: Any]])
        #expect((properties["state"]?["enum"] as? [String])?.contains("rolling-back") == true)
        #expect((properties["steps"]?["items"] as? [String: String])?["$ref"] == "#/components/schemas/RolloutStepView")
        #expect((properties["createdAt"]?["format"] as? String) == "date-time")
        #expect((rollout["required"] as? [String])?.contains("state") == true)
        let node = try #require(schemas["NodeStatus"] as? [String: Any])
        #expect((node["required"] as? [String])?.contains("lastSeen") == false, "lastSeen is optional")

        let file = Fixtures.repositoryRoot.appendingPathComponent("docs/api/openapi.json")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" { try generated.write(to: file) }
        #expect(
            (try? Data(contentsOf: file)) == generated,
            "docs/api/openapi.json differs from the endpoints; regenerate it with UPDATE_GOLDEN=1 swift test --filter WireTests"
        )
    }

    static func rollout(state: String) -> String {
        """
        {"id": "ro-1", "environment": "live", "release": "r-1", "state": "\(state)", "message": "",
         "createdBy": "user:anna", "createdAt": "2026-12-01T10:00:00Z", "updatedAt": "2026-12-01T10:00:00Z",
         "steps": []}
        """
    }
}
