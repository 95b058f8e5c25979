package import FoundationEssentials
import Glibc

/// Standard input, output and error as plain file descriptors: the agent links only
/// FoundationEssentials, which has no FileHandle.
package enum StandardStreams {
    package enum Output {
        case output, error
        var descriptor: Int32 { self == .output ? 1 : 2 }
    }

    package static func write(_ data: Data, to stream: Output) {
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(stream.descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    package static func readInput() throws -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else {
                throw AgentError("cannot read standard input: \(String(cString: strerror(errno)))")
            }
            if count == 0 { return data }
            data.append(contentsOf: buffer[..<count])
        }
    }
}

extension String {
    /// The text without the blanks and line ends around it, as tokens and keys are read from files.
    package var trimmedOfWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
