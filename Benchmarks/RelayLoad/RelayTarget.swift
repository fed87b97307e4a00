import MediaCore
import NIOCore

/// visit-relay: each participant is one connection that sends its audio and video and receives
/// every other participant's in the relay's fixed slots (docs/signaling.md).
actor RelayTarget: LoadTarget {
    nonisolated let name = "visit-relay"
    let signaling: SignalingClient
    /// Where media goes instead of the relay's candidate (impaired mode), nil for straight to it.
    let via: SocketAddress?
    private var sessions: [String] = []

    init(signaling: SignalingClient, via: SocketAddress?) {
        self.signaling = signaling
        self.via = via
    }

    func join(visit: Int, roles: [String], factory: ConnectionFactory) async throws -> [OpenConnection] {
        var opened: [OpenConnection] = []
        for role in roles {
            let open = try await factory.open(name: "\(role)\(visit)", decodesVideo: visit == 0 && opened.isEmpty)
            let offer = open.connection.offer(slots: roles.count - 1, candidatePort: open.port)
            let joined = try await signaling.join(room: "load-\(visit)", role: role, offer: offer)
            sessions.append(joined.session)
            try await open.connect(to: PeerTransport(SDPParser().parse(joined.answer), text: joined.answer, via: via))
            opened.append(open)
        }
        return opened
    }

    func counters() async throws -> SFUCounters? {
        let all = try await signaling.counters()
        return SFUCounters(
            forwardedPackets: all["visitrelay_rtp_packets_forwarded_total"] ?? 0,
            forwardedBytes: all["visitrelay_bytes_forwarded_total"] ?? 0,
            nacks: all["visitrelay_nacks_sent_total"] ?? 0,
            retransmissions: (all["visitrelay_retransmissions_sent_total"] ?? 0)
                + (all["visitrelay_recovered_by_retransmission_total"] ?? 0)
        )
    }

    func leaveAll() async {
        for session in sessions { await signaling.leave(session) }
        sessions = []
    }
}
