/// The rule for names of blueprints, environments, sites, nodes, parameters and secrets.
package enum Names {
    package static let rule = "names are lowercase letters, digits, '-' and '_', start with a letter, at most 63 long"

    package static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first), name.unicodeScalars.count <= 63
        else { return false }
        return name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
        }
    }
}
