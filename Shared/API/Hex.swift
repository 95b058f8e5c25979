extension Sequence<UInt8> {
    /// The bytes as lowercase hexadecimal digits, as digests and fingerprints are written.
    package var lowercaseHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// Checks for text written in hexadecimal.
package enum Hex {
    /// Whether `text` is a SHA-256 as Stellwerk writes it: 64 lowercase ASCII hex digits, and so safe
    /// as a file name and in a command.
    package static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
