/// What the relay needs from a participant's SDP offer (RFC 8866, JSEP RFC 9429), independent of
/// how it was parsed.
struct OfferSummary: Sendable {
    struct Codec: Sendable, Equatable {
        var payloadType: UInt8
        var name: String
        var clockRate: UInt32
        var channels: Int?
        var fmtp: String?
        var feedback: [String]
    }

    struct Section: Sendable {
        var kind: String  // "audio", "video", "application", …
        var mid: String
        var port: Int
        var proto: String
        var direction: String  // sendrecv, sendonly, recvonly, inactive
        var codecs: [Codec]
        var ssrcs: [UInt32]
        /// (primary, rtx) pairs from `a=ssrc-group:FID`.
        var fidGroups: [(UInt32, UInt32)]
        var rtcpRsize: Bool
        /// `a=bundle-only` (RFC 9143 §6): port 0 then means "in the bundle", not "rejected".
        var bundleOnly = false
        /// `a=extmap` lines (RFC 8285 §8).
        var extMaps: [SDPExtMap] = []
        /// The rids of `a=simulcast:send` (RFC 8853 §5.1, first alternative of each stream) that an
        /// `a=rid:<id> send` line declares (RFC 8851 §4), in the offer's order.
        var simulcastSendRids: [String] = []
    }

    var iceUfrag: String
    var icePassword: String
    var fingerprint: DtlsFingerprint
    var setup: String
    var sections: [Section]
}
