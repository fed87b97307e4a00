/// The relay of one media worker, sans-I/O: every room pinned to that worker, their participants'
/// transports (ICE-lite, DTLS-SRTP) and the forwarding between them.
///
/// Inputs are datagrams with their source and the time, timer ticks with the time, and commands from
/// signaling (join, restart, leave). Outputs are datagrams appended to a caller-owned batch and
/// events signaling takes with `takeEvents()`. The daemon owns one `RelayCore` per worker thread and
/// never shares it; tests drive it with a fake clock.
public struct RelayCore: ~Copyable {
    /// How often the worker should call `handleTimers`.
    public static let tickInterval: Duration = .milliseconds(10)

    public let configuration: RelayCoreConfiguration
    public let identity: DtlsIdentity
    /// Datagram and drop counters of this worker.
    public internal(set) var counters = RelayCounters()

    var participants: [ParticipantID: Participant] = [:]
    /// Room name → participants in join order.
    var rooms: [String: [ParticipantID]] = [:]
    /// Our ICE ufrag → participant, to find who a binding request is for.
    var byUfrag: [String: ParticipantID] = [:]
    /// Valid (STUN-authenticated) source address → participant.
    var byAddress: [TransportAddress: ParticipantID] = [:]
    var events: [RelayEvent] = []
    var random: SplitMix64
    /// Budget of datagrams from addresses bound to no participant (STUN checks before ICE, floods).
    var unknownSources: SourceRateLimiter
    private var nextParticipant: UInt64

    /// `seed` makes SSRCs, credentials and sequence starts repeatable in tests; the daemon passes
    /// a random seed. `firstParticipantID` lets several workers hand out distinct ids.
    public init(
        configuration: RelayCoreConfiguration,
        identity: DtlsIdentity,
        seed: UInt64,
        firstParticipantID: UInt64 = 1
    ) {
        self.configuration = configuration
        self.identity = identity
        var random = SplitMix64(seed: seed)
        self.unknownSources = SourceRateLimiter(
            rate: configuration.unknownSourceRate,
            burst: configuration.unknownSourceBurst,
            seed: random.next()
        )
        self.random = random
        self.nextParticipant = firstParticipantID
    }

    // MARK: - Commands from signaling

    /// Admits a participant with its SDP offer and returns our answer.
    ///
    /// `credentials` are our ICE ufrag and password for this participant; the password keys
    /// MESSAGE-INTEGRITY, so the daemon draws them from the system's cryptographic generator. When nil
    /// (tests), they come from the core's seeded generator.
    public mutating func join(
        room: String,
        role: ParticipantRole,
        offer: String,
        credentials: IceCredentials? = nil,
        now: ContinuousClock.Instant
    ) throws(JoinError) -> JoinResult {
        let members = rooms[room] ?? []
        guard members.count < configuration.maxParticipantsPerRoom else {
            throw .roomFull(room: room, limit: configuration.maxParticipantsPerRoom)
        }
        if clockOrigin == nil { clockOrigin = now }
        let credentials = credentials ?? IceCredentials.random(using: &random)
        let id = ParticipantID(rawValue: nextParticipant)
        let negotiation = try negotiate(
            offer: offer,
            local: credentials,
            receiveSlots: configuration.maxParticipantsPerRoom - 1,
            now: now
        )
        let dtls: DtlsEndpoint
        do {
            dtls = try DtlsEndpoint(role: .server, identity: identity, remoteFingerprint: negotiation.remoteFingerprint)
        } catch {
            throw .badOffer("cannot start DTLS: \(error)")
        }
        nextParticipant += 1
        let participant = Participant(
            id: id,
            room: room,
            role: role,
            joinedAt: now,
            ice: IceLiteAgent(
                local: credentials,
                remoteUfrag: negotiation.remoteUfrag,
                consentTimeout: configuration.consentTimeout
            ),
            remoteIcePassword: negotiation.remotePassword,
            dtls: dtls,
            audio: negotiation.audio,
            video: negotiation.video,
            slots: negotiation.slots,
            rtcpSSRC: UInt32.random(in: 1...UInt32.max, using: &random),
            lifetime: SessionLifetimeStateMachine(answeredAt: now, connectTimeout: configuration.connectTimeout)
        )
        _ = participant.dtls.start(now: now)
        participant.transportSequenceExtension = negotiation.transportSequenceExtension
        if negotiation.uplinkTransportCC { participant.transportFeedback = TransportFeedbackGenerator(origin: now) }
        if negotiation.downlinkTransportCC {
            participant.downlink = SendSideEstimator(parameters: configuration.downlinkParameters, origin: now)
            participant.pacer = makePacer()
        }
        participants[id] = participant
        byUfrag[credentials.ufrag] = id
        rooms[room, default: []].append(id)
        assignSlots(room: room, now: now)
        events.append(.roomChanged(room: room))
        return JoinResult(participant: id, answerSDP: negotiation.answerSDP)
    }

    /// Answers an ICE restart offer (new ufrag/pwd) for an existing participant.
    public mutating func restartIce(
        _ id: ParticipantID,
        offer: String,
        credentials: IceCredentials? = nil,
        now: ContinuousClock.Instant
    ) throws(JoinError) -> String {
        guard let participant = participants[id] else { throw .unknownParticipant(id) }
        let credentials = credentials ?? IceCredentials.random(using: &random)
        let negotiation = try negotiate(
            offer: offer,
            local: credentials,
            receiveSlots: participant.slots.count,
            existing: participant,
            now: now
        )
        byUfrag[participant.ice.local.ufrag] = nil
        byUfrag[credentials.ufrag] = id
        participant.ice.restart(local: credentials, remoteUfrag: negotiation.remoteUfrag, now: now)
        participant.remoteIcePassword = negotiation.remotePassword
        participant.lifetime.iceRestarted(now: now)
        return negotiation.answerSDP
    }

    /// Removes a participant at signaling's request (`DELETE`, or a rejoin replacing it); the
    /// others' slots showing it go empty, and `.sessionEnded` reports it with `reason`.
    public mutating func leave(_ id: ParticipantID, reason: SessionEndReason = .left, now: ContinuousClock.Instant) {
        guard let participant = participants[id] else { return }
        _ = participant.lifetime.removed(reason)
        remove(id, reason: reason, now: now)
    }

    /// Queues the end of a session the lifetime state machine decided; the participant is removed
    /// by `removeEndedSessions` (not while its datagram or the participant walk is still running).
    mutating func endSession(_ participant: Participant, _ action: SessionLifetimeStateMachine.Action) {
        guard case .end(let reason) = action else { return }
        sessionsEnding.append((participant.id, reason))
    }

    /// Removes the participants whose sessions ended since the last call.
    mutating func removeEndedSessions(now: ContinuousClock.Instant) {
        guard !sessionsEnding.isEmpty else { return }
        let ending = sessionsEnding
        sessionsEnding.removeAll(keepingCapacity: true)
        for (id, reason) in ending { remove(id, reason: reason, now: now) }
    }

    private mutating func remove(_ id: ParticipantID, reason: SessionEndReason, now: ContinuousClock.Instant) {
        guard let participant = participants.removeValue(forKey: id) else { return }
        participant.sinks.removeAll()  // the room's lists are rebuilt below, without it
        participant.dtls.close()
        keyframes.forget(source: id)
        byUfrag[participant.ice.local.ufrag] = nil
        for (address, owner) in byAddress where owner == id { byAddress[address] = nil }
        rooms[participant.room]?.removeAll { $0 == id }
        if rooms[participant.room]?.isEmpty == true { rooms[participant.room] = nil }
        for other in rooms[participant.room] ?? [] {
            guard let receiver = participants[other], let slot = receiver.slotIndex(showing: id) else { continue }
            receiver.slots[slot].attach(nil)
            receiver.slots[slot].audio.detachSource()
            receiver.slots[slot].video.detachSource()
        }
        assignSlots(room: participant.room, now: now)
        events.append(.sessionEnded(id, room: participant.room, reason: reason))
        events.append(.roomChanged(room: participant.room))
    }

    /// The room as `participant` sees it, or nil if unknown.
    public func roomView(for id: ParticipantID) -> RoomView? {
        guard let participant = participants[id] else { return nil }
        let slots = participant.slots.map { slot in
            RoomSlot(
                slot: slot.index,
                audioMid: slot.audioMid,
                videoMid: slot.videoMid,
                participant: slot.source,
                role: slot.source.flatMap { participants[$0]?.role },
                videoPaused: slot.videoPaused,
                camera: slot.source.flatMap { participants[$0] }.map { $0.video != nil } ?? false
            )
        }
        return RoomView(room: participant.room, participant: id, role: participant.role, slots: slots)
    }

    /// Participants of a room in join order (for signaling fan-out).
    public func members(of room: String) -> [ParticipantID] { rooms[room] ?? [] }

    /// Rooms with at least one participant on this worker.
    public var roomCount: Int { rooms.count }

    /// Participants on this worker by role (for metrics; not for the data path).
    public var participantsByRole: [ParticipantRole: Int] {
        var counts: [ParticipantRole: Int] = [:]
        for participant in participants.values { counts[participant.role, default: 0] += 1 }
        return counts
    }

    /// Events since the last call, oldest first.
    public mutating func takeEvents() -> [RelayEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    /// Gives every receiver a slot for every other member (lowest free slot, stable while both stay),
    /// and asks new sources for a keyframe so their new receivers start decoding at once.
    mutating func assignSlots(room: String, now: ContinuousClock.Instant) {
        let members = rooms[room] ?? []
        var needKeyframe: Set<ParticipantID> = []
        for receiverID in members {
            guard let receiver = participants[receiverID] else { continue }
            for sourceID in members where sourceID != receiverID && receiver.slotIndex(showing: sourceID) == nil {
                guard let free = receiver.slots.firstIndex(where: { $0.source == nil }) else { break }
                receiver.slots[free].attach(sourceID, simulcast: participants[sourceID]?.video?.isSimulcast ?? false)
                needKeyframe.insert(sourceID)
            }
        }
        rebuildSinks(room: room)
        for source in needKeyframe { requestKeyframes(from: source, urgent: true) }
    }

    /// Asks `source` for a keyframe on every encoding it publishes, for a new receiver; `urgent`
    /// lifts the per-encoding interval (that receiver is waiting for its first picture).
    mutating func requestKeyframes(from source: ParticipantID, urgent: Bool = false) {
        guard let participant = participants[source] else { return }
        for index in participant.video?.encodings.indices ?? 0..<1 {
            keyframes.request(KeyframeRequest(source: source, encoding: index), reason: .newReceiver, urgent: urgent)
        }
    }

    /// Asks the sources of everything `receiver` is shown for a keyframe: it can receive for the
    /// first time, or its path moved (a handover, or an ICE restart after an outage) and what was in
    /// flight towards the old one is lost, so its decoders need a fresh start rather than waiting to
    /// find the gap themselves.
    mutating func requestKeyframes(forReceiver receiver: Participant, reason: KeyframeReason) {
        for slot in receiver.slots {
            if let request = slot.keyframeRequest { keyframes.request(request, reason: reason) }
        }
    }

    /// Queues one SRTP or SRTCP packet for `participant`: `write` fills the plaintext into an output
    /// slot and returns its length; the packet is protected in place with the participant's
    /// outbound context. Returns false if the participant cannot receive yet, the batch is full, or
    /// nothing was written.
    mutating func sendProtected(
        to participant: Participant,
        rtcp: Bool,
        into output: inout OutgoingDatagrams,
        _ write: (UnsafeMutableRawBufferPointer) -> Int
    ) -> Bool {
        guard participant.srtpOutbound != nil, let destination = participant.ice.selectedAddress else { return false }
        var wrote = false
        let appended = output.append(to: destination) { buffer in
            let length = write(buffer)
            guard length > 0, length + SrtpContext.maxTrailerLength <= buffer.count else { return 0 }
            var bytes = buffer.mutableBytes
            do throws(SrtpError) {
                let protected =
                    rtcp
                    ? try participant.srtpOutbound?.protectRTCP(&bytes, length: length) ?? 0
                    : try participant.srtpOutbound?.protectRTP(&bytes, length: length) ?? 0
                wrote = protected > 0
                return protected
            } catch {
                return 0
            }
        }
        if !appended { counters.drop(.outputFull) }
        if appended && wrote {
            participant.traffic.bytesOut &+= UInt64(output.datagram(at: output.count - 1).bytes.count)
        }
        return appended && wrote
    }

    /// Which streams owe a keyframe, why, and when their PLI may go.
    var keyframes = KeyframeRequestScheduler()
    /// Reused by `sendKeyframeRequests` (no allocation per tick once grown).
    var keyframeScratch: [KeyframeRequest] = []
    /// The first instant the core saw; NTP time counts from here without a wall-clock reference.
    var clockOrigin: ContinuousClock.Instant?

    /// The NTP timestamp (RFC 5905) at `now`, for sender reports and RTT.
    func ntp(at now: ContinuousClock.Instant) -> UInt64 {
        (configuration.wallClock ?? WallClockReference(instant: clockOrigin ?? now, unixSeconds: 0)).ntp(at: now)
    }

    /// Sessions the lifetime state machines ended during this datagram or tick, removed after it.
    var sessionsEnding: [(ParticipantID, SessionEndReason)] = []
    /// Reused for the sequence numbers of one NACK (no allocation per tick).
    var nackScratch: [UInt16] = []
    /// SRTP authentication attempts left this tick for packets from unknown addresses (handover latching).
    var latchAttemptsLeft = RelayCore.latchAttemptsPerTick
    static let latchAttemptsPerTick = 32
    /// Reused for the arrivals of one transport-wide feedback round (grows once, to the ring size).
    var feedbackScratch: [RTCPTransportFeedbackArrival] = []
}
