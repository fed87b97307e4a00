import Foundation
import Glibc
import Logging
import Testing

@testable import RelayDaemon

@Suite("systemd notify and journald lines")
struct SystemdTests {
    /// Binds a datagram socket at `path` (abstract when it starts with "@") and returns its fd.
    static func listen(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        precondition(bound == 0)
        return fd
    }

    static func receive(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }

    @Test("notifications reach a path socket and an abstract socket; without NOTIFY_SOCKET nothing is sent")
    func notify() {
        let path = NSTemporaryDirectory() + "vr-notify-\(getpid()).sock"
        unlink(path)
        let fd = Self.listen(path)
        defer {
            close(fd)
            unlink(path)
        }
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": path]).notify("READY=1\nSTATUS=serving"))
        #expect(Self.receive(fd) == "READY=1\nSTATUS=serving")

        let abstract = "@vr-notify-\(getpid())"
        let afd = Self.listen(abstract)
        defer { close(afd) }
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": abstract]).notify("WATCHDOG=1"))
        #expect(Self.receive(afd) == "WATCHDOG=1")
        #expect(!SystemdNotifier(environment: [:]).notify("READY=1"))
    }

    @Test("the watchdog interval comes from WATCHDOG_USEC, only for this process")
    func watchdog() {
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "10000000"]).watchdogInterval == .seconds(10))
        #expect(
            SystemdNotifier(environment: ["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "\(getpid())"]).watchdogInterval
                == .seconds(10)
        )
        #expect(
            SystemdNotifier(environment: ["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"]).watchdogInterval == nil
        )
        #expect(SystemdNotifier(environment: [:]).watchdogInterval == nil)
    }

    @Test("journald lines: priority prefix, message, sorted logfmt metadata, quoted when needed")
    func journalLine() {
        let line = JournalLogHandler.line(
            level: .warning,
            message: "join refused",
            metadata: ["room": "r1", "reason": "token expired", "q": "a\"b"]
        )
        #expect(line == "<4>join refused q=\"a\\\"b\" reason=\"token expired\" room=r1\n")
        #expect(JournalLogHandler.priority(.debug) == 7 && JournalLogHandler.priority(.critical) == 2)
    }
}
