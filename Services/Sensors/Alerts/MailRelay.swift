import Foundation
import Glibc

/// Hands a plain-text mail to the municipality's SMTP relay (RFC 5321): EHLO, MAIL FROM, RCPT TO,
/// DATA, QUIT, on a blocking socket with timeouts, off the event loops. The relay is inside the
/// municipal network and delivers onwards; TLS and authentication towards it are not built yet.
struct MailRelay: Sendable {
    var host: String
    var port: Int
    var from: String
    var to: [String]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends one mail; throws what the relay answered when it refused.
    func send(subject: String, body: String, messageID: String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                do {
                    try self.sendBlocking(subject: subject, body: body, messageID: messageID)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    private func sendBlocking(subject: String, body: String, messageID: String) throws {
        let socket = try connect()
        defer { close(socket) }
        var reader = Reader(socket: socket)
        try reader.expect(220, after: "connecting")
        try write(socket, "EHLO stellwerk-sensors\r\n")
        try reader.expect(250, after: "EHLO")
        try write(socket, "MAIL FROM:<\(from)>\r\n")
        try reader.expect(250, after: "MAIL FROM")
        for recipient in to {
            try write(socket, "RCPT TO:<\(recipient)>\r\n")
            try reader.expect(250, after: "RCPT TO \(recipient)")
        }
        try write(socket, "DATA\r\n")
        try reader.expect(354, after: "DATA")
        try write(socket, message(subject: subject, body: body, messageID: messageID) + "\r\n.\r\n")
        try reader.expect(250, after: "the message")
        try write(socket, "QUIT\r\n")
    }

    /// The message: UTF-8 subject in RFC 2047 form, the body in Base64, so no line of it can be a
    /// lone dot or too long.
    func message(subject: String, body: String, messageID: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let encodedBody = Data(body.utf8).base64EncodedString(options: [
            .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
        ])
        return [
            "From: \(from)", "To: \(to.joined(separator: ", "))",
            "Subject: =?UTF-8?B?\(Data(subject.utf8).base64EncodedString())?=",
            "Date: \(formatter.string(from: Date()))", "Message-ID: <\(messageID)>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "", encodedBody,
        ].joined(separator: "\r\n")
    }

    private func connect() throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let first = found else {
            throw Failure(description: "cannot resolve the mail relay \(host)")
        }
        defer { freeaddrinfo(found) }
        let handle = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard handle >= 0 else { throw Failure(description: "cannot open a socket") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(handle, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(handle, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard Glibc.connect(handle, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            close(handle)
            throw Failure(description: "cannot reach the mail relay \(host):\(port): \(reason)")
        }
        return handle
    }

    private func write(_ socket: Int32, _ text: String) throws {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let sent = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "the mail relay closed the connection") }
            bytes = bytes.dropFirst(sent)
        }
    }

    /// Reads the relay's replies line by line; a multi-line reply ends with "CODE " (a space).
    private struct Reader {
        let socket: Int32
        var buffer: [UInt8] = []

        mutating func expect(_ code: Int, after step: String) throws {
            while true {
                let line = try readLine()
                guard line.count >= 3, let got = Int(line.prefix(3)) else {
                    throw Failure(description: "the mail relay answered '\(line.prefix(80))' to \(step)")
                }
                guard got == code else {
                    throw Failure(description: "the mail relay refused \(step): \(line.prefix(200))")
                }
                if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " { return }
            }
        }

        private mutating func readLine() throws -> String {
            while true {
                if let newline = buffer.firstIndex(of: 10) {
                    let line = String(decoding: buffer[..<newline], as: UTF8.self)
                    buffer.removeSubrange(...newline)
                    return line.hasSuffix("\r") ? String(line.dropLast()) : line
                }
                guard buffer.count < 64 << 10 else { throw Failure(description: "the mail relay's reply is too long") }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let count = recv(socket, &chunk, chunk.count, 0)
                guard count > 0 else { throw Failure(description: "the mail relay did not answer") }
                buffer += chunk[..<count]
            }
        }
    }
}
