import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// sd_notify(3) without libsystemd: one datagram per state change to the `AF_UNIX` socket systemd
/// names in `NOTIFY_SOCKET` (a path, or an abstract name when it starts with `@`). Outside systemd the
/// variable is unset and every call is a no-op.
struct SystemdNotifier: Sendable {
    let socketPath: String?
    /// How often systemd expects `WATCHDOG=1` (`WatchdogSec=`), when it asked this process for it.
    let watchdogInterval: Duration?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let pidMatches = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0, pidMatches {
            watchdogInterval = .microseconds(usec)
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends newline-separated assignments such as `READY=1` or `STATUS=...`; false if unsent.
    @discardableResult
    func notify(_ state: String) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (pathBytes.first == 0 ? 0 : 1))
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                sendto(fd, message, message.count, Int32(MSG_NOSIGNAL), socketAddress, length)
            }
        }
        return sent == message.count
    }

    /// `MONOTONIC_USEC` for `RELOADING=1` (systemd 253+ wants it with Type=notify-reload).
    /// NIO's deadlines read `CLOCK_MONOTONIC`, the clock systemd compares against.
    static func monotonicMicroseconds() -> UInt64 {
        NIODeadline.now().uptimeNanoseconds / 1000
    }
}
