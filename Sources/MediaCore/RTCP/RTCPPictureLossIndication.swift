/// Picture loss indication (RFC 4585 §6.3.1): PSFB (PT 206) FMT 1, no FCI, 12 bytes.
public struct RTCPPictureLossIndication: Equatable, Sendable {
    /// Size on the wire in bytes.
    public static let size = 12

    /// SSRC of the packet sender.
    public var senderSSRC: UInt32
    /// SSRC of the media source that should send a keyframe.
    public var mediaSSRC: UInt32

    /// A PLI.
    public init(senderSSRC: UInt32, mediaSSRC: UInt32) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
    }

    /// Parses a PLI packet (without padding, as `RTCPPacketView.bytes`). Extra FCI bytes are tolerated.
    public init(parsing bytes: RawSpan) throws(RTCPParseError) {
        let header = try RTCPFeedbackHeader.parse(
            bytes,
            packetType: RTCPPacketType.payloadFeedback,
            format: RTCPFeedbackFormat.pli
        )
        self.init(senderSSRC: header.senderSSRC, mediaSSRC: header.mediaSSRC)
    }

    /// Bytes `encode(into:)` writes.
    public var encodedSize: Int { Self.size }

    /// Writes the packet. Precondition: `out.freeCapacity >= 12`.
    public func encode(into out: inout OutputRawSpan) {
        precondition(out.freeCapacity >= Self.size, "RTCP output too small")
        RTCPFeedbackHeader(
            format: RTCPFeedbackFormat.pli,
            packetType: RTCPPacketType.payloadFeedback,
            senderSSRC: senderSSRC,
            mediaSSRC: mediaSSRC
        ).encode(packetSize: Self.size, into: &out)
    }
}
