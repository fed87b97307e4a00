import Logging
import MediaCore
import NIOCore
import NIOPosix

/// One media worker: a UDP socket (and optionally an ICE-TCP listener) on its own event loop and the
/// `RelayCore` of every room pinned to it. The core is touched only on `eventLoop` (datagrams, TCP
/// frames, the timer tick and commands all run there), so it needs no lock; that confinement is why
/// this class is `@unchecked Sendable`.
final class MediaWorker: @unchecked Sendable {
    /// Datagrams read per system call (recvmmsg).
    static let vectorReadCount = 32
    let index: Int
    let eventLoop: any EventLoop
    let boundAddress: TransportAddress
    private(set) var core: RelayCore
    private var output = OutgoingDatagrams(capacity: MediaWorker.outputCapacity)
    static let outputCapacity = 512
    /// Sends the UDP output with sendmmsg from the output slots (set by `start`).
    private var sender: DatagramSender?
    /// Each received datagram is decrypted here, in place. NIO's vector reads hand out slices of one
    /// shared buffer, so asking a slice for mutable bytes made ByteBuffer copy it into fresh storage:
    /// a malloc, a copy and a free per datagram. A copy into this block costs the copy alone.
    private let receiveScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
    private var channel: (any Channel)?
    private var tick: RepeatedTask?

    // ICE-TCP (RFC 6544): accepted connections by remote address, all on this worker's loop.
    private var tcpListener: (any Channel)?
    private var tcpConnections: [TransportAddress: any Channel] = [:]
    private var tcpWritten: [any Channel] = []
    /// Most simultaneous ICE-TCP connections; more are closed at once and counted.
    let maxTcpConnections: Int
    /// A connection silent this long is closed (browsers send consent checks every few seconds).
    let tcpIdleTimeout: TimeAmount
    private(set) var tcpCounters = IceTcpCounters()
    /// When the next 10 ms tick is due, and the worst lateness seen since the last metrics scrape:
    /// a loop busy with datagrams (or blocked) shows here first.
    private var nextTickDue: NIODeadline?
    private var worstTickLag: TimeAmount = .zero
    /// Whether the loop's thread runs under SCHED_RR (`media.realtime_priority`, granted).
    private(set) var realtime = false
    private let logger: Logger
    /// Called on the event loop with the events the core produced, for signaling to fan out.
    var onEvents: (@Sendable ([RelayEvent], [String: [(ParticipantID, RoomView)]]) -> Void)?

    init(
        index: Int,
        eventLoop: any EventLoop,
        core: consuming RelayCore,
        boundAddress: TransportAddress,
        logger: Logger,
        maxTcpConnections: Int = 512,
        tcpIdleTimeout: TimeAmount = .seconds(30)
    ) {
        self.maxTcpConnections = maxTcpConnections
        self.tcpIdleTimeout = tcpIdleTimeout
        self.index = index
        self.eventLoop = eventLoop
        self.core = core
        self.boundAddress = boundAddress
        self.logger = logger
    }

    deinit {
        receiveScratch.deallocate()
    }

    /// Binds the worker's UDP socket and starts its timer tick. `socketBufferBytes` sizes the
    /// kernel's receive and send buffers (`media.socket_buffer_kib`; the kernel caps it at
    /// net.core.rmem_max/wmem_max): room for a burst while the worker is busy, instead of drops.
    /// A `realtimePriority` above 0 puts the loop's thread under SCHED_RR (`media.realtime_priority`);
    /// if the kernel refuses, the worker runs on the normal scheduler and says so.
    func start(
        host: String,
        port: Int,
        socketBufferBytes: Int = 4 << 20,
        realtimePriority: Int = 0
    ) async throws -> SocketAddress {
        let sender = try DatagramSender(host: host, port: port, batchCapacity: Self.outputCapacity)
        let channel = try await DatagramBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(socketBufferBytes))
            .channelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(socketBufferBytes))
            .channelOption(.datagramVectorReadMessageCount, value: Self.vectorReadCount)
            // With vector reads NIO splits one receive buffer across the messages: give each 2 KiB.
            .channelOption(
                .recvAllocator,
                value: FixedSizeRecvByteBufferAllocator(capacity: Self.vectorReadCount * 2048)
            )
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(MediaDatagramHandler(worker: self))
                }
            }
            .withBoundSocket(sender.descriptor)
            .get()
        self.channel = channel
        try await eventLoop.submit { [self] in
            self.sender = sender
            if realtimePriority > 0 {
                do {
                    try RealtimeScheduling.applyToCurrentThread(priority: realtimePriority)
                    realtime = true
                    logger.info(
                        "media worker on real-time scheduling",
                        metadata: ["worker": "\(index)", "priority": "\(realtimePriority)"]
                    )
                } catch {
                    logger.warning(
                        "media worker stays on normal scheduling",
                        metadata: ["worker": "\(index)", "error": "\(error)"]
                    )
                }
            }
            // NIO owns the descriptor's life: once it has closed it, the number is not ours to use.
            channel.closeFuture.whenComplete { _ in sender.closed() }
        }.get()
        tick = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(10), delay: .milliseconds(10)) { [self] _ in
            let started = NIODeadline.now()
            if let due = nextTickDue { worstTickLag = max(worstTickLag, started - due) }
            nextTickDue = started + .milliseconds(10)
            core.handleTimers(now: .now, into: &output)
            flush()
            publishEvents()
        }
        return channel.localAddress!
    }

    /// Starts listening for ICE-TCP connections; each is served on this worker's event loop.
    func startTCP(host: String, port: Int) async throws -> SocketAddress {
        let listener = try await ServerBootstrap(group: eventLoop, childGroup: eventLoop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 128)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Bounded send queue per connection: past the high mark the connection is not writable
            // and the worker drops (and counts) media for it instead of queueing without end.
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: Self.tcpSendQueueBytes))
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try IceTcpConnectionHandler.configure(channel, worker: self) }
            }
            .bind(host: host, port: port)
            .get()
        tcpListener = listener
        return listener.localAddress!
    }

    /// Bytes a slow ICE-TCP reader may have queued before its media is dropped (about 1 s at 2 Mbit/s).
    static let tcpSendQueueBytes = 256 * 1024

    func stop() async {
        tick?.cancel()
        try? await channel?.close()
        try? await tcpListener?.close()
        let open = try? await eventLoop.submit { [self] in Array(tcpConnections.values) }.get()
        for connection in open ?? [] { try? await connection.close() }
    }

    // MARK: On the event loop

    /// A new ICE-TCP connection; false when the worker is at its connection limit.
    func tcpConnected(_ address: TransportAddress, channel: any Channel) -> Bool {
        guard tcpConnections.count < maxTcpConnections else {
            tcpCounters.rejected += 1
            return false
        }
        tcpCounters.accepted += 1
        tcpConnections[address] = channel
        return true
    }

    func tcpDisconnected(_ address: TransportAddress) {
        tcpConnections[address] = nil
    }

    func handle(datagram: ByteBuffer, from remote: SocketAddress) {
        guard let source = TransportAddress(remote) else { return }
        handle(datagram: datagram, from: source)
    }

    func handle(datagram: ByteBuffer, from source: TransportAddress) {
        let length = datagram.readableBytes
        guard length <= receiveScratch.count else { return }  // no UDP datagram or RFC 4571 frame is larger
        let now = ContinuousClock.now
        let bytes = UnsafeMutableRawBufferPointer(rebasing: receiveScratch[0..<length])
        datagram.withUnsafeReadableBytes { bytes.copyMemory(from: $0) }
        core.receive(bytes, length: length, from: source, now: now, into: &output)
    }

    /// Sends what the core queued: the UDP datagrams with sendmmsg straight from their slots
    /// (`DatagramSender`), the ICE-TCP ones on their connections, one flush per connection.
    func flush() {
        guard let channel, !output.isEmpty else { return }
        sender?.send(output)
        for index in 0..<output.count {
            let (bytes, destination) = output.datagram(at: index)
            if destination.transport == .tcp { send(bytes, overTCP: destination, allocator: channel.allocator) }
        }
        for connection in tcpWritten { connection.flush() }
        tcpWritten.removeAll(keepingCapacity: true)
        output.removeAll()
    }

    /// Queues one datagram on its ICE-TCP connection (the pipeline adds the RFC 4571 length), or
    /// drops it when the connection is gone or its send queue is full.
    func send(_ bytes: UnsafeRawBufferPointer, overTCP destination: TransportAddress, allocator: ByteBufferAllocator) {
        guard let connection = tcpConnections[destination] else {
            tcpCounters.droppedNoConnection += 1
            return
        }
        guard connection.isWritable else {
            tcpCounters.droppedQueueFull += 1
            return
        }
        var buffer = allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        connection.write(buffer, promise: nil)
        tcpCounters.datagramsSent += 1
        if !tcpWritten.contains(where: { $0 === connection }) { tcpWritten.append(connection) }
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

    func leave(_ participant: ParticipantID, reason: SessionEndReason = .left) async throws {
        try await eventLoop.submit { [self] in
            core.leave(participant, reason: reason, now: .now)
            publishEvents()
        }.get()
    }

    func roomView(for participant: ParticipantID) async throws -> RoomView? {
        try await eventLoop.submit { [self] in core.roomView(for: participant) }.get()
    }

    func counters() async throws -> (RelayCounters, IceTcpCounters, openTCP: Int) {
        try await eventLoop.submit { [self] in (core.counters, tcpCounters, tcpConnections.count) }.get()
    }

    func setLimits(_ changes: [(ParticipantID, BitrateLimits)]) async throws {
        try await eventLoop.submit { [self] in
            for (participant, limits) in changes { core.setBitrateLimits(participant, limits) }
        }.get()
    }

    func participantReports() async throws -> [ParticipantReport] {
        try await eventLoop.submit { [self] in core.participantReports() }.get()
    }

    /// Everything the metrics endpoint reports about this worker; resets the loop-lag maximum.
    func metricsSnapshot() async throws -> RelayMetrics.WorkerSnapshot {
        try await eventLoop.submit { [self] in
            defer { worstTickLag = .zero }
            return RelayMetrics.WorkerSnapshot(
                worker: index,
                relay: core.counters,
                iceTcp: tcpCounters,
                udpRefused: sender?.counters.refused ?? 0,
                openTCP: tcpConnections.count,
                rooms: core.roomCount,
                participants: core.participantsByRole,
                downlinkEstimates: core.downlinkEstimates,
                loopLagSeconds: Double(worstTickLag.nanoseconds) / 1e9,
                realtime: realtime
            )
        }.get()
    }
}

/// Reads datagrams in batches (vector reads) into the worker, and flushes after each batch.
final class MediaDatagramHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let worker: MediaWorker

    init(worker: MediaWorker) { self.worker = worker }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        worker.handle(datagram: envelope.data, from: envelope.remoteAddress)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        worker.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and similar surface here; a media socket keeps going.
    }
}

/// What the ICE-TCP edge of one worker did, for `/api/stats` (and later the metrics endpoint).
struct IceTcpCounters: Sendable {
    var accepted = 0
    /// Connections closed at once because the worker was at `maxTcpConnections`.
    var rejected = 0
    var datagramsSent = 0
    /// Media for a receiver whose connection's send queue was full (a slow reader).
    var droppedQueueFull = 0
    /// Media for a connection that had closed.
    var droppedNoConnection = 0
}
