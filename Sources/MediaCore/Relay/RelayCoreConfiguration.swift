/// Settings of one media worker's relay core.
public struct RelayCoreConfiguration: Sendable {
    /// The address announced as our ICE host candidate (the worker's socket, or a NAT/link-emulator
    /// address in front of it: `--announce-address`).
    public var announcedAddress: TransportAddress
    /// The passive ICE-TCP candidate (RFC 6544 §4.5) announced next to the UDP one, with lower
    /// priority, for browsers on networks that block UDP. Nil: UDP only.
    public var announcedTCPAddress: TransportAddress?
    /// Most participants in one room (the web client offers `maxParticipants - 1` receive slots).
    public var maxParticipantsPerRoom: Int
    /// RFC 7675 consent freshness: media stops when no authenticated check arrived for this long.
    public var consentTimeout: Duration
    /// How long after our answer ICE and DTLS may take before the session is ended (`SessionLifetimeStateMachine`).
    public var connectTimeout: Duration = SessionLifetimeStateMachine.defaultConnectTimeout

    /// Maps the monotonic clock onto wall-clock time for the NTP timestamps of sender reports
    /// (RFC 3550 §6.4.1). The daemon reads both clocks once at start-up; MediaCore never does.
    /// Nil (tests and simulators): NTP time counts from the core's first join, which is all that
    /// RTT measurement (LSR/DLSR) needs.
    public var wallClock: WallClockReference?
    /// How often each participant gets our sender and receiver reports (RFC 3550 §6.2 allows a
    /// fixed interval for a small number of participants).
    public var reportInterval: Duration
    /// Relay-side loss repair (issue: packet buffer, NACK and RTX): NACK towards senders, with their
    /// RTX forwarded as the original packets, and retransmissions from a cache towards receivers.
    /// Off, the relay negotiates no NACK at all (for comparison).
    public var relayNack: Bool
    /// Audio repair (issue: audio that survives rural 4G): RED (RFC 2198) accepted from senders and
    /// built towards receivers that offer it, with one or two repeats from each receiver's reported
    /// loss; audio NACKs answered from a per-slot cache and sent to senders that offer `rtcp-fb nack`
    /// for Opus, each within `RelayCore.audioRepairHorizon`. Off, audio is forwarded as it comes,
    /// with neither (for comparison).
    public var audioRepair = true
    /// Transport-wide congestion control feedback towards senders that offer it (draft-holmer-rmcat-
    /// transport-wide-cc-extensions-01), so each browser's own estimator sees its uplink through the
    /// relay. Off, senders get no delay feedback and stay near their start rate.
    public var transportFeedback: Bool
    /// The relay's own estimator towards each receiver that offers transport-cc: what it forwards
    /// carries transport-wide sequence numbers, the receiver's feedback drives a send-side estimator
    /// (GCC family, `downlinkParameters`), and each sender is capped by REMB at its receivers' share.
    public var downlinkEstimation: Bool
    public var downlinkParameters: SendSideEstimatorParameters
    /// Simulcast from senders that offer it (RFC 8853, rids per RFC 8851): the relay receives up to
    /// `maxSimulcastEncodings` encodings and forwards to each receiver the best one its share can
    /// carry. Off, the answer declines simulcast and the sender sends one stream.
    public var simulcast = true
    /// Which code protects RTP under AEAD_AES_128_GCM: ours (no allocation per packet) or libsrtp's,
    /// as a fallback should an interoperability problem appear, and for A/B load runs.
    public var srtpRTP: SrtpContext.RTPImplementation = .preferOwn
    public static let maxSimulcastEncodings = VideoStreamAllocator.maxEncodings
    /// How video is paced towards each receiver that gives transport-cc feedback (RelayCore+Pacing):
    /// its pacer's settings and a congestion window wide enough for a source's overshoot, so that it
    /// holds video only once that receiver's feedback has stopped (an outage).
    public var downlinkPacing = DownlinkPacing()
    /// The allocator towards each receiver (with downlink estimation): audio is reserved
    /// `audioShareBps` of a stream's share; video pauses when what is left falls below
    /// `videoFloorBps`, and resumes at the source's next keyframe after it has been at least
    /// `videoResumeBps` for `videoResumeHold`. While paused, padding at 1.2 × the resume rate probes.
    public var audioShareBps: UInt64 = Self.defaultAudioShareBps
    public var videoFloorBps = UInt64(Self.defaultVideoPauseThresholds.floorBps)
    public var videoResumeBps = UInt64(Self.defaultVideoPauseThresholds.resumeBps)
    public var videoResumeHold = Self.defaultVideoPauseThresholds.hold
    /// The defaults of the three above, which `bwe-sim` runs with too.
    public static let defaultAudioShareBps: UInt64 = 40_000
    public static let defaultVideoPauseThresholds = VideoPauseHysteresis.Thresholds(
        floorBps: 50_000,
        resumeBps: 100_000,
        hold: .seconds(1)
    )
    var videoPauseThresholds: VideoPauseHysteresis.Thresholds {
        .init(floorBps: Double(videoFloorBps), resumeBps: Double(videoResumeBps), hold: videoResumeHold)
    }
    /// Datagrams per second the worker handles from each address bound to no participant: ICE
    /// checks before a pair is chosen, and everything a scanner or flood sends. A browser's checks
    /// stay well below it (RFC 8445 §14: one check per 50 ms per pair). 0: no limit.
    public var unknownSourceRate: Int
    /// How many such datagrams one address may send at once after a quiet spell.
    public var unknownSourceBurst: Int

    public init(
        announcedAddress: TransportAddress,
        announcedTCPAddress: TransportAddress? = nil,
        maxParticipantsPerRoom: Int = 4,
        consentTimeout: Duration = .seconds(30),
        wallClock: WallClockReference? = nil,
        reportInterval: Duration = .seconds(1),
        relayNack: Bool = true,
        transportFeedback: Bool = true,
        downlinkEstimation: Bool = true,
        downlinkParameters: SendSideEstimatorParameters = .rural4G,
        unknownSourceRate: Int = 50,
        unknownSourceBurst: Int = 100
    ) {
        self.downlinkEstimation = downlinkEstimation
        self.downlinkParameters = downlinkParameters
        self.unknownSourceRate = unknownSourceRate
        self.unknownSourceBurst = unknownSourceBurst
        self.relayNack = relayNack
        self.transportFeedback = transportFeedback
        self.announcedAddress = announcedAddress
        self.announcedTCPAddress = announcedTCPAddress.map { $0.on(.tcp) }
        self.maxParticipantsPerRoom = maxParticipantsPerRoom
        self.consentTimeout = consentTimeout
        self.wallClock = wallClock
        self.reportInterval = reportInterval
    }
}

/// One reading of the monotonic clock and the wall clock taken together.
public struct WallClockReference: Sendable {
    public let instant: ContinuousClock.Instant
    /// Seconds since 1970-01-01 UTC at `instant`.
    public let unixSeconds: Double

    public init(instant: ContinuousClock.Instant, unixSeconds: Double) {
        self.instant = instant
        self.unixSeconds = unixSeconds
    }

    /// The 64-bit NTP timestamp (RFC 5905 §6: seconds since 1900 in 32.32 fixed point) at `now`.
    public func ntp(at now: ContinuousClock.Instant) -> UInt64 {
        let (seconds, attoseconds) = (now - instant).components
        let unix = unixSeconds + Double(seconds) + Double(attoseconds) / 1e18
        let ntp = unix + 2_208_988_800
        let whole = UInt64(ntp)
        let fraction = UInt64((ntp - Double(whole)) * 4_294_967_296)
        return whole << 32 | fraction
    }
}

/// What a successful join returns to signaling.
public struct JoinResult: Sendable, Equatable {
    public let participant: ParticipantID
    public let answerSDP: String
}

/// Why a join (or an ICE restart) was refused; signaling maps each to a 4xx answer.
public enum JoinError: Error, Equatable, Sendable {
    /// The offer did not parse or had nothing we accept; the message names the line.
    case badOffer(String)
    /// The room already has `limit` participants.
    case roomFull(room: String, limit: Int)
    /// No such participant (for restart or leave).
    case unknownParticipant(ParticipantID)
}

/// One receive slot as a client sees it: which remote participant it shows, if any.
public struct RoomSlot: Sendable, Equatable {
    public let slot: Int
    public let audioMid: String
    public let videoMid: String
    public let participant: ParticipantID?
    public let role: ParticipantRole?
    /// Video on this slot is paused for this receiver (its downlink is below the floor); audio goes on.
    public let videoPaused: Bool
    /// Whether the participant shown sends video at all: false when it joined without a camera (its
    /// offer's own video section is inactive), so the page shows a calm tile instead of a black one.
    public var camera: Bool = true

    public init(
        slot: Int,
        audioMid: String,
        videoMid: String,
        participant: ParticipantID?,
        role: ParticipantRole?,
        videoPaused: Bool,
        camera: Bool = true
    ) {
        self.slot = slot
        self.audioMid = audioMid
        self.videoMid = videoMid
        self.participant = participant
        self.role = role
        self.videoPaused = videoPaused
        self.camera = camera
    }
}

/// The room as one participant sees it; signaling sends it over the WebSocket as `{"type":"room"}`.
public struct RoomView: Sendable, Equatable {
    public let room: String
    public let participant: ParticipantID
    public let role: ParticipantRole
    public let slots: [RoomSlot]

    public init(room: String, participant: ParticipantID, role: ParticipantRole, slots: [RoomSlot]) {
        self.room = room
        self.participant = participant
        self.role = role
        self.slots = slots
    }
}

/// Things signaling must act on, taken with `RelayCore.takeEvents()`.
public enum RelayEvent: Sendable, Equatable {
    /// Membership or slot assignment changed: send fresh `RoomView`s to everyone in the room.
    case roomChanged(room: String)
    /// A participant's session ended and it was removed from `room`: signaling removed it, or its
    /// media path died (never connected, consent expired, DTLS failed or closed). Signaling tells
    /// the client (`bye` with the reason) and counts it.
    case sessionEnded(ParticipantID, room: String, reason: SessionEndReason)
}
