package import Foundation

/// Generates valid workspaces of any size from the shipped blueprints: for property-style tests
/// (many small random environments) and for the benchmarks (one large one).
///
/// ```swift
/// let files = try SyntheticWorkspace(seed: 7, sites: 50, nodesPerSite: 20).files()
/// ```
package struct SyntheticWorkspace: Sendable {
    package var seed: UInt64
    package var sites: Int
    package var nodesPerSite: ClosedRange<Int>
    /// Where the shipped `Blueprints/` are read from.
    package var blueprintRoot: URL

    package init(seed: UInt64, sites: Int, nodesPerSite: Int, blueprintRoot: URL = Fixtures.repositoryRoot) {
        self.init(seed: seed, sites: sites, nodesPerSite: nodesPerSite...nodesPerSite, blueprintRoot: blueprintRoot)
    }

    package init(seed: UInt64, sites: Int, nodesPerSite: ClosedRange<Int>, blueprintRoot: URL = Fixtures.repositoryRoot)
    {
        self.seed = seed
        self.sites = sites
        self.nodesPerSite = nodesPerSite
        self.blueprintRoot = blueprintRoot
    }

    /// The files of the workspace, with one environment `synthetic` and the shipped blueprints.
    /// With `shuffled`, sites list their nodes and services in another order (same meaning).
    package func files(shuffled: Bool = false) throws -> [String: String] {
        var generator = SplitMix64(seed: seed)
        var files: [String: String] = [:]
        for name in ["catalog", "portal", "sensors", "visualization"] {
            let url = blueprintRoot.appendingPathComponent("Blueprints/\(name).yaml")
            files["Blueprints/\(name).yaml"] = try String(contentsOf: url, encoding: .utf8)
        }
        files["Environments/synthetic/environment.yaml"] = """
            name: synthetic
            description: Generated with seed \(seed).
            rollout: {canary: 2, max_in_flight: 10%}

            """
        var shuffler = SplitMix64(seed: seed ^ 0x5EED)
        for siteIndex in 0..<sites {
            let site = "site-\(siteIndex)"
            let nodeCount = Int.random(in: nodesPerSite, using: &generator)
            var nodes: [String] = []
            var hasIngest = false
            for nodeIndex in 0..<nodeCount {
                // Every site keeps at least its first node for the app role, so placements always match.
                let ingest = nodeIndex > 0 && Bool.random(using: &generator)
                hasIngest = hasIngest || ingest
                let address = "127.\(1 + siteIndex / 250).\(siteIndex % 250).\(nodeIndex + 1)"
                nodes.append(
                    """
                      - name: \(site)-node-\(nodeIndex)
                        address: \(address)
                        labels: {role: \(ingest ? "ingest" : "app"), rack: r\(Int.random(in: 1...4, using: &generator))}

                    """)
            }
            let portBase = 8000 + Int.random(in: 0...50, using: &generator) * 10
            let domain = "\(site).example"
            var services: [String] = []
            if siteIndex == 0 {
                services.append(
                    """
                      catalog:
                        parameters:
                          port: \(portBase + 1)
                          public_url: https://katalog.\(domain)
                          publisher_name: Verwaltung \(siteIndex)
                          admin_token: {secret: catalog-admin-token}
                          page_size: \(Int.random(in: 10...1000, using: &generator))

                    """)
            }
            services.append(
                """
                  portal:
                    parameters:
                      port: \(portBase + 2)
                      public_url: https://opendata.\(domain)
                      site_title: Offene Daten \(siteIndex)
                      imprint_url: https://www.\(domain)/impressum
                      privacy_url: https://www.\(domain)/datenschutz
                      language: \(Bool.random(using: &generator) ? "de" : "en")
                \(siteIndex == 0 ? "" : "    dependencies:\n      catalog: {site: site-0}\n")
                """)
            let sensorsPlacement = hasIngest ? "    placement:\n      labels: {role: ingest}\n" : ""
            services.append(
                """
                  sensors:
                \(sensorsPlacement)    parameters:
                      port: \(portBase + 4)
                      public_url: https://opendata.\(domain)/sensoren
                      mqtt_password: {secret: \(site)-mqtt}
                      retention: \(Int.random(in: 1...900, using: &generator))d

                """)
            services.append(
                """
                  visualization:
                \(sensorsPlacement)    parameters:
                      port: \(portBase + 3)
                      public_url: https://opendata.\(domain)/grafiken
                \(siteIndex == 0 ? "" : "    dependencies:\n      catalog: {site: site-0}\n")
                """)
            if shuffled {
                nodes.shuffle(using: &shuffler)
                services.shuffle(using: &shuffler)
            }
            files["Environments/synthetic/sites/\(site).yaml"] =
                "name: \(site)\ndisplay_name: Gemeinde \(siteIndex)\nnodes:\n" + nodes.joined()
                + "services:\n" + services.joined()
        }
        return files
    }
}

/// A small, fast, seedable random number generator, so generated inputs repeat exactly.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    package init(seed: UInt64) {
        state = seed
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
