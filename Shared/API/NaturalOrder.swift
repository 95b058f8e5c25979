/// Names in the order people count them: `node2` before `node10`, as a run of digits compares by its
/// number. Nodes are rolled out in this order (docs/operations.md).
package enum NaturalOrder {
    package static func less(_ left: String, _ right: String) -> Bool {
        var a = Substring(left)
        var b = Substring(right)
        while let x = a.first, let y = b.first {
            if x.isASCII, x.isNumber, y.isASCII, y.isNumber {
                let digitsA = a.prefix { $0.isASCII && $0.isNumber }
                let digitsB = b.prefix { $0.isASCII && $0.isNumber }
                // Leading zeros do not count; a longer number is the larger one.
                let numberA = digitsA.drop { $0 == "0" }
                let numberB = digitsB.drop { $0 == "0" }
                if numberA.count != numberB.count { return numberA.count < numberB.count }
                if numberA != numberB { return numberA < numberB }
                if digitsA.count != digitsB.count { return digitsA.count < digitsB.count }
                a = a.dropFirst(digitsA.count)
                b = b.dropFirst(digitsB.count)
                continue
            }
            if x != y { return x < y }
            a = a.dropFirst()
            b = b.dropFirst()
        }
        return a.isEmpty && !b.isEmpty
    }
}
