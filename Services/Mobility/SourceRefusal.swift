/// Why a polled source's body (parking occupancy, traffic counts) was not taken.
package struct SourceRefusal: Error, CustomStringConvertible, Sendable {
    package var description: String
    init(_ description: String) { self.description = description }
}
