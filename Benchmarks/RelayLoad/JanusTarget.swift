import MediaCore
import NIOCore

/// Janus 1.1.2's VideoRoom: a room per visit; each participant has one Janus session with two
/// handles, a publisher (our offer, Janus answers `a=setup:active`, so we are the DTLS server) and a
/// subscriber to every other participant's feed on one PeerConnection (Janus's offer, we answer
/// `a=setup:active` and are the DTLS client). Publishers join and connect first: VideoRoom refuses
/// to subscribe to a feed whose PeerConnection is not up yet (error 428, "No such feed"). A keepalive goes to every session every 20 s (Janus's
/// `session_timeout` is 60 s).
actor JanusTarget: LoadTarget {
    nonisolated let name = "janus"
    let client: JanusVideoRoomClient
    /// Room numbers start at a random base, so a rerun against the same Janus does not collide
    /// with rooms a killed run left behind.
    private let roomBase = UInt64.random(in: 1_000_000...9_000_000)
    private var sessions: [UInt64] = []
    private var keepalive: Task<Void, Never>?
    static let keepaliveInterval: Duration = .seconds(20)

    init(client: JanusVideoRoomClient) {
        self.client = client
    }

    func join(visit: Int, roles: [String], factory: ConnectionFactory) async throws -> [OpenConnection] {
        startKeepalive()
        let room = roomBase + UInt64(visit)
        var publishers: [(session: UInt64, feed: UInt64, open: OpenConnection)] = []
        for role in roles {
            let session = try await client.createSession()
            sessions.append(session)
            let handle = try await client.attach(session: session)
            if publishers.isEmpty { try await client.createRoom(room, publishers: roles.count, on: handle) }
            let open = try await factory.open(name: "\(role)\(visit)-pub", dtlsRole: .server)
            let offer = open.connection.offer(slots: 0, candidatePort: open.port)
            let (feed, answer) = try await client.publish(
                room: room,
                display: "\(role)\(visit)",
                offer: offer,
                on: handle
            )
            try await open.connect(to: PeerTransport(SDPParser().parse(answer), text: answer))
            publishers.append((session, feed, open))
        }
        for publisher in publishers { try await publisher.open.waitUntilConnected(to: name) }
        var subscribers: [OpenConnection] = []
        for (index, publisher) in publishers.enumerated() {
            let handle = try await client.attach(session: publisher.session)
            let feeds = publishers.enumerated().filter { $0.offset != index }.map(\.element.feed)
            let offerText = try await subscribe(room: room, feeds: feeds, on: handle)
            let offer = try SDPParser().parse(offerText)
            let open = try await factory.open(
                name: "\(roles[index])\(visit)-sub",
                sends: false,
                decodesVideo: visit == 0 && index == 0
            )
            let (answer, videoPayloadType) = try open.connection.answer(toOffer: offer, candidatePort: open.port)
            try await open.connect(to: PeerTransport(offer, text: offerText))
            try await open.onLoop { $0.setReceivedVideoPayloadType(videoPayloadType) }
            try await client.start(answer: answer, on: handle)
            subscribers.append(open)
        }
        return publishers.map(\.open) + subscribers
    }

    /// Subscribes, retrying while Janus has not yet marked a connected publisher's feed as started
    /// (its `webrtcup` may trail our side of the DTLS handshake by a moment).
    private func subscribe(room: UInt64, feeds: [UInt64], on handle: JanusVideoRoomClient.Handle) async throws -> String
    {
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            do {
                return try await client.subscribe(room: room, feeds: feeds, on: handle)
            } catch JanusError.videoRoom(code: Self.noSuchFeed, _, _) where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// VideoRoom's JANUS_VIDEOROOM_ERROR_NO_SUCH_FEED.
    static let noSuchFeed = 428

    func counters() async throws -> SFUCounters? { nil }

    func leaveAll() async {
        keepalive?.cancel()
        keepalive = nil
        for session in sessions { await client.destroy(session: session) }
        sessions = []
    }

    private func startKeepalive() {
        guard keepalive == nil else { return }
        keepalive = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.keepaliveInterval)
                guard let self else { return }
                for session in await self.sessions where !Task.isCancelled {
                    try? await self.client.keepalive(session: session)
                }
            }
        }
    }
}
