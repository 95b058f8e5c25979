/// Everything loaded from a Stellwerk folder: blueprints, environments with their sites, and the
/// revision that identifies the exact content.
package struct Workspace: Sendable {
    /// Blueprints by name.
    package var blueprints: [String: Blueprint]
    /// Environments by name.
    package var environments: [String: EnvironmentDefinition]
    /// Paths of the site templates for onboarding, under `Blueprints/templates/`.
    package var siteTemplates: [String]
    /// SHA-256 over every file read (path and bytes), lowercase hex.
    package var revision: String
    /// Names of blueprint files that could not be read; uses of them are not reported again.
    package var brokenBlueprints: Set<String> = []
    /// Names of environment folders whose environment.yaml could not be read.
    package var brokenEnvironments: Set<String> = []
    /// The text of each file a site gives as a parameter value (`{file: PATH}`), by its workspace path.
    package var parameterFiles: [String: String] = [:]
    /// Warnings found while loading; errors make loading fail instead.
    package var warnings: [Diagnostic]

    /// Names of all environments, sorted.
    package var environmentNames: [String] { environments.keys.sorted() }
}

/// Options for loading a workspace.
package struct WorkspaceOptions: Sendable {
    /// Products this repository builds, which blueprints may name as their component.
    package var knownProducts: Set<String>
    /// Whether blueprints must name known products; reading only the environments' policies does
    /// not depend on what a release carries.
    package var checksProducts = true
    package var limits: YAMLLimits

    /// - Parameters:
    ///   - knownProducts: Products blueprints may name (default: `datenplattform`).
    ///   - limits: Bounds for each YAML file (default: ``YAMLLimits/init(maxBytes:maxDepth:)``).
    package init(knownProducts: Set<String> = ["datenplattform"], limits: YAMLLimits = YAMLLimits()) {
        self.knownProducts = knownProducts
        self.limits = limits
    }
}
