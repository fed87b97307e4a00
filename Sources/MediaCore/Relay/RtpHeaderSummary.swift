/// The RTP header fields the forwarder carries while it decides where a packet goes (RFC 3550 §5.1),
/// copied out of a validated `RTPPacketView` so that an RTX packet's fields can be replaced by the
/// ones of the packet it repairs (RFC 4588 §4).
struct RtpHeaderSummary: Sendable {
    var payloadType: UInt8
    var sequence: UInt16
    var timestamp: UInt32
    var ssrc: UInt32
    var marker: Bool
    /// Bytes before the payload: fixed header, CSRCs and the extension block.
    var headerLength: Int
    /// Padding bytes at the end of the packet (RFC 3550 §5.1, P bit).
    var paddingLength: Int
    /// Offset of the header extension block, if the X bit is set.
    var extensionOffset: Int?

    init(_ view: borrowing RTPPacketView) {
        payloadType = view.payloadType
        sequence = view.sequenceNumber
        timestamp = view.timestamp
        ssrc = view.ssrc
        marker = view.marker
        headerLength = view.payloadOffset
        paddingLength = view.paddingLength
        extensionOffset = view.extensionOffset
    }

    /// Every extension element removed (RFC 8285 §4.2 allows padding bytes in their place): the
    /// receiver negotiated its own extension ids, and the sender's values mean nothing to it.
    static let stripAllExtensions = InlineArray<15, UInt8>(repeating: 0)
}
