import Logging
import MediaCore
import NIOCore
import NIOEmbedded
import Testing

@testable import RelayDaemon

/// The ICE-TCP socket edge (RFC 6544, RFC 4571 framing) on NIO's embedded channels: framing in and
/// out, the bounded send queue and the connection limit.
@Suite("ICE-TCP socket edge")
struct IceTcpEdgeTests {
    static let identity = try! DtlsIdentity(commonName: "relay")

    static func worker(on loop: EmbeddedEventLoop, maxConnections: Int = 512) -> MediaWorker {
        let core = RelayCore(
            configuration: RelayCoreConfiguration(announcedAddress: TransportAddress(ipv4: 0x7F00_0001, port: 40_000)),
            identity: identity,
            seed: 1
        )
        return MediaWorker(
            index: 0,
            eventLoop: loop,
            core: core,
            boundAddress: TransportAddress(ipv4: 0x7F00_0001, port: 40_000),
            logger: Logger(label: "test"),
            maxTcpConnections: maxConnections
        )
    }

    static func connection(_ worker: MediaWorker, loop: EmbeddedEventLoop, port: Int) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try IceTcpConnectionHandler.configure(channel, worker: worker)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: port)).wait()
        return channel
    }

    @Test("frames split across reads reach the relay core as whole datagrams")
    func inboundFraming() throws {
        let loop = EmbeddedEventLoop()
        let worker = Self.worker(on: loop)
        let channel = try Self.connection(worker, loop: loop, port: 50_000)
        defer { _ = try? channel.finish() }  // a channel and its pipeline hold each other until closed
        // Two datagrams (a 20-byte STUN-looking message and a 3-byte one), framed and cut mid-frame.
        let first: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42] + [UInt8](repeating: 7, count: 12)
        let stream: [UInt8] = [0x00, 20] + first + [0x00, 3, 0xFF, 0xFE, 0xFD]
        try channel.writeInbound(ByteBuffer(bytes: stream[0..<9]))
        #expect(worker.core.counters.datagramsIn == 0, "half a frame is not a datagram")
        try channel.writeInbound(ByteBuffer(bytes: stream[9...]))
        #expect(worker.core.counters.datagramsIn == 2)
        // Unauthenticated garbage is dropped by the core, not answered.
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
    }

    @Test("outbound datagrams get the RFC 4571 length; a full send queue drops and counts")
    func boundedSendQueue() throws {
        let loop = EmbeddedEventLoop()
        let worker = Self.worker(on: loop)
        let channel = try Self.connection(worker, loop: loop, port: 50_001)
        defer { _ = try? channel.finish() }
        let address = TransportAddress(ipv4: 0x7F00_0001, port: 50_001, transport: .tcp)
        let payload: [UInt8] = [1, 2, 3, 4, 5]
        payload.withUnsafeBytes { worker.send($0, overTCP: address, allocator: channel.allocator) }
        channel.flush()
        var framed = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { framed.writeBuffer(&part) }
        #expect(Array(framed.readableBytesView) == [0x00, 0x05] + payload)

        channel.isWritable = false
        payload.withUnsafeBytes { worker.send($0, overTCP: address, allocator: channel.allocator) }
        #expect(worker.tcpCounters.droppedQueueFull == 1 && worker.tcpCounters.datagramsSent == 1)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)

        let gone = TransportAddress(ipv4: 0x7F00_0001, port: 59_999, transport: .tcp)
        payload.withUnsafeBytes { worker.send($0, overTCP: gone, allocator: channel.allocator) }
        #expect(worker.tcpCounters.droppedNoConnection == 1)
    }

    @Test("connections beyond the limit are closed at once and counted; a closed one frees its slot")
    func connectionLimit() throws {
        let loop = EmbeddedEventLoop()
        let worker = Self.worker(on: loop, maxConnections: 2)
        let a = try Self.connection(worker, loop: loop, port: 50_010)
        let b = try Self.connection(worker, loop: loop, port: 50_011)
        let third = try Self.connection(worker, loop: loop, port: 50_012)
        defer { for channel in [b, third] { _ = try? channel.finish() } }
        #expect(!third.isActive)
        #expect(worker.tcpCounters.accepted == 2 && worker.tcpCounters.rejected == 1)
        try a.close().wait()
        let fourth = try Self.connection(worker, loop: loop, port: 50_013)
        defer { _ = try? fourth.finish() }
        #expect(fourth.isActive && worker.tcpCounters.accepted == 3)
    }
}
