/// Bounds that keep hostile or broken YAML from costing more than a clear error.
package struct YAMLLimits: Sendable {
    /// Largest file read, in bytes. Default 1 MiB: the largest real site file is a few kilobytes.
    package var maxBytes: Int
    /// Deepest nesting of mappings and lists. Default 32: the formats need at most 8.
    package var maxDepth: Int

    /// - Parameters:
    ///   - maxBytes: Largest file read, in bytes (default 1 MiB).
    ///   - maxDepth: Deepest nesting of mappings and lists (default 32).
    package init(maxBytes: Int = 1 << 20, maxDepth: Int = 32) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
    }
}
