import Foundation
import Mobility
import TestSupport
import Testing
import Visualization

/// Dashboard files read strictly, with every problem at its line and column, and the shipped files
/// of every environment valid and naming the seeded gauges of their own site.
struct DashboardParserTests {
    static func parse(_ text: String) throws(DashboardFileError) -> DashboardFile {
        var parser = DashboardParser(file: "dashboards.yaml")
        return try parser.parse(text)
    }

    @Test func validFile_givesDashboardsPanelsAndSources() throws {
        let file = try Self.parse(
            """
            sources:
              kusel: https://sensoren.kusel.example/
            dashboards:
              - id: pegel
                title: Pegel
                title_en: Gauges
                panels:
                  - {id: jetzt, type: stat, datastream: 3}
                  - id: verlauf
                    type: timeseries
                    datastream: "Wasserstand Kusel"
                    range: 31d
                    thresholds: [{value: 150, label: Meldestufe 1}, {value: 200.5, label: Meldestufe 2}]
                  - {id: zaehlung, type: bars, datastream: "4", bucket: 1d, aggregate: sum, dataset: verkehr-2026}
                  - {id: karte, type: overview, sources: [sensors, kusel]}

            """)
        #expect(file.sources == ["kusel": "https://sensoren.kusel.example"])
        let dashboard = try #require(file.dashboard("pegel"))
        #expect(
            dashboard.titleEnglish == "Gauges"
                && dashboard.panels.map(\.id) == ["jetzt", "verlauf", "zaehlung", "karte"])
        #expect(dashboard.panels[0].datastream == .id(3) && dashboard.panels[0].range == "24h")
        #expect(dashboard.panels[1].datastream == .name("Wasserstand Kusel") && dashboard.panels[1].range == "31d")
        #expect(
            dashboard.panels[1].thresholds
                == .given([.init(name: "Meldestufe 1", threshold: 150), .init(name: "Meldestufe 2", threshold: 200.5)]))
        // A quoted number is a name: a datastream may well be called "4".
        #expect(dashboard.panels[2].datastream == .name("4"))
        #expect(dashboard.panels[2].bucket == 86_400_000 && dashboard.panels[2].aggregate == .sum)
        #expect(dashboard.panels[2].dataset == "verkehr-2026")
        #expect(dashboard.panels[3].sources == ["sensors", "kusel"])
    }

    @Test func emptyFile_definesNoDashboards() throws {
        #expect(try Self.parse("").dashboards.isEmpty)
        #expect(try Self.parse("# nothing yet\n").dashboards.isEmpty)
    }

    @Test(arguments: [
        ("dashboards: [\n", "2:1", "did not find expected node content"),
        ("- a\n", "1:1", "the dashboard file must be a mapping, found a list"),
        ("sources: {}\n", "1:1", "the dashboard file has no 'dashboards' list"),
        ("dashboards: []\nextra: 1\n", "extra", "unknown key 'extra' in the dashboard file"),
        (
            "dashboards:\n  - {id: A, title: T, panels: [{id: a, type: stat, datastream: 1}]}\n", "A, title",
            "dashboard id 'A' must be lowercase"
        ),
        (
            "dashboards:\n  - {id: a, panels: [{id: a, type: stat, datastream: 1}]}\n", "{id: a, panels",
            "dashboard 'a' needs 'title'"
        ),
        ("dashboards:\n  - {id: a, title: T, panels: []}\n", "[]}", "dashboard 'a' has no panels"),
        (
            "dashboards:\n  - {id: a, title: T, panels: [{id: p, type: torte}]}\n", "torte",
            "the type 'torte' of panel 'p' is not one of"
        ),
        (
            "dashboards:\n  - {id: a, title: T, panels: [{id: p, type: stat}]}\n", "{id: p",
            "panel 'p' of type stat needs a datastream"
        ),
        (
            "dashboards:\n  - {id: a, title: T, panels: [{id: p, type: stat, datastream: 0}]}\n", "0}",
            "datastream id of panel 'p' must be positive"
        ),
        (
            "dashboards:\n  - {id: a, title: T, panels: [{id: p, type: stat, datastream: 1, range: 1y}]}\n", "1y",
            "the range '1y' of panel 'p' is not one of 24h, 7d, 31d"
        ),
        (
            "dashboards:\n  - {id: a, title: T, panels: [{id: p, type: stat, datastream: 1, source: weg}]}\n", "weg",
            "reads the source 'weg', which the file's sources do not name"
        ),
        (
            "dashboards:\n  - {id: a, title: T, panels: [{id: p, type: stat, datastream: 1, bucket: 1d}]}\n", "bucket",
            "'bucket' applies to bars panels only"
        ),
        (
            "dashboards:\n  - {id: a, title: T, panels: [{id: p, type: bars, datastream: 1, aggregate: median}]}\n",
            "median", "the aggregate 'median' of panel 'p' is not one of max, min, mean, sum"
        ),
        (
            "dashboards:\n  - {id: a, title: T, panels: [{id: p, type: overview, datastream: 1}]}\n", "datastream",
            "'datastream' does not apply to panel 'p' of type overview"
        ),
        (
            "dashboards:\n  - {id: a, title: T, panels: [{id: p, type: stat, datastream: 1, thresholds: [{value: 2, label: B}, {value: 1, label: A}]}]}\n",
            "1, label: A", "the thresholds of panel 'p' must rise"
        ),
        (
            "dashboards:\n  - {id: a, title: T, panels: [{id: p, type: stat, datastream: 1, thresholds: [{value: .nan, label: A}]}]}\n",
            ".nan", "the threshold value of panel 'p' is not a number"
        ),
        (
            "dashboards:\n  - {id: a, title: T, panels: [{id: p, type: stat, datastream: 1, dataset: \"Pegel Kusel\"}]}\n",
            "\"Pegel Kusel\"", "is not a catalog dataset name"
        ),
        (
            "dashboards:\n  - {id: a, title: T, panels: [{id: p, type: stat, datastream: 1}, {id: p, type: stat, datastream: 2}]}\n",
            "{id: p, type: stat, datastream: 2}", "a panel with the id 'p' is on this dashboard already"
        ),
        (
            "sources: {sensors: http://a.example}\ndashboards: []\n", "sensors:",
            "'sensors' is the site's own sensor service"
        ),
        ("sources: {b: ftp://a.example}\ndashboards: []\n", "ftp:", "source 'b' is not an http(s) URL"),
        (
            "dashboards:\n  - {id: a, title: T, title: U, panels: [{id: p, type: stat, datastream: 1}]}\n", "title: T",
            "'title' appears twice"
        ),
    ])
    func badFile_isRefusedAtItsLineAndColumn(text: String, at place: String, message: String) throws {
        // Where the problem is: a piece of the text that starts there, or LINE:COLUMN.
        var position = place
        if let range = text.range(of: place) {
            let before = text[..<range.lowerBound]
            let line = before.filter { $0 == "\n" }.count + 1
            let column = before.split(separator: "\n", omittingEmptySubsequences: false).last!.count + 1
            position = "\(line):\(column)"
        }
        do {
            _ = try Self.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            let problem = try #require(error.problems.first)
            #expect("\(problem.line):\(problem.column)" == position, "\(problem)")
            #expect(problem.message.contains(message), "\(problem)")
            #expect(problem.description.hasPrefix("dashboards.yaml:\(position): error: "))
        }
    }

    @Test func allProblems_areReportedTogether_inOrder() throws {
        do {
            _ = try Self.parse(
                "dashboards:\n  - {id: a, title: T, panels: [{id: p, type: torte}]}\n  - {id: B, title: T, panels: []}\n"
            )
            Issue.record("accepted")
        } catch {
            #expect(error.problems.map(\.line) == [2, 3, 3], "\(error)")
        }
    }

    /// Every environment's dashboard files are valid, every site that runs the visualization service
    /// gives one, and each datastream they name is one the seed creates at that site, or one the
    /// site's mobility service makes for its car parks and counting stations.
    @Test func shippedDashboards_areValid_andNameTheSeededGaugesOfTheirSite() throws {
        let root = Fixtures.repositoryRoot
        let gauges = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: root.appendingPathComponent("Services/Seed/gauges.json"))) as? [String: Any])
        var names: [String: Set<String>] = [:]
        for gauge in gauges["gauges"] as? [[String: Any]] ?? [] {
            let site = try #require(gauge["site"] as? String)
            let longname = try #require(gauge["longname"] as? String)
            names[site, default: []].insert("Wasserstand \(longname.capitalized)")
        }
        let environments = try FileManager.default.contentsOfDirectory(
            atPath: root.appendingPathComponent("Environments").path)
        var checked = 0
        for environment in environments {
            let sites = root.appendingPathComponent("Environments/\(environment)/sites")
            for file in try FileManager.default.contentsOfDirectory(atPath: sites.path) where file.hasSuffix(".yaml") {
                let site = String(file.dropLast(5))
                let text = try String(contentsOf: sites.appendingPathComponent(file), encoding: .utf8)
                var known = names[site] ?? []
                let folder = root.appendingPathComponent("Environments/\(environment)")
                if text.contains("parking_sites: {file: parking/\(site).yaml}") {
                    let path = folder.appendingPathComponent("parking/\(site).yaml").path
                    known.formUnion(try ParkingSitesFile.load(path, updatedAt: Date()).values.map(\.historyName))
                }
                if text.contains("counting_stations: {file: counts/\(site).yaml}") {
                    let path = folder.appendingPathComponent("counts/\(site).yaml").path
                    for station in try CountingStationsFile.load(path).values {
                        known.formUnion(station.modes.map { station.historyName(of: $0) })
                    }
                }
                guard text.contains("  visualization:") else { continue }
                #expect(text.contains("dashboards: {file: dashboards/\(site).yaml}"), "\(environment)/\(site)")
                let path = root.appendingPathComponent("Environments/\(environment)/dashboards/\(site).yaml").path
                let dashboards = try DashboardParser.load(path)
                #expect(!dashboards.dashboards.isEmpty, "\(path)")
                for panel in dashboards.dashboards.flatMap(\.panels) {
                    if case .name(let name)? = panel.datastream {
                        #expect(known.contains(name), "\(path): \(name)")
                    }
                }
                checked += 1
            }
        }
        #expect(checked == 16)
    }
}
