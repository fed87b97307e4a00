import MediaCore
import NIOCore
import NIOPosix
import Synchronization

/// The SFU a run measures, and how a visit's participants join it. visit-relay takes one
/// PeerConnection per participant over its own signaling (`RelayTarget`); Janus's VideoRoom takes a
/// publisher and a subscriber PeerConnection per participant over its REST API (`JanusTarget`).
/// The media, the checks and the counting are the same for both, so their figures compare.
protocol LoadTarget: Sendable {
    /// The SFU's name in reports.
    var name: String { get }
    /// Joins visit number `visit` with one participant per role; returns its connections, each
    /// bound and given the SFU's transport (ICE and DTLS then run on their own).
    func join(visit: Int, roles: [String], factory: ConnectionFactory) async throws -> [OpenConnection]
    /// What the SFU itself counts, if it exports counters (Janus does not).
    func counters() async throws -> SFUCounters?
    /// Ends every session this target opened.
    func leaveAll() async
}

/// An SFU's own forwarding counters (visit-relay's Prometheus metrics).
struct SFUCounters: Sendable {
    var forwardedPackets: Double
    var forwardedBytes: Double
    /// Generic NACKs the SFU sent to senders.
    var nacks: Double
    /// Retransmissions it sent receivers from its cache, and sender retransmissions it forwarded.
    var retransmissions: Double

    static func - (after: SFUCounters, before: SFUCounters) -> SFUCounters {
        SFUCounters(
            forwardedPackets: after.forwardedPackets - before.forwardedPackets,
            forwardedBytes: after.forwardedBytes - before.forwardedBytes,
            nacks: after.nacks - before.nacks,
            retransmissions: after.retransmissions - before.retransmissions
        )
    }
}

/// A connection bound to its UDP socket on loopback.
struct OpenConnection: Sendable {
    let connection: LoadConnection
    let channel: any Channel
    /// The local UDP port, for our host candidate.
    let port: Int

    /// Hands the connection the SFU's transport on its event loop.
    func connect(to peer: PeerTransport) async throws {
        try await channel.eventLoop.submit { try connection.connect(to: peer) }.get()
    }

    /// Waits up to 30 s for ICE and DTLS to complete.
    func waitUntilConnected(to sfu: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try await !onLoop({ $0.snapshot.connected }) {
            guard ContinuousClock.now < deadline else { throw ConnectFailure(connection: connection.name, sfu: sfu) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func onLoop<T: Sendable>(_ body: @escaping @Sendable (LoadConnection) throws -> T) async throws -> T {
        try await channel.eventLoop.submit { try body(connection) }.get()
    }
}

struct ConnectFailure: Error, CustomStringConvertible {
    var connection: String
    var sfu: String
    var description: String { "\(connection) did not connect to \(sfu) within 30 s" }
}

/// Makes connections, each on its own UDP socket, with distinct SSRCs (from a running seed).
final class ConnectionFactory: Sendable {
    let media: LoopedMedia
    let group: MultiThreadedEventLoopGroup
    private let nextSeed = Mutex<UInt32>(1)

    init(media: LoopedMedia, group: MultiThreadedEventLoopGroup) {
        self.media = media
        self.group = group
    }

    func open(
        name: String,
        dtlsRole: DtlsEndpoint.Role = .client,
        sends: Bool = true,
        decodesVideo: Bool = false
    ) async throws
        -> OpenConnection
    {
        let seed = nextSeed.withLock { seed in
            defer { seed += 1 }
            return seed
        }
        let connection = try LoadConnection(
            name: name,
            media: media,
            seed: seed,
            dtlsRole: dtlsRole,
            sends: sends,
            decodesVideo: decodesVideo
        )
        let socket = try ArrivalClock.boundSocket(receiveBufferBytes: 1 << 21)
        connection.arrivals = socket
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { $0.pipeline.addHandler(connection) }
            .withBoundSocket(socket.descriptor).get()
        return OpenConnection(connection: connection, channel: channel, port: channel.localAddress?.port ?? 0)
    }
}
