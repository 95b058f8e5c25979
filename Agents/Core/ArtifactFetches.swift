/// One fetch of an artifact at a time, per artifact: instances that converge side by side and need
/// the same artifact (the catalog and the portal are one product) must not download it into the same
/// file at once; the later ones wait and find it in the cache.
actor ArtifactFetches {
    static let shared = ArtifactFetches()
    private var busy: Set<String> = []
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    func one<Result: Sendable>(at sha256: String, _ body: @Sendable () async throws -> Result) async throws -> Result {
        while busy.contains(sha256) { await withCheckedContinuation { waiting[sha256, default: []].append($0) } }
        busy.insert(sha256)
        defer {
            busy.remove(sha256)
            for continuation in waiting.removeValue(forKey: sha256) ?? [] { continuation.resume() }
        }
        return try await body()
    }
}
