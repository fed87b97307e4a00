/// What a participant sends, as negotiated from its offer: one audio and one video stream.
struct PublishedStream: Sendable {
    var mid: String
    /// The sender's media SSRC, when its offer signalled it (`a=ssrc`); otherwise learned from the
    /// first packet carrying this section's MID.
    var ssrc: UInt32?
    /// The sender's RTX SSRC (RFC 4588), if signalled.
    var rtxSSRC: UInt32?
    /// Sender payload type → codec, for mapping onto each receiver's payload types.
    var codecs: [UInt8: MediaCodec]
    /// What we received of it, for our receiver reports.
    var statistics: ReceiveStatistics?
    /// RTX payload type → the payload type it repairs (RFC 4588 §8.6 `apt`).
    var rtxPayloadTypes: [UInt8: UInt8] = [:]
    /// Loss detection and NACK scheduling (video, when relay-side repair is on).
    var nack: NackGenerator?
    /// VP8 frame assembly: complete frames, keyframes, decodable-from-here (video).
    var frames: FrameAssembler?
    /// Middle 32 bits of the NTP time of the sender's last SR, and when it arrived (for LSR/DLSR).
    var lastSenderReport: (ntpMiddle: UInt32, at: ContinuousClock.Instant)?
}

/// The codecs the relay forwards (by RTP encoding name, RFC 8866 §6.6 `a=rtpmap`).
enum MediaCodec: String, Sendable, Equatable {
    case opus = "opus"
    case vp8 = "vp8"
    case h264 = "h264"
    case rtx = "rtx"

    init?(encodingName: String) {
        self.init(rawValue: encodingName.lowercased())
    }

    var clockRate: UInt32 { self == .opus ? 48_000 : 90_000 }
}

/// One receive slot towards a participant: an audio and a video m-section the relay sends on.
struct ReceiveSlot {
    let index: Int
    let audioMid: String
    let videoMid: String
    /// Receiver payload type per codec for this slot's sections.
    var audioPayloadTypes: [MediaCodec: UInt8]
    var videoPayloadTypes: [MediaCodec: UInt8]
    var audio: OutgoingStreamRewriter
    var video: OutgoingStreamRewriter
    /// What we sent on the video stream, to answer the receiver's NACKs (relay-side repair on).
    var videoCache: RtxCache?
    /// The participant shown in this slot, if any.
    var source: ParticipantID?
    /// Whether video on this slot is paused: the receiver's share of its downlink fell below the
    /// floor (audio goes on). Padding probes the link meanwhile.
    var videoPause = VideoPauseHysteresis()
    var videoPaused: Bool { videoPause.isPaused }
    /// After a pause (or at any switch) video restarts only at the source's next keyframe.
    var awaitingKeyframe = false
}

/// One participant's state on a worker: its transport (ICE-lite, DTLS, SRTP), what it publishes and
/// its receive slots. A class because it owns non-copyable crypto state and lives in dictionaries;
/// confined to the worker that owns the room.
final class Participant {
    let id: ParticipantID
    let room: String
    let role: ParticipantRole
    let joinedAt: ContinuousClock.Instant
    var ice: IceLiteAgent
    var remoteIcePassword: String
    var dtls: DtlsEndpoint
    var srtpInbound: SrtpContext?
    var srtpOutbound: SrtpContext?
    var audio: PublishedStream?
    var video: PublishedStream?
    var slots: [ReceiveSlot]
    /// When we last asked this participant for a keyframe (rate limit).
    var lastKeyframeRequest: ContinuousClock.Instant?
    /// The address DTLS datagrams go to (the address the last DTLS datagram came from).
    var dtlsPeer: TransportAddress?
    /// When this participant last got our RTCP reports.
    var lastReport: ContinuousClock.Instant?
    /// Round-trip time to this participant, from its receiver reports on our sender reports.
    var rtt: Duration = .milliseconds(100)
    /// False until a report block gave a real RTT (`rtt` is a starting guess until then).
    var rttMeasured = false
    /// Transport-wide congestion control (RelayCoreConfiguration.transportFeedback): the extension id
    /// of the transport-wide sequence number in what it sends, and the arrivals to report back.
    var transportSequenceExtension: UInt8?
    var transportFeedback: TransportFeedbackGenerator?
    /// Our estimate of the path towards it (RelayCoreConfiguration.downlinkEstimation), fed by its
    /// transport-cc feedback on the transport-wide numbers we write into what we forward to it.
    var downlink: SendSideEstimator?
    /// Padding-probe pacing while video towards it is paused (RelayCore+Allocation).
    var probeBudgetBytes: Double = 0
    var lastProbe: ContinuousClock.Instant?
    /// Fraction lost (1/256) the participant last reported on the streams we send it.
    var lossDown: UInt8 = 0
    /// Our RTCP sender SSRC towards this participant (for receiver-only reports and feedback).
    let rtcpSSRC: UInt32
    /// Operator bitrate limits (bits/s): what this participant may send, and may be sent.
    var limits = BitrateLimits()
    /// SRTP/SRTCP bytes from and to this participant, and the rates over the last second.
    var traffic = ParticipantTraffic()
    /// The last REMB cap sent to this participant as a sender, and when.
    var lastRemb: (bitrateBps: UInt64, at: ContinuousClock.Instant)?

    init(
        id: ParticipantID, room: String, role: ParticipantRole, joinedAt: ContinuousClock.Instant,
        ice: IceLiteAgent, remoteIcePassword: String, dtls: consuming DtlsEndpoint,
        audio: PublishedStream?, video: PublishedStream?, slots: [ReceiveSlot], rtcpSSRC: UInt32
    ) {
        self.rtcpSSRC = rtcpSSRC
        self.id = id
        self.room = room
        self.role = role
        self.joinedAt = joinedAt
        self.ice = ice
        self.remoteIcePassword = remoteIcePassword
        self.dtls = dtls
        self.audio = audio
        self.video = video
        self.slots = slots
    }

    var isMediaReady: Bool { srtpOutbound != nil && ice.selectedAddress != nil }

    /// The slot showing `source`, if any.
    func slotIndex(showing source: ParticipantID) -> Int? {
        slots.firstIndex { $0.source == source }
    }
}
