import Foundation
import HTTPTransport
import NIOSSL

/// Fetches the beginning of a resource for its preview, on the server side so that a visitor's
/// browser never asks a third party: only from the hosts the site allows (a resource address is
/// whatever a publisher typed, and the answer is shown to anyone), at most `maxBytes` (asked for
/// with a Range request), within `timeout`. An answer is kept for a minute, so a busy dataset page
/// does not fetch its file at every view.
actor PreviewFetcher {
    typealias Outcome = Result<DataPreview, DataPreview.Unavailable>

    let hosts: Set<String>
    let maxBytes: Int
    let timeout: Int64
    private let http = HTTPExchange(tls: try? NIOSSLContext(configuration: .makeClientConfiguration()))
    private var kept: [String: (at: ContinuousClock.Instant, outcome: Outcome)] = [:]
    private static let keptFor = Duration.seconds(60)
    private static let keptMost = 100

    init(hosts: [String], maxBytes: Int, timeout: Int64) {
        self.hosts = Set(hosts.map { $0.lowercased() })
        self.maxBytes = maxBytes
        self.timeout = timeout
    }

    /// The preview of `resource`; nil when its format has none (or the site allows no host).
    func preview(of resource: CKANResource) async -> Outcome? {
        guard !hosts.isEmpty, let kind = DataPreview.kind(format: resource.format, url: resource.url) else {
            return nil
        }
        guard let components = URLComponents(string: resource.url),
            ["http", "https"].contains(components.scheme?.lowercased() ?? ""), let host = components.host?.lowercased()
        else { return .failure(.fetchFailed("not an http(s) address")) }
        guard hosts.contains(host) else { return .failure(.notAllowed(host: host)) }
        if let known = kept[resource.url], ContinuousClock.now - known.at < Self.keptFor { return known.outcome }
        let outcome = await fetch(resource, as: kind)
        if kept.count >= Self.keptMost { kept = kept.filter { ContinuousClock.now - $0.value.at < Self.keptFor } }
        if kept.count < Self.keptMost { kept[resource.url] = (.now, outcome) }
        return outcome
    }

    private func fetch(_ resource: CKANResource, as kind: DataPreview.Kind) async -> Outcome {
        let answer: HTTPAnswer
        do {
            answer = try await http.fetch(
                resource.url, headers: [("Range", "bytes=0-\(maxBytes - 1)")], timeout: .seconds(timeout),
                limit: maxBytes)
        } catch HTTPExchange.Failure.tooLarge {
            return .failure(.tooLarge(limit: maxBytes))
        } catch HTTPExchange.Failure.timedOut {
            return .failure(.fetchFailed("no answer within \(timeout) s"))
        } catch {
            return .failure(.fetchFailed("\(error)"))
        }
        // 206: the first maxBytes of a larger file (its last line cut); 200: the whole file.
        guard answer.status == 200 || answer.status == 206 else {
            return .failure(.fetchFailed("HTTP \(answer.status)"))
        }
        let bytes = [UInt8](answer.body)
        let partial = answer.status == 206 && !Self.isWhole(answer, count: bytes.count)
        do {
            return .success(try DataPreview.read(bytes, as: kind, truncated: partial))
        } catch {
            return .failure(error)
        }
    }

    /// Whether a 206 answer's Content-Range says it is the whole file after all (`bytes 0-99/100`).
    private static func isWhole(_ answer: HTTPAnswer, count: Int) -> Bool {
        guard let range = answer.headers.first(where: { $0.name.lowercased() == "content-range" })?.value,
            let total = range.split(separator: "/").last.flatMap({ Int($0) })
        else { return false }
        return total == count
    }
}
