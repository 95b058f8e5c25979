import Foundation

/// A login account of the machine's own, for a test that signs in over SSH as someone other than
/// root (sshd signs in only users the system knows). Made once when missing, with a home folder and
/// no password (key login only, through a test sshd's own authorized_keys); with `sudo`, allowed to
/// run anything as root without one. Making accounts needs root — what a fresh CI machine has to
/// install its packages anyway.
package enum TestAccount {
    /// One that may not use sudo.
    package static let withoutSudo = "stellwerk-nosudo"
    /// One that may use sudo without a password.
    package static let withSudo = "stellwerk-sudo"

    private static let lock = NSLock()

    package static var available: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/useradd")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/sudo")
    }

    /// Makes `name` when the machine lacks it (`sudo`: with a sudoers rule of its own) and returns it.
    @discardableResult
    package static func ensure(_ name: String, sudo: Bool = false) throws -> String {
        guard available else {
            throw TestServerError("making the test account \(name) needs root, useradd and sudo (install sudo)")
        }
        try lock.withLock {
            if getpwnam(name) == nil {
                // "*": no password can match, yet the account is not locked ("!"), which sshd without
                // PAM would refuse even for a key.
                let made = try Spawn.run(
                    "/usr/sbin/useradd", ["--create-home", "--shell", "/bin/sh", "--password", "*", name]
                ).status
                guard made == 0, getpwnam(name) != nil else {
                    throw TestServerError("useradd could not make the test account \(name) (exit \(made))")
                }
            }
            guard sudo else { return }
            let rule = "/etc/sudoers.d/\(name)"
            guard !FileManager.default.fileExists(atPath: rule) else { return }
            try Data("\(name) ALL=(root) NOPASSWD: ALL\n".utf8).write(to: URL(fileURLWithPath: rule))
            try FileManager.default.setAttributes([.posixPermissions: 0o440], ofItemAtPath: rule)
        }
        return name
    }

    /// The account's home folder.
    package static func home(_ name: String) -> String {
        guard let entry = getpwnam(name) else { return "/nonexistent" }
        return String(cString: entry.pointee.pw_dir)
    }
}
