import Logging
import MediaCore
import NIOCore
import NIOPosix

/// One media worker: a UDP socket on its own event loop and the `RelayCore` of every room pinned to
/// it. The core is touched only on `eventLoop` (datagrams, the timer tick and commands all run
/// there), so it needs no lock; that confinement is why this class is `@unchecked Sendable`.
final class MediaWorker: @unchecked Sendable {
    /// Datagrams read per system call (recvmmsg).
    static let vectorReadCount = 32
    let index: Int
    let eventLoop: any EventLoop
    let boundAddress: TransportAddress
    private(set) var core: RelayCore
    private var output = OutgoingDatagrams(capacity: 512)
    private var channel: (any Channel)?
    private var tick: RepeatedTask?
    private let logger: Logger
    /// Called on the event loop with the events the core produced, for signaling to fan out.
    var onEvents: (@Sendable ([RelayEvent], [String: [(ParticipantID, RoomView)]]) -> Void)?

    init(index: Int, eventLoop: any EventLoop, core: consuming RelayCore, boundAddress: TransportAddress, logger: Logger) {
        self.index = index
        self.eventLoop = eventLoop
        self.core = core
        self.boundAddress = boundAddress
        self.logger = logger
    }

    /// Binds the worker's UDP socket and starts its timer tick.
    func start(host: String, port: Int) async throws -> SocketAddress {
        let channel = try await DatagramBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.datagramVectorReadMessageCount, value: Self.vectorReadCount)
            // With vector reads NIO splits one receive buffer across the messages: give each 2 KiB.
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: Self.vectorReadCount * 2048))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(MediaDatagramHandler(worker: self))
                }
            }
            .bind(host: host, port: port)
            .get()
        self.channel = channel
        tick = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(10), delay: .milliseconds(10)) { [self] _ in
            core.handleTimers(now: .now, into: &output)
            flush()
            publishEvents()
        }
        return channel.localAddress!
    }

    func stop() async {
        tick?.cancel()
        try? await channel?.close()
    }

    // MARK: On the event loop

    func handle(datagram: inout ByteBuffer, from remote: SocketAddress) {
        guard let source = TransportAddress(remote) else { return }
        let length = datagram.readableBytes
        let now = ContinuousClock.now
        datagram.withUnsafeMutableReadableBytes { bytes in
            core.receive(bytes, length: length, from: source, now: now, into: &output)
        }
    }

    /// Sends what the core queued, as one batch of writes and one flush.
    func flush() {
        guard let channel, !output.isEmpty else { return }
        for index in 0..<output.count {
            let (bytes, destination) = output.datagram(at: index)
            guard let address = try? destination.socketAddress() else { continue }
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            channel.write(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
        }
        channel.flush()
        output.removeAll()
    }

    /// Hands core events and fresh room views to signaling.
    func publishEvents() {
        let events = core.takeEvents()
        guard !events.isEmpty else { return }
        var views: [String: [(ParticipantID, RoomView)]] = [:]
        for case .roomChanged(let room) in events where views[room] == nil {
            views[room] = core.members(of: room).compactMap { id in core.roomView(for: id).map { (id, $0) } }
        }
        onEvents?(events, views)
    }

    // MARK: Commands (hop to the loop)

    func join(room: String, role: ParticipantRole, offer: String) async throws -> JoinResult {
        var generator = SystemRandomNumberGenerator()
        let credentials = IceCredentials.random(using: &generator)
        return try await eventLoop.submit { [self] in
            defer { publishEvents() }
            return try core.join(room: room, role: role, offer: offer, credentials: credentials, now: .now)
        }.get()
    }

    func restartIce(_ participant: ParticipantID, offer: String) async throws -> String {
        var generator = SystemRandomNumberGenerator()
        let credentials = IceCredentials.random(using: &generator)
        return try await eventLoop.submit { [self] in
            try core.restartIce(participant, offer: offer, credentials: credentials, now: .now)
        }.get()
    }

    func leave(_ participant: ParticipantID) async throws {
        try await eventLoop.submit { [self] in
            core.leave(participant, now: .now)
            publishEvents()
        }.get()
    }

    func roomView(for participant: ParticipantID) async throws -> RoomView? {
        try await eventLoop.submit { [self] in core.roomView(for: participant) }.get()
    }

    func counters() async throws -> RelayCounters {
        try await eventLoop.submit { [self] in core.counters }.get()
    }
}

/// Reads datagrams in batches (vector reads) into the worker, and flushes after each batch.
final class MediaDatagramHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let worker: MediaWorker

    init(worker: MediaWorker) { self.worker = worker }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var envelope = Self.unwrapInboundIn(data)
        worker.handle(datagram: &envelope.data, from: envelope.remoteAddress)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        worker.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and similar surface here; a media socket keeps going.
    }
}
