import Foundation

/// A tiny HTTP service for the agent's tests: it answers `GET /health` with the status its flags
/// say, `GET /pid` with its process ID, and can crash or hang on purpose.
///
///     stellwerk-test-service --host 127.0.0.1 --port 9001 [--health 200|503] [--crash-after SECONDS]
///         [--ignore-sigterm] [--read FILE] [--healthy-after SECONDS [--ready-file FILE]]
///
/// `--read FILE` answers `GET /file` with the file's contents (to check rendered config).
///
///     stellwerk-test-service migrate --append FILE --text TEXT [--once] [--fail] [--fail-if PATH]
///         [--sleep S [--sleep-if-exists PATH]]
///
/// stands in for a migration: it appends TEXT to FILE (changing the data), then fails if asked.
/// With `--sql SQL --database-from FILE` it first runs SQL with psql in the database whose URL
/// follows `database:` in FILE (its rendered config), as a migration of a PostgreSQL-backed service.
@main
enum TestService {
    static func main() {
        if CommandLine.arguments.dropFirst().first == "migrate" { migrate() }
        var options: [String: String] = [:]
        var flags = Set<String>()
        var arguments = CommandLine.arguments.dropFirst()
        while let argument = arguments.popFirst() {
            guard argument.hasPrefix("--") else { continue }
            if argument == "--ignore-sigterm" {
                flags.insert(argument)
            } else if let value = arguments.popFirst() {
                options[argument] = value
            }
        }
        let host = options["--host"] ?? "127.0.0.1"
        guard let port = options["--port"].flatMap(UInt16.init) else {
            FileHandle.standardError.write(Data("test-service: --port is required\n".utf8))
            exit(2)
        }
        let health = Int(options["--health"] ?? "200") ?? 200
        let unhealthyAfter = options["--unhealthy-after"].flatMap(Double.init).map { Date().addingTimeInterval($0) }
        // Ready only after a while, as a real service that loads something first; the moment it turns
        // healthy goes to --ready-file (seconds since 1970), so a test can tell how soon it was seen.
        let healthyFrom = options["--healthy-after"].flatMap(Double.init).map { Date().addingTimeInterval($0) }
        if let healthyFrom, let file = options["--ready-file"] {
            try? Data("\(healthyFrom.timeIntervalSince1970)".utf8).write(to: URL(fileURLWithPath: file))
        }
        if flags.contains("--ignore-sigterm") { signal(SIGTERM, SIG_IGN) }
        if let seconds = options["--crash-after"].flatMap(Double.init) {
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: seconds)
                FileHandle.standardError.write(Data("test-service: crashing as asked\n".utf8))
                exit(3)
            }
        }
        FileHandle.standardOutput.write(Data("test-service \(getpid()) listening on \(host):\(port)\n".utf8))
        serve(
            host: host, port: port, health: health, unhealthyAfter: unhealthyAfter, healthyFrom: healthyFrom,
            file: options["--read"])
    }

    static func migrate() {
        let arguments = Array(CommandLine.arguments.dropFirst(2))
        func value(_ name: String) -> String? {
            arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
        }
        // With --once the text is appended only if the file does not hold it yet, as a versioned
        // migration that already ran does nothing.
        let already = value("--append").flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        // A long migration: it has read the data and works on it for a while before it writes; with
        // --sleep-if-exists only while that file is there when it starts (the first run, say).
        if let seconds = value("--sleep").flatMap(Double.init),
            value("--sleep-if-exists").map({ FileManager.default.fileExists(atPath: $0) }) ?? true
        {
            Thread.sleep(forTimeInterval: seconds)
        }
        if let sql = value("--sql"), let config = value("--database-from") {
            let text = (try? String(contentsOfFile: config, encoding: .utf8)) ?? ""
            guard
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix("database: ") }),
                var url = URLComponents(string: String(line.dropFirst("database: ".count)))
            else {
                FileHandle.standardError.write(Data("test-service: no database: line in \(config)\n".utf8))
                exit(7)
            }
            let password = url.password ?? ""
            url.password = nil
            let psql = Process()
            psql.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
            psql.arguments = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql, url.string ?? ""]
            psql.environment = ["PGPASSWORD": password, "PATH": "/usr/bin:/bin"]
            do {
                try psql.run()
                psql.waitUntilExit()
            } catch {
                FileHandle.standardError.write(Data("test-service: cannot run psql: \(error)\n".utf8))
                exit(7)
            }
            guard psql.terminationStatus == 0 else { exit(8) }
        }
        if let path = value("--append"), let text = value("--text"),
            !(arguments.contains("--once") && already.contains(text))
        {
            let handle =
                FileHandle(forWritingAtPath: path)
                ?? {
                    _ = FileManager.default.createFile(atPath: path, contents: nil)
                    return FileHandle(forWritingAtPath: path)
                }()
            handle?.seekToEndOfFile()
            handle?.write(Data(text.utf8))
            try? handle?.close()
        }
        // Data the migration cannot convert: it has already changed FILE when it meets it, as a real
        // migration that stops halfway would have.
        if let poison = value("--fail-if"), FileManager.default.fileExists(atPath: poison), let path = value("--append")
        {
            let handle = FileHandle(forWritingAtPath: path)
            handle?.seekToEndOfFile()
            handle?.write(Data("halb migriert\n".utf8))
            try? handle?.close()
            FileHandle.standardError.write(Data("test-service: cannot convert \(poison)\n".utf8))
            exit(6)
        }
        if arguments.contains("--fail") {
            FileHandle.standardError.write(Data("test-service: migration failed as asked\n".utf8))
            exit(5)
        }
        exit(0)
    }

    static func serve(
        host: String, port: UInt16, health: Int, unhealthyAfter: Date?, healthyFrom: Date?, file: String?
    ) {
        // A client that hangs up before its answer is written (a health probe that timed out on a busy
        // machine) must not end the service: without this, the write raised SIGPIPE, the process died,
        // the agent restarted it, and the connections waiting in its queue were closed unanswered.
        signal(SIGPIPE, SIG_IGN)
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            FileHandle.standardError.write(Data("test-service: cannot listen on \(host):\(port)\n".utf8))
            exit(4)
        }
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            // Each client on a thread of its own: one slow or silent client must not stop the service
            // answering everyone else, and a client slow to send its request on a busy machine gets
            // time to (closing on it after a short wait reset the connection under the client).
            Thread.detachNewThread {
                answer(client, health: health, unhealthyAfter: unhealthyAfter, healthyFrom: healthyFrom, file: file)
            }
        }
    }

    static func answer(_ client: Int32, health: Int, unhealthyAfter: Date?, healthyFrom: Date?, file: String?) {
        var limit = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        // The whole head, however many reads it takes: closing with part of it unread would make
        // the kernel reset the connection, and the client could lose the answer.
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < 65536 {
            let count = read(client, &buffer, buffer.count)
            guard count > 0 else { break }
            received += buffer[0..<count]
            if received.count >= 4 && received.suffix(4) == [13, 10, 13, 10] { break }
        }
        let request = String(decoding: received, as: UTF8.self)
        let path = request.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        let (status, body): (Int, String)
        switch path {
        case "/health":
            var current = unhealthyAfter.map { Date() > $0 ? 503 : health } ?? health
            if let healthyFrom, Date() < healthyFrom { current = 503 }
            (status, body) = (current, current == 200 ? "ok\n" : "unhealthy\n")
        case "/pid": (status, body) = (200, "\(getpid())\n")
        case "/file":
            (status, body) = (200, file.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? "")
        default: (status, body) = (404, "not found\n")
        }
        let response =
            "HTTP/1.1 \(status) X\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        _ = response.withCString { write(client, $0, strlen($0)) }
        close(client)
    }
}
