import StellwerkAPI
import Testing

/// Nodes roll out in the order people count them.
struct NaturalOrderTests {
    @Test func numbersInNames_compareByValue() {
        let names = ["node10", "node2", "node1", "node11", "node02", "kl-sbx-2", "kl-sbx-10", "kl", "a"]
        #expect(
            names.sorted(by: NaturalOrder.less) == [
                "a", "kl", "kl-sbx-2", "kl-sbx-10", "node1", "node2", "node02", "node10", "node11",
            ])
        #expect(!NaturalOrder.less("n1", "n1"))
        #expect(NaturalOrder.less("n9", "n10") && !NaturalOrder.less("n10", "n9"))
        // Numbers longer than any integer type compare without overflow.
        #expect(NaturalOrder.less("n99999999999999999999998", "n99999999999999999999999"))
    }
}
