import Glibc

/// When the kernel queued the last datagram a UDP socket delivered (SIOCGSTAMPNS, socket(7)), so a
/// packet's latency ends where it reached our socket, not where our event loop got round to it.
///
/// Read from the event loop, the latency of a loaded harness was mostly the harness: with one loop
/// encrypting, sending, decrypting and checking for a hundred connections, a packet waited in our
/// own socket for as long as the loop was busy, and that wait was reported as relay-added latency.
/// NIO reads one datagram per `recvmsg` on these sockets (no vector reads) and fires `channelRead`
/// before the next, so the stamp read there is that datagram's.
///
/// The stamps are CLOCK_REALTIME, so senders stamp packets with `now()` from the same clock.
struct ArrivalClock: Sendable {
    let descriptor: CInt

    /// The kernel's real-time clock in nanoseconds, the clock arrival stamps are taken from.
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return nanoseconds(time)
    }

    private static func nanoseconds(_ time: timespec) -> UInt64 {
        UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// A non-blocking UDP socket bound to 127.0.0.1 on a free port, with arrival stamps on, for
    /// `DatagramBootstrap.withBoundSocket`.
    static func boundSocket(receiveBufferBytes: Int) throws(SocketSetupError) -> ArrivalClock {
        let descriptor = socket(
            AF_INET,
            Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
            0
        )
        guard descriptor >= 0 else { throw .failed(call: "socket", errno: errno) }
        var size = CInt(receiveBufferBytes)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            let code = errno
            close(descriptor)
            throw .failed(call: "bind", errno: code)
        }
        // The first query switches stamping on (and finds no datagram yet); the kernel turns its
        // stamping on in the background, well within the run's warm-up.
        var ignored = timespec()
        _ = ioctl(descriptor, Self.getStampNanoseconds, &ignored)
        return ArrivalClock(descriptor: descriptor)
    }

    /// SIOCGSTAMPNS (asm-generic/sockios.h; the 64-bit `timespec` form).
    static let getStampNanoseconds: UInt = 0x8907

    /// When the datagram last read from the socket arrived, or nil when the kernel has none.
    func lastArrival() -> UInt64? {
        var time = timespec()
        guard ioctl(descriptor, Self.getStampNanoseconds, &time) == 0, time.tv_sec > 0 else { return nil }
        return Self.nanoseconds(time)
    }
}

enum SocketSetupError: Error, CustomStringConvertible {
    case failed(call: String, errno: CInt)

    var description: String {
        switch self {
        case .failed(let call, let code): "\(call) failed: \(String(cString: strerror(code)))"
        }
    }
}
