import Glibc
import MediaCore
import Testing

@testable import RelayDaemon

@Suite("Sending a worker's output batch with sendmmsg")
struct DatagramSenderTests {
    /// A plain UDP socket on 127.0.0.1 to receive with, and its port.
    static func receiver() throws -> (CInt, UInt16) {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(descriptor >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        try #require(bound)
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return (descriptor, UInt16(bigEndian: address.sin_port))
    }

    static func receive(_ descriptor: CInt) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        return count < 0 ? nil : Array(buffer[0..<count])
    }

    static func append(_ bytes: [UInt8], to destination: TransportAddress, into output: inout OutgoingDatagrams) {
        bytes.withUnsafeBytes { _ = output.append($0, to: destination) }
    }

    @Test(
        "UDP datagrams arrive whole and in order; ICE-TCP ones are left alone; one the kernel refuses does not stop the rest"
    )
    func sendsBatch() throws {
        let (receiver, port) = try Self.receiver()
        defer { close(receiver) }
        let sender = try DatagramSender(host: "127.0.0.1", port: 0, batchCapacity: 8)
        defer { close(sender.descriptor) }
        let destination = TransportAddress(ipv4: 0x7F00_0001, port: port)
        var output = OutgoingDatagrams(capacity: 8)
        Self.append([1, 2, 3], to: destination, into: &output)
        // An IPv6 destination on an IPv4 socket: the kernel refuses this one datagram.
        Self.append([9], to: TransportAddress(ipv6High: 0, low: 1, port: port), into: &output)
        Self.append([7], to: destination.on(.tcp), into: &output)
        Self.append([UInt8](repeating: 0xAB, count: 1200), to: destination, into: &output)
        sender.send(output)
        #expect(Self.receive(receiver) == [1, 2, 3])
        #expect(Self.receive(receiver) == [UInt8](repeating: 0xAB, count: 1200))
        let counters = sender.counters
        #expect(counters.sent == 2)
        #expect(counters.refused == 1)
        #expect(counters.lastError != 0)
    }

    @Test("nothing is sent once NIO has closed the socket")
    func closedSendsNothing() throws {
        let (receiver, port) = try Self.receiver()
        defer { close(receiver) }
        let sender = try DatagramSender(host: "127.0.0.1", port: 0, batchCapacity: 4)
        defer { close(sender.descriptor) }
        sender.closed()
        var output = OutgoingDatagrams(capacity: 4)
        Self.append([1], to: TransportAddress(ipv4: 0x7F00_0001, port: port), into: &output)
        sender.send(output)
        #expect(sender.counters.sent == 0)
    }

    @Test("a bad bind address is an error naming the address")
    func badAddress() {
        #expect(throws: (any Error).self) { try DatagramSender(host: "203.0.113.9", port: 1, batchCapacity: 4) }
    }
}
