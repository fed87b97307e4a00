/// What a datagram on a bundled WebRTC 5-tuple is, by its first byte (RFC 7983 §7, as updated by
/// RFC 9443 §3): STUN 0–3, DTLS 20–63, RTP/RTCP 128–191. RTCP is told from RTP by the second byte:
/// packet types 192–223 (RFC 5761 §4).
public enum DatagramKind: Sendable, Equatable {
    case stun, dtls, rtp, rtcp, unknown

    public init(firstByte: UInt8, secondByte: UInt8?) {
        switch firstByte {
        case 0...3: self = .stun
        case 20...63: self = .dtls
        case 128...191:
            if let secondByte, (192...223).contains(secondByte) { self = .rtcp } else { self = .rtp }
        default: self = .unknown
        }
    }
}

/// Why the relay dropped a datagram. Counted per reason in the worker's counters and metrics;
/// never logged per packet.
public enum DropReason: Int, Sendable, CaseIterable, CustomStringConvertible {
    case tooShort
    case unknownKind
    case stunMalformed
    case stunUnknownUsername
    case stunBadIntegrity
    case stunNotRequest
    case unknownAddress
    case dtlsBeforeIce
    case dtlsFailed
    case srtpBeforeDtls
    case srtpAuthentication
    case srtpReplay
    case rtpMalformed
    case rtcpMalformed
    case unknownSSRC
    case noReceiver
    case outputFull
    case rtxWithoutNack
    case paddingOnly
    /// From an address bound to no participant, beyond `RelayCoreConfiguration.unknownSourceRate`.
    case rateLimited
    /// A RED payload (RFC 2198) whose block headers do not fit it.
    case redMalformed

    public var description: String {
        switch self {
        case .tooShort: "too_short"
        case .unknownKind: "unknown_kind"
        case .stunMalformed: "stun_malformed"
        case .stunUnknownUsername: "stun_unknown_username"
        case .stunBadIntegrity: "stun_bad_integrity"
        case .stunNotRequest: "stun_not_request"
        case .unknownAddress: "unknown_address"
        case .dtlsBeforeIce: "dtls_before_ice"
        case .dtlsFailed: "dtls_failed"
        case .srtpBeforeDtls: "srtp_before_dtls"
        case .srtpAuthentication: "srtp_authentication"
        case .srtpReplay: "srtp_replay"
        case .rtpMalformed: "rtp_malformed"
        case .rtcpMalformed: "rtcp_malformed"
        case .unknownSSRC: "unknown_ssrc"
        case .noReceiver: "no_receiver"
        case .outputFull: "output_full"
        case .rtxWithoutNack: "rtx_without_nack"
        case .paddingOnly: "padding_only"
        case .rateLimited: "rate_limited"
        case .redMalformed: "red_malformed"
        }
    }
}

/// Per-worker counters, read by the daemon for metrics. Plain integers: one worker owns them.
public struct RelayCounters: Sendable, Equatable {
    public var datagramsIn = 0
    public var bytesIn = 0
    public var rtpForwarded = 0
    public var bytesForwarded = 0
    public var rtcpIn = 0
    public var keyframeRequestsSent = 0
    /// Generic NACK packets sent to senders, and sequence numbers they asked for.
    public var nacksSent = 0
    public var nackedPackets = 0
    /// Sender retransmissions (RTX) forwarded as the original packets.
    public var recoveredByRetransmission = 0
    /// Opus packets an uplink lost that a sender's RED brought anyway; sender retransmissions of
    /// audio forwarded; and the repeats we put into RED towards receivers.
    public var audioRecoveredByRedundancy = 0
    public var audioRecoveredByRetransmission = 0
    public var audioRedundantBlocksSent = 0
    /// Opus packets from senders whose encoder added in-band FEC (SILK LBRR, `OpusInbandFEC`):
    /// what the loss in our receiver reports made it do.
    public var audioInbandFECReceived = 0
    /// Receiver NACKs for audio answered from the audio cache (also in `retransmissionsSent`).
    public var audioRetransmissionsSent = 0
    /// VP8 frames received complete (all packets, start to marker), and keyframes begun.
    public var framesAssembled = 0
    public var keyframesReceived = 0
    /// Receiver NACKs answered from the RTX cache, and requests that could not be served.
    public var retransmissionsSent = 0
    public var retransmissionsUnavailable = 0
    /// Receiver NACKs for a packet already resent within the last RTT (the resend may still arrive).
    public var retransmissionsSuppressed = 0
    /// Receiver NACKs for audio the relay does not answer: no longer held, or past the repair
    /// horizon (a browser's NetEq asks again for packets it will never play).
    public var audioRetransmissionsUnavailable = 0
    /// REMB caps sent to senders (operator bitrate limits).
    public var rembsSent = 0
    /// Times authenticated SRTP from a new address moved a participant there (handover, NAT rebinding).
    public var addressLatches = 0
    /// Transport-wide congestion control feedback packets sent to senders.
    public var transportFeedbackSent = 0
    /// Transport-cc feedback packets receivers sent about what we forward them.
    public var transportFeedbackReceived = 0
    /// Video towards a receiver paused below the floor, and resumed; padding probes sent meanwhile.
    public var videoPauses = 0
    public var videoResumes = 0
    public var paddingProbesSent = 0
    /// Times a receive slot moved to another simulcast encoding of its source (at a keyframe).
    public var layerSwitches = 0
    /// Video packets and retransmissions queued in a receiver's pacer (RelayCore+Pacing); packets
    /// sent at once because it was full; queued packets that could not be sent when they left.
    public var packetsPaced = 0
    public var pacerOverflowed = 0
    public var pacedUndeliverable = 0
    /// Towards receivers whose feedback has gone silent (an outage, `DownlinkPacing.outageSilence`):
    /// queued video and retransmissions dropped as stale, audio packets not sent.
    public var videoDroppedUnreachable = 0
    public var audioDroppedUnreachable = 0
    public private(set) var drops = [Int](repeating: 0, count: DropReason.allCases.count)
    /// PLIs sent to senders, by the reason the keyframe was first asked for (`KeyframeReason`).
    public internal(set) var keyframeRequestsSentFor = [Int](repeating: 0, count: KeyframeReason.allCases.count)
    public func keyframeRequestsSent(for reason: KeyframeReason) -> Int { keyframeRequestsSentFor[reason.rawValue] }

    public init() {}

    public mutating func drop(_ reason: DropReason) { drops[reason.rawValue] += 1 }
    public func dropped(_ reason: DropReason) -> Int { drops[reason.rawValue] }
    public var totalDropped: Int { drops.reduce(0, +) }
}
