/// One RTP stream a participant publishes in a section: the section's only stream, or with
/// simulcast (RFC 8853) one of its encodings, named by its rid (RFC 8851). Everything the relay
/// keeps per sender SSRC lives here.
struct PublishedEncoding: Sendable {
    /// The encoding's rid as bytes (compared with the RtpStreamId extension without allocating);
    /// nil without simulcast.
    var rid: [UInt8]?
    /// The media SSRC, when the offer signalled it (`a=ssrc`); otherwise learned from the first
    /// packet (by its rid with simulcast).
    var ssrc: UInt32?
    /// The RTX SSRC (RFC 4588), if signalled or learned (by the RepairedRtpStreamId extension).
    var rtxSSRC: UInt32?
    /// What we received of it, for our receiver reports.
    var statistics: ReceiveStatistics?
    /// Loss detection and NACK scheduling (video with relay-side repair on); for audio with audio
    /// repair on, also what tells a packet RED repeats from one not yet seen.
    var nack: NackGenerator?
    /// VP8 frame assembly: complete frames, keyframes, decodable-from-here (video).
    var frames: FrameAssembler?
    /// Middle 32 bits of the NTP time of the sender's last SR, and when it arrived (for LSR/DLSR).
    var lastSenderReport: (ntpMiddle: UInt32, at: ContinuousClock.Instant)?
    /// Its received bitrate, which the allocator compares with each receiver's share.
    var rate = EncodingRate()

    init(rid: String? = nil, ssrc: UInt32? = nil, rtxSSRC: UInt32? = nil) {
        self.rid = rid.map { Array($0.utf8) }
        self.ssrc = ssrc
        self.rtxSSRC = rtxSSRC
    }

    var ridText: String? { rid.map { String(decoding: $0, as: UTF8.self) } }

    /// The SSRC of its media or of its RTX stream, when known.
    func ssrc(of stream: EncodingStream) -> UInt32? { stream == .media ? ssrc : rtxSSRC }

    mutating func setSSRC(_ value: UInt32, of stream: EncodingStream) {
        if stream == .media { ssrc = value } else { rtxSSRC = value }
    }
}

/// Which of an encoding's two RTP streams (RFC 8852 §3): the media, named by RtpStreamId, or its RTX
/// repair stream (RFC 4588), named by RepairedRtpStreamId.
enum EncodingStream: Sendable { case media, repair }

/// What a participant sends in one section, as negotiated from its offer: one audio and one video
/// section, the video possibly as simulcast encodings.
struct PublishedStream: Sendable {
    var mid: String
    /// Sender payload type → codec, for mapping onto each receiver's payload types.
    var codecs: [UInt8: MediaCodec]
    /// RTX payload type → the payload type it repairs (RFC 4588 §8.6 `apt`).
    var rtxPayloadTypes: [UInt8: UInt8] = [:]
    /// The RTP streams of this section: one, or one per simulcast rid in the offer's order.
    var encodings: [PublishedEncoding]
    /// Whether the sender answers our generic NACKs on this section (it offered `rtcp-fb nack` for
    /// the codec; audio only: video NACK goes by `RelayCoreConfiguration.relayNack`).
    var answersNack = false
    /// Extension ids of RtpStreamId and RepairedRtpStreamId (RFC 8852 §3), with simulcast.
    var ridExtension: UInt8?
    var repairedRidExtension: UInt8?

    init(mid: String, ssrc: UInt32? = nil, rtxSSRC: UInt32? = nil, codecs: [UInt8: MediaCodec]) {
        self.mid = mid
        self.codecs = codecs
        self.encodings = [PublishedEncoding(ssrc: ssrc, rtxSSRC: rtxSSRC)]
    }

    var isSimulcast: Bool { encodings.count > 1 }

    /// Reads from encoding `index` in place, through a pointer (`$0.pointee.field` loads only the
    /// field). `encodings[index].field`, or passing the element to a closure, copies the whole
    /// encoding first (retaining its NACK, frame and rid buffers); perf showed those copies on the
    /// per-packet path (issue: load harness).
    @inline(__always)
    func read<T>(_ index: Int, _ field: (UnsafePointer<PublishedEncoding>) -> T) -> T {
        encodings.withUnsafeBufferPointer { field($0.baseAddress! + index) }
    }

    /// The first encoding's SSRC (the only one without simulcast).
    var ssrc: UInt32? { encodings.isEmpty ? nil : read(0) { $0.pointee.ssrc } }

    /// The extension id that names `stream`'s encodings, with simulcast.
    func ridExtension(of stream: EncodingStream) -> UInt8? { stream == .media ? ridExtension : repairedRidExtension }

    /// The encoding whose `stream` (media or RTX) is known to be sent on `ssrc`.
    func encoding(sending ssrc: UInt32, on stream: EncodingStream) -> Int? {
        encodings.withUnsafeBufferPointer { buffer in
            buffer.indices.first { stream == .media ? buffer[$0].ssrc == ssrc : buffer[$0].rtxSSRC == ssrc }
        }
    }

    /// The encoding whose rid is `bytes` (an RtpStreamId extension's value).
    func encoding(rid bytes: UnsafeRawBufferPointer) -> Int? {
        encodings.withUnsafeBufferPointer { buffer in
            buffer.indices.first { index in
                buffer[index].rid?.withUnsafeBytes { $0.elementsEqual(bytes) } ?? false
            }
        }
    }

    /// Whether `ssrc` is one of its streams, media or RTX.
    func contains(ssrc: UInt32) -> Bool {
        encodings.withUnsafeBufferPointer { buffer in buffer.contains { $0.ssrc == ssrc || $0.rtxSSRC == ssrc } }
    }
}

/// The bitrate of one received encoding over one-second windows, and when its last packet came (a
/// simulcast sender stops encodings its own estimate cannot carry).
struct EncodingRate: Sendable {
    private var windowStart: ContinuousClock.Instant?
    private var windowBytes = 0
    /// Bits per second over the last full window.
    private(set) var bitsPerSecond: UInt64 = 0
    private(set) var lastPacket: ContinuousClock.Instant?

    mutating func record(bytes: Int, now: ContinuousClock.Instant) {
        lastPacket = now
        guard let start = windowStart else {
            windowStart = now
            windowBytes = bytes
            return
        }
        let elapsed = now - start
        if elapsed >= .seconds(1) {
            let (seconds, attoseconds) = elapsed.components
            bitsPerSecond = UInt64(Double(windowBytes * 8) / (Double(seconds) + Double(attoseconds) / 1e18))
            windowStart = now
            windowBytes = 0
        }
        windowBytes += bytes
    }

    /// Whether it has a measured rate and sent within `window` before `now`.
    func isActive(now: ContinuousClock.Instant, window: Duration) -> Bool {
        guard let lastPacket, bitsPerSecond > 0 else { return false }
        return now - lastPacket <= window
    }
}

/// The codecs the relay forwards (by RTP encoding name, RFC 8866 §6.6 `a=rtpmap`).
enum MediaCodec: String, Sendable, Equatable {
    case opus = "opus"
    case vp8 = "vp8"
    case h264 = "h264"
    case rtx = "rtx"
    /// Redundant audio (RFC 2198), around Opus.
    case red = "red"

    init?(encodingName: String) {
        self.init(rawValue: encodingName.lowercased())
    }

    var clockRate: UInt32 { self == .opus ? 48_000 : 90_000 }
}

/// One receive slot towards a participant: an audio and a video m-section the relay sends on.
/// A receive slot's RTX stream as the answer announces it, and the next sequence number on it.
struct PaddingRTXStream {
    let ssrc: UInt32
    /// The receiver's RTX payload type whose `apt` is the slot's VP8 payload type.
    let payloadType: UInt8
    var sequence: UInt16

    /// The sequence number of the next padding packet.
    mutating func next() -> UInt16 {
        sequence &+= 1
        return sequence
    }
}

struct ReceiveSlot {
    let index: Int
    let audioMid: String
    let videoMid: String
    /// Receiver payload type per codec for this slot's sections.
    var audioPayloadTypes: [MediaCodec: UInt8]
    var videoPayloadTypes: [MediaCodec: UInt8]
    var audio: OutgoingStreamRewriter
    var video: OutgoingStreamRewriter
    /// The RTX stream (RFC 4588) paired with `video` in the answer (`a=ssrc-group:FID`), when the
    /// receiver offered RTX: bandwidth probes go on it as padding-only packets, as libwebrtc pads,
    /// so a lost probe is a gap in no stream the receiver repairs (padding on the media SSRC took
    /// sequence numbers the receiver then NACKed).
    var paddingRTX: PaddingRTXStream?
    /// What we sent on the video stream, to answer the receiver's NACKs (relay-side repair on).
    var videoCache: RtxCache?
    /// The plain Opus packets we sent on the audio stream (audio repair on): NACK answers, and the
    /// repeats in RED.
    var audioCache: RtxCache?
    /// The fraction lost (1/256) the receiver last reported on this slot's audio: what the source
    /// hears as its receivers' loss.
    var audioLossReported: UInt8 = 0
    /// The participant shown in this slot, if any.
    var source: ParticipantID?
    /// The allocator's state for this slot's video: paused or not (the receiver's share of its
    /// downlink fell below the floor; audio goes on, padding probes the link), and the simulcast
    /// encoding it wants the receiver to see.
    var allocation = VideoStreamAllocator()
    var videoPaused: Bool { allocation.isPaused }
    /// The source's encoding this slot forwards now, and the one the allocator wants: they differ
    /// after a pause (nothing forwarded) or a simulcast switch, until the wanted encoding's next
    /// keyframe starts; until then the current one goes on.
    var forwardedEncoding: Int? = 0
    var targetEncoding: Int { allocation.targetEncoding }
    /// Keeps VP8 picture IDs and TL0PICIDX continuous across encodings and sources.
    var pictureIDs = VP8PictureIDRewriter()
    /// After a pause or a switch video restarts only at a keyframe of the wanted encoding.
    var awaitingKeyframe: Bool { forwardedEncoding != targetEncoding }
    /// The keyframe this slot's receiver needs from its source: on the encoding it forwards, or the
    /// one it waits to switch to. Nil for an empty slot.
    var keyframeRequest: KeyframeRequest? {
        source.map { KeyframeRequest(source: $0, encoding: forwardedEncoding ?? targetEncoding) }
    }

    /// Points the slot at a new source (or none). A single stream is forwarded from its next packet
    /// (the receiver's decoder waits for the keyframe the relay asks for); simulcast from the
    /// allocator's choice's first keyframe.
    mutating func attach(_ source: ParticipantID?, simulcast: Bool = false) {
        self.source = source
        forwardedEncoding = simulcast ? nil : 0
        allocation.sourceChanged()
    }
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
    /// Where its media goes: each receiver showing it, and the slot (`ForwardingSink`).
    var sinks: [ForwardingSink] = []
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
    /// What video towards it waits to leave, within that estimate (RelayCore+Pacing); nil without one.
    var pacer: MediaPacer?
    /// While its feedback is silent (an outage, `DownlinkPacing`): the audio that may still go, and
    /// whether its pacer dropped video it must now get a keyframe for.
    var outage = DownlinkOutage()
    /// Padding probes towards it (RelayCore+Allocation).
    var probePacer = PaddingProbePacer()
    /// Fraction lost (1/256) the participant last reported on the streams we send it.
    var lossDown: UInt8 = 0
    /// How many earlier Opus packets each RED packet towards it repeats, from that loss.
    var audioRedundancy = AudioRedundancyPolicy()
    /// Our RTCP sender SSRC towards this participant (for receiver-only reports and feedback).
    let rtcpSSRC: UInt32
    /// Operator bitrate limits (bits/s): what this participant may send, and may be sent.
    var limits = BitrateLimits()
    /// SRTP/SRTCP bytes from and to this participant, and the rates over the last second.
    var traffic = ParticipantTraffic()
    /// The last REMB cap sent to this participant as a sender, and when.
    var lastRemb: (bitrateBps: UInt64, at: ContinuousClock.Instant)?
    /// From our answer until the media path dies: the relay removes the participant when it ends.
    var lifetime: SessionLifetimeStateMachine

    init(
        id: ParticipantID,
        room: String,
        role: ParticipantRole,
        joinedAt: ContinuousClock.Instant,
        ice: IceLiteAgent,
        remoteIcePassword: String,
        dtls: consuming DtlsEndpoint,
        audio: PublishedStream?,
        video: PublishedStream?,
        slots: [ReceiveSlot],
        rtcpSSRC: UInt32,
        lifetime: SessionLifetimeStateMachine
    ) {
        self.rtcpSSRC = rtcpSSRC
        self.lifetime = lifetime
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

    /// Reads from slot `index` in place (see `PublishedStream.read`: Array's getter would copy the
    /// whole slot, retaining its rewriters' and cache's storage, on every forwarded packet).
    @inline(__always)
    func readSlot<T>(_ index: Int, _ field: (UnsafePointer<ReceiveSlot>) -> T) -> T {
        slots.withUnsafeBufferPointer { field($0.baseAddress! + index) }
    }

    /// The slot showing `source`, if any.
    func slotIndex(showing source: ParticipantID) -> Int? {
        slots.withUnsafeBufferPointer { buffer in buffer.indices.first { buffer[$0].source == source } }
    }
}
