/// The relay of one media worker, sans-I/O: every room pinned to that worker, their participants'
/// transports (ICE-lite, DTLS-SRTP) and the forwarding between them.
///
/// Inputs are datagrams with their source and the time, timer ticks with the time, and commands from
/// signaling (join, restart, leave). Outputs are datagrams appended to a caller-owned batch and
/// events signaling takes with `takeEvents()`. The daemon owns one `RelayCore` per worker thread and
/// never shares it; tests drive it with a fake clock.
///
/// Work in progress: the API is what the daemon codes against; joins are refused until the
/// transport and router land.
public struct RelayCore: ~Copyable {
    public let configuration: RelayCoreConfiguration
    public let identity: DtlsIdentity
    private var events: [RelayEvent] = []

    public init(configuration: RelayCoreConfiguration, identity: DtlsIdentity) {
        self.configuration = configuration
        self.identity = identity
    }

    /// Admits a participant with its SDP offer and returns our answer.
    public mutating func join(
        room: String, role: ParticipantRole, offer: String, now: ContinuousClock.Instant
    ) throws(JoinError) -> JoinResult {
        throw .badOffer("the relay core does not accept participants yet")
    }

    /// Answers an ICE restart offer (new ufrag/pwd) for an existing participant.
    public mutating func restartIce(
        _ participant: ParticipantID, offer: String, now: ContinuousClock.Instant
    ) throws(JoinError) -> String {
        throw .unknownParticipant(participant)
    }

    /// Removes a participant; the others' slots for it go empty.
    public mutating func leave(_ participant: ParticipantID, now: ContinuousClock.Instant) {}

    /// The room as `participant` sees it, or nil if unknown.
    public func roomView(for participant: ParticipantID) -> RoomView? { nil }

    /// Events since the last call, oldest first.
    public mutating func takeEvents() -> [RelayEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    /// Handles one received datagram (STUN, DTLS, SRTP or SRTCP by RFC 7983 first byte) in place.
    public mutating func receive(
        _ datagram: UnsafeMutableRawBufferPointer, length: Int, from source: TransportAddress,
        now: ContinuousClock.Instant, into output: inout OutgoingDatagrams
    ) {}

    /// Runs due timers (DTLS retransmission, consent, RTCP reports, keyframe requests).
    /// The worker calls it every `RelayCore.tickInterval`.
    public mutating func handleTimers(now: ContinuousClock.Instant, into output: inout OutgoingDatagrams) {}

    /// How often the worker should call `handleTimers`.
    public static let tickInterval: Duration = .milliseconds(10)
}
