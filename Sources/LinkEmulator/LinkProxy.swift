import Foundation
import LinkModel
import NIOCore
import NIOPosix

/// The proxy's state, confined to one event loop (hence `@unchecked Sendable`): listening sockets,
/// one upstream socket and one pair of link directions per client, and the log.
final class LinkProxy: @unchecked Sendable {
    /// How often queued packets are released (the model is exact; this is the sending granularity).
    static let tickUs: Int64 = 500

    final class Client {
        let listener: any Channel
        let clientAddress: SocketAddress
        let target: SocketAddress
        var upstream: (any Channel)?
        var uplink: LinkDirection<ByteBuffer>
        var downlink: LinkDirection<ByteBuffer>
        let name: String

        init(
            listener: any Channel,
            clientAddress: SocketAddress,
            target: SocketAddress,
            profile: LinkProfile,
            seed: UInt64,
            name: String
        ) {
            self.listener = listener
            self.clientAddress = clientAddress
            self.target = target
            self.uplink = LinkDirection(configuration: profile.uplink, seed: seed)
            self.downlink = LinkDirection(configuration: profile.downlink, seed: seed &+ 1)
            self.name = name
        }
    }

    let eventLoop: any EventLoop
    let profile: LinkProfile
    let seed: UInt64
    let rebindEverySeconds: Double?
    private var listeners: [(channel: any Channel, target: SocketAddress)] = []
    private var clients: [String: Client] = [:]
    private var tick: RepeatedTask?
    private var rebindTask: RepeatedTask?
    private let start = ContinuousClock.now
    private var logHandle: FileHandle?
    private var logBuffer = ""
    private(set) var rebinds = 0

    init(eventLoop: any EventLoop, profile: LinkProfile, seed: UInt64, logPath: String?, rebindEverySeconds: Double?) {
        self.eventLoop = eventLoop
        self.profile = profile
        self.seed = seed
        self.rebindEverySeconds = rebindEverySeconds
        if let logPath {
            FileManager.default.createFile(atPath: logPath, contents: nil)
            logHandle = FileHandle(forWritingAtPath: logPath)
            logBuffer = "direction,client,id,size,arrival_us,departure_us,delivery_us,queue_delay_us,dropped\n"
        }
    }

    var nowUs: UInt64 {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        return UInt64(seconds) * 1_000_000 + UInt64(attoseconds / 1_000_000_000_000)
    }

    func start(mappings: [(SocketAddress, SocketAddress)]) -> EventLoopFuture<Void> {
        let futures = mappings.map { listen, target in
            DatagramBootstrap(group: eventLoop)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelInitializer { channel in
                    channel.pipeline.addHandler(
                        DatagramForwarder { [unowned self] envelope, channel in
                            fromClient(envelope, listener: channel, target: target)
                        }
                    )
                }
                .bind(to: listen)
                .map { channel in self.listeners.append((channel, target)) }
        }
        tick = eventLoop.scheduleRepeatedTask(
            initialDelay: .microseconds(Self.tickUs),
            delay: .microseconds(Self.tickUs)
        ) { [unowned self] _ in
            release()
        }
        if let every = rebindEverySeconds, every > 0 {
            let interval = TimeAmount.milliseconds(Int64(every * 1000))
            rebindTask = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [unowned self] _ in
                rebindAll()
            }
        }
        return EventLoopFuture.andAllSucceed(futures, on: eventLoop)
    }

    private func fromClient(_ envelope: AddressedEnvelope<ByteBuffer>, listener: any Channel, target: SocketAddress) {
        let key = "\(listener.localAddress?.port ?? 0)/\(envelope.remoteAddress)"
        let client: Client
        if let existing = clients[key] {
            client = existing
        } else {
            client = Client(
                listener: listener,
                clientAddress: envelope.remoteAddress,
                target: target,
                profile: profile,
                seed: seed &+ UInt64(clients.count) &* 7919,
                name: "c\(clients.count)"
            )
            clients[key] = client
            openUpstream(for: client)
        }
        let size = envelope.data.readableBytes
        let now = nowUs
        if case .failure(let drop) = client.uplink.enqueue(size: size, payload: envelope.data, nowUs: now) {
            logDrop("up", client, drop, size: size, at: now)
        }
    }

    private func openUpstream(for client: Client) {
        let future = DatagramBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.pipeline.addHandler(
                    DatagramForwarder { [unowned self] envelope, _ in
                        let size = envelope.data.readableBytes
                        let now = nowUs
                        if case .failure(let drop) = client.downlink.enqueue(
                            size: size,
                            payload: envelope.data,
                            nowUs: now
                        ) {
                            logDrop("down", client, drop, size: size, at: now)
                        }
                    }
                )
            }
            .bind(host: "127.0.0.1", port: 0)
        future.whenSuccess { channel in client.upstream = channel }
    }

    /// Gives every client a new upstream socket (new source port), as a NAT rebinding on handover.
    func rebindAll() {
        rebinds += 1
        for client in clients.values {
            let old = client.upstream
            client.upstream = nil
            old?.close(promise: nil)
            openUpstream(for: client)
        }
    }

    private func release() {
        let now = nowUs
        for client in clients.values {
            client.uplink.advance(toUs: now) { packet in
                log("up", client, packet)
                client.upstream?.writeAndFlush(
                    AddressedEnvelope(remoteAddress: client.target, data: packet.payload),
                    promise: nil
                )
            }
            client.downlink.advance(toUs: now) { packet in
                log("down", client, packet)
                client.listener.writeAndFlush(
                    AddressedEnvelope(remoteAddress: client.clientAddress, data: packet.payload),
                    promise: nil
                )
            }
        }
        flushLog()
    }

    private func log(_ direction: String, _ client: Client, _ packet: LinkPacket<ByteBuffer>) {
        guard logHandle != nil else { return }
        logBuffer +=
            "\(direction),\(client.name),\(packet.id),\(packet.size),\(packet.arrivalUs),\(packet.departureUs),\(packet.deliveryUs),\(packet.queueDelayUs),\n"
    }

    private func logDrop(_ direction: String, _ client: Client, _ drop: LinkDropReasonError, size: Int, at: UInt64) {
        guard logHandle != nil else { return }
        logBuffer += "\(direction),\(client.name),\(drop.id),\(size),\(at),,,,\(drop.reason.rawValue)\n"
    }

    private func flushLog() {
        guard let logHandle, !logBuffer.isEmpty else { return }
        logHandle.write(Data(logBuffer.utf8))
        logBuffer = ""
    }

    /// Stops and returns the summary over all clients.
    func stop() -> (line: String, json: String) {
        tick?.cancel()
        rebindTask?.cancel()
        release()
        for (channel, _) in listeners { channel.close(promise: nil) }
        for client in clients.values { client.upstream?.close(promise: nil) }
        try? logHandle?.close()
        let seconds = Double(nowUs) / 1_000_000
        func summarise(_ name: String, _ stats: [LinkStatistics]) -> (String, String) {
            let delivered = stats.reduce(0) { $0 + $1.deliveredBytes }
            let capacity = stats.reduce(0) { $0 + $1.capacityBytes }
            let arrived = stats.reduce(0) { $0 + $1.arrivedPackets }
            let lost = stats.reduce(0) { $0 + $1.lostPackets + $1.queueDroppedPackets }
            let delays = stats.flatMap(\.queueDelaysUs)
            let rate = seconds > 0 ? Double(delivered * 8) / seconds / 1000 : 0
            let utilisation = capacity > 0 ? Double(delivered) / Double(capacity) : 0
            let p50 = Double(LinkStatistics.percentile(delays, 50)) / 1000
            let p95 = Double(LinkStatistics.percentile(delays, 95)) / 1000
            let p99 = Double(LinkStatistics.percentile(delays, 99)) / 1000
            let loss = arrived > 0 ? Double(lost) / Double(arrived) : 0
            let line =
                "\(name): \(String(format: "%.1f", rate)) kbit/s delivered, utilisation \(String(format: "%.1f", utilisation * 100)) %, queueing delay p50/p95/p99 \(String(format: "%.1f/%.1f/%.1f", p50, p95, p99)) ms, loss \(String(format: "%.2f", loss * 100)) %"
            let json =
                #"{"deliveredKbps":\#(rate),"utilisation":\#(utilisation),"queueDelayMs":{"p50":\#(p50),"p95":\#(p95),"p99":\#(p99)},"loss":\#(loss),"packets":\#(arrived)}"#
            return (line, json)
        }
        let up = summarise("uplink", clients.values.map(\.uplink.statistics))
        let down = summarise("downlink", clients.values.map(\.downlink.statistics))
        let line =
            "link-emulator summary (\(profile.name), \(String(format: "%.1f", seconds)) s, \(clients.count) clients, \(rebinds) rebinds)\n  \(up.0)\n  \(down.0)"
        let json =
            #"{"profile":"\#(profile.name)","seconds":\#(seconds),"clients":\#(clients.count),"rebinds":\#(rebinds),"uplink":\#(up.1),"downlink":\#(down.1)}"#
        return (line, json)
    }
}

/// Hands each received datagram to a closure on the event loop.
final class DatagramForwarder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let onDatagram: (AddressedEnvelope<ByteBuffer>, any Channel) -> Void

    init(_ onDatagram: @escaping (AddressedEnvelope<ByteBuffer>, any Channel) -> Void) {
        self.onDatagram = onDatagram
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        onDatagram(Self.unwrapInboundIn(data), context.channel)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
