import CUdpBatch
import Glibc
import MediaCore
import NIOCore

/// Sends a media worker's UDP output straight from its `OutgoingDatagrams` slots with sendmmsg(2)
/// (DESIGN.md, "One datagram's way through", step 7), on a socket the worker makes itself and
/// hands to NIO for reading (`DatagramBootstrap.withBoundSocket`).
///
/// Through NIO each datagram was copied into a batch buffer and written as an `AddressedEnvelope`
/// (boxed in `NIOAny`, queued, retained and released) before NIO's own sendmmsg: about a tenth of
/// the relay's CPU at 60 visits in perf, over and above the system call. Here a flush fills one
/// preallocated array of pointers and lengths, with socket addresses made once per destination.
///
/// Used only on the worker's event loop.
final class DatagramSender {
    /// What the kernel refused: datagrams to an unreachable or filtered destination, and whole
    /// batches' tails while the socket's send buffer was full.
    struct Counters: Sendable {
        var sent = 0
        var refused = 0
        var lastError: CInt = 0
    }

    let descriptor: CInt
    /// False once NIO has closed the descriptor (its number may then belong to another file).
    private(set) var isOpen = true
    private(set) var counters = Counters()
    private let batch: UnsafeMutablePointer<cudp_datagram>
    private let batchCapacity: Int
    /// Raw socket addresses by destination, in a fixed block; emptied when full (a flood of
    /// addresses we answered cannot grow it).
    private let addresses: UnsafeMutablePointer<sockaddr_storage>
    private let addressLengths: UnsafeMutablePointer<socklen_t>
    private var addressIndex: [TransportAddress: Int] = [:]
    static let addressCapacity = 4096

    /// A non-blocking UDP socket bound to `host:port` (`SO_REUSEADDR` before the bind).
    init(host: String, port: Int, batchCapacity: Int) throws {
        let local = try SocketAddress(ipAddress: host, port: port)
        let family = local.protocol == .inet6 ? AF_INET6 : AF_INET
        let descriptor = socket(
            family,
            Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
            0
        )
        guard descriptor >= 0 else {
            throw DatagramSocketError(call: "socket", address: "\(host):\(port)", code: errno)
        }
        var one: CInt = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size))
        let bound = local.withSockAddr { bind(descriptor, $0, socklen_t($1)) }
        guard bound == 0 else {
            let code = errno
            close(descriptor)
            throw DatagramSocketError(call: "bind", address: "\(host):\(port)", code: code)
        }
        self.descriptor = descriptor
        self.batchCapacity = batchCapacity
        batch = .allocate(capacity: batchCapacity)
        addresses = .allocate(capacity: Self.addressCapacity)
        addressLengths = .allocate(capacity: Self.addressCapacity)
    }

    deinit {
        batch.deallocate()
        addresses.deallocate()
        addressLengths.deallocate()
    }

    /// NIO closed the socket; nothing is sent after this.
    func closed() { isOpen = false }

    /// Sends every UDP datagram of `output` (ICE-TCP ones are left to the caller) in one go.
    func send(_ output: borrowing OutgoingDatagrams) {
        guard isOpen, !output.isEmpty else { return }
        // Pointers into the address block are taken below: make room first, not halfway.
        if addressIndex.count + min(output.count, batchCapacity) > Self.addressCapacity {
            addressIndex.removeAll(keepingCapacity: true)
        }
        var count = 0
        for index in 0..<output.count where count < batchCapacity {
            let (bytes, destination) = output.datagram(at: index)
            guard destination.transport == .udp, let slot = addressSlot(for: destination) else { continue }
            batch[count] = cudp_datagram(
                bytes: bytes.baseAddress,
                length: bytes.count,
                address: UnsafeRawPointer(addresses + slot),
                address_length: UInt32(addressLengths[slot])
            )
            count += 1
        }
        guard count > 0 else { return }
        var refused: CInt = 0
        var error: CInt = 0
        let sent = cudp_send(descriptor, batch, CInt(count), &refused, &error)
        counters.sent += Int(sent)
        counters.refused += Int(refused)
        if refused > 0 { counters.lastError = error }
    }

    /// Where `destination`'s raw socket address sits in the block, made on first use.
    private func addressSlot(for destination: TransportAddress) -> Int? {
        if let slot = addressIndex[destination] { return slot }
        guard let made = try? destination.socketAddress() else { return nil }
        let slot = addressIndex.count
        made.withSockAddr { pointer, length in
            UnsafeMutableRawPointer(addresses + slot).copyMemory(from: pointer, byteCount: length)
            addressLengths[slot] = socklen_t(length)
        }
        addressIndex[destination] = slot
        return slot
    }
}

struct DatagramSocketError: Error, CustomStringConvertible {
    var call: String
    var address: String
    var code: CInt
    var description: String { "media socket \(address): \(call) failed: \(String(cString: strerror(code)))" }
}
