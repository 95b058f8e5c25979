import Foundation
import TestSupport
import Testing

/// What an admin copies onto a municipal server: one file that needs no Swift toolchain there.
@Suite struct AgentBinaryTests {
    @Test func agent_linksNoSwiftLibrary_andRunsWithAnEmptyEnvironment() throws {
        let agent = ProcessRunner.productsFolder.appendingPathComponent("stellwerk-agent").path
        let folder = try Fixtures.temporaryFolder("agent-binary")
        let listing = folder.appendingPathComponent("ldd").path
        #expect(try Spawn.run("/usr/bin/ldd", [agent], standardOutput: listing).status == 0)
        let libraries = try String(contentsOfFile: listing, encoding: .utf8)
        #expect(libraries.contains("libsqlite3"))
        for shared in ["libswift", "libFoundation", "lib_Foundation", "libdispatch", "not found"] {
            #expect(!libraries.contains(shared), "\(libraries)")
        }

        let help = folder.appendingPathComponent("help").path
        let status = try Spawn.run("/usr/bin/env", ["-i", agent, "--help"], standardOutput: help).status
        #expect(status == 0)
        #expect(try String(contentsOfFile: help, encoding: .utf8).contains("join"))
    }

    @Test func agent_carriesNoWayToPauseItself() throws {
        // Fault tests stop an agent at a step with `stellwerk-test-agent`; the agent that ships must
        // not read any such switch from its environment.
        let agent = try Data(
            contentsOf: ProcessRunner.productsFolder.appendingPathComponent("stellwerk-agent"), options: .alwaysMapped)
        for marker in ["STELLWERK_AGENT_PAUSE_AT", "paused-at-"] {
            #expect(agent.firstRange(of: Data(marker.utf8)) == nil, "the agent binary holds \(marker)")
        }
        let testAgent = try Data(
            contentsOf: ProcessRunner.productsFolder.appendingPathComponent("stellwerk-test-agent"),
            options: .alwaysMapped)
        #expect(testAgent.firstRange(of: Data("paused-at-".utf8)) != nil, "the check above would find the hook")
    }
}
