/// A gauge's characteristic values (MNW, MW, MHW, HSW, …) as Pegelonline writes them and the
/// platform keeps them in a Datastream's `properties.pegelonline.characteristicValues`; the alert
/// rules, the Pegelonline view and the charts read them alike.
package enum CharacteristicValues {
    /// The list in a Datastream's properties; nil when there is none.
    package static func list(in properties: JSONValue) -> [JSONValue]? {
        guard case .array(let values)? = properties["pegelonline"]?["characteristicValues"] else { return nil }
        return values
    }

    /// The finite value with that shortname (case does not matter).
    package static func value(_ shortname: String, in values: [JSONValue]) -> Double? {
        let wanted = shortname.uppercased()
        return values.first { $0["shortname"]?.string?.uppercased() == wanted }?["value"]?.double.flatMap {
            $0.isFinite ? $0 : nil
        }
    }
}
