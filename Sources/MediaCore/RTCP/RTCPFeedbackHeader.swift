/// The common feedback header (RFC 4585 §6.1), 12 bytes, for RTPFB (PT 205) and PSFB (PT 206):
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P|   FMT   |       PT      |          length               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  SSRC of packet sender                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  SSRC of media source                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// :            Feedback Control Information (FCI)                 :
/// ```
public struct RTCPFeedbackHeader: Equatable, Sendable {
    /// Size in bytes.
    public static let size = 12

    /// Feedback message type (FMT), 5 bits.
    public var format: UInt8
    /// 205 (RTPFB) or 206 (PSFB).
    public var packetType: UInt8
    /// SSRC of the packet sender.
    public var senderSSRC: UInt32
    /// SSRC of the media source (0 where the message defines it so, e.g. FIR and REMB).
    public var mediaSSRC: UInt32

    /// A feedback header.
    public init(format: UInt8, packetType: UInt8, senderSSRC: UInt32, mediaSSRC: UInt32) {
        self.format = format
        self.packetType = packetType
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
    }

    /// Parses and checks the header of a feedback packet (without padding) of the expected type and
    /// format; returns it after checking the packet holds at least `size` bytes.
    static func parse(_ bytes: RawSpan, packetType: UInt8, format: UInt8) throws(RTCPParseError) -> Self {
        let header = try RTCPHeader(parsing: bytes)
        guard header.packetType == packetType, header.count == format else {
            throw .unexpectedType(packetType: header.packetType, format: header.count)
        }
        guard bytes.byteCount >= size else { throw .truncated(needed: size, available: bytes.byteCount) }
        return Self(format: format, packetType: packetType, senderSSRC: bytes.rtcpU32(4), mediaSSRC: bytes.rtcpU32(8))
    }

    /// Writes the RTCP header for a packet of `packetSize` bytes and the two SSRCs.
    func encode(packetSize: Int, padding: Bool = false, into out: inout OutputRawSpan) {
        RTCPHeader(padding: padding, count: format, packetType: packetType, packetSize: packetSize).encode(into: &out)
        out.rtcpAppend(senderSSRC)
        out.rtcpAppend(mediaSSRC)
    }
}

/// Feedback message types (RFC 4585 §6.2–6.3, RFC 5104 §4.3.1, REMB draft, TWCC draft).
public enum RTCPFeedbackFormat {
    /// RTPFB generic NACK (RFC 4585 §6.2.1).
    public static let nack: UInt8 = 1
    /// RTPFB transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
    public static let transportCC: UInt8 = 15
    /// PSFB picture loss indication (RFC 4585 §6.3.1).
    public static let pli: UInt8 = 1
    /// PSFB full intra request (RFC 5104 §4.3.1).
    public static let fir: UInt8 = 4
    /// PSFB application layer feedback, used by REMB (draft-alvestrand-rmcat-remb-03).
    public static let applicationLayer: UInt8 = 15
}
