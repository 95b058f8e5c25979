import Foundation
import HTTPTransport
import SensorThings
import Synchronization

/// The titles of the catalog datasets that panels link, read through the catalog's CKAN API
/// (`package_show`) like any CKAN client, and kept for as long as a chart is.
final class DatasetTitles: Sendable {
    /// What the catalog said about a dataset.
    enum Answer: Sendable, Equatable {
        case title(String)
        /// The catalog has no such dataset.
        case missing
        /// The catalog did not answer, or not as CKAN does.
        case unavailable
    }

    private let catalogURL: String?
    private let timeout: Duration
    private let lifetime: Int64
    private let http = HTTPExchange()
    private let kept = Mutex<[String: (answer: Answer, until: Int64)]>([:])

    init(catalogURL: String?, timeout: Duration, lifetimeMilliseconds: Int64) {
        self.catalogURL = catalogURL
        self.timeout = timeout
        lifetime = lifetimeMilliseconds
    }

    /// The dataset's title; nil when no catalog is configured.
    func title(of name: String, now: Int64) async -> Answer? {
        guard let catalogURL else { return nil }
        if let kept = kept.withLock({ $0[name] }), kept.until > now { return kept.answer }
        var components = URLComponents(string: "\(catalogURL)/api/3/action/package_show")
        components?.queryItems = [URLQueryItem(name: "id", value: name)]
        var answer = Answer.unavailable
        if let url = components?.url?.absoluteString,
            let reply = try? await http.fetch(url, timeout: timeout, limit: 4 << 20)
        {
            if reply.status == 404 {
                answer = .missing
            } else if reply.status == 200, let document = try? JSONParser.parse(Array(reply.body)),
                let title = document["result"]?["title"]?.string, !title.isEmpty
            {
                answer = .title(String(title.prefix(200)))
            }
        }
        // A catalog that does not answer is asked again soon, not after a whole lifetime.
        let until = now + (answer == .unavailable ? min(lifetime, 5000) : lifetime)
        kept.withLock { kept in
            if kept.count > 1000 { kept.removeAll() }
            kept[name] = (answer, until)
        }
        return answer
    }
}
