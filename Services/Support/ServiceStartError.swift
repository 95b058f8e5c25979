/// Why a service cannot start or run a command: a configuration file that cannot be read, a database
/// that cannot be opened, at the wrong schema, or a file to import that is not what it should be. One
/// line that names the file or setting.
package struct ServiceStartError: Error, CustomStringConvertible, Sendable {
    package var description: String
    package init(_ description: String) { self.description = description }
}
