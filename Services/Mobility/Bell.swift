import ServiceLifecycle

/// Waits `duration`, or until `bell` rings (an import, a source's new data), whichever comes first;
/// returns early on a graceful shutdown too.
func wait(_ duration: Duration, orUntil bell: AsyncStream<Void>) async {
    try? await cancelWhenGracefulShutdown {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await Task.sleep(for: duration) }
            group.addTask { for await _ in bell { return } }
            try await group.next()
            group.cancelAll()
        }
    }
}
