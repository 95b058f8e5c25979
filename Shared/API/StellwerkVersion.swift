/// The version every Stellwerk executable reports.
public enum StellwerkVersion {
    /// The version string, bumped with each tagged release of Stellwerk itself.
    public static let current = "0.1.0-dev"
}
