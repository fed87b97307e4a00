/// A sender report (RFC 3550 §6.4.1), PT 200, borrowed:
///
/// ```
/// |V=2|P|    RC   |   PT=SR=200   |             length            |
/// |                         SSRC of sender                        |
/// |              NTP timestamp, most significant word             |
/// |             NTP timestamp, least significant word             |
/// |                         RTP timestamp                         |
/// |                     sender's packet count                     |
/// |                      sender's octet count                     |
/// |                 report blocks (RC × 24 bytes)                 |
/// |                  profile-specific extensions                  |
/// ```
public struct RTCPSenderReportView: ~Escapable {
    /// Fixed part: header + sender info, in bytes.
    public static let fixedSize = 28
    let bytes: RawSpan

    /// Validates an SR packet (without padding, as `RTCPPacketView.bytes`).
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(RTCPParseError) {
        try RTCPReportBlockIterator.validateReport(
            bytes,
            packetType: RTCPPacketType.senderReport,
            fixedSize: Self.fixedSize
        )
        self.bytes = bytes
    }

    /// Validates the SR in a packet from `RTCPCompoundIterator`.
    @_lifetime(copy packet)
    public init(_ packet: borrowing RTCPPacketView) throws(RTCPParseError) {
        try self.init(validating: packet.bytes)
    }

    /// SSRC of the sender.
    public var ssrc: UInt32 { bytes.rtcpU32(4) }
    /// 64-bit NTP timestamp (seconds since 1900 << 32 | fraction).
    public var ntpTimestamp: UInt64 { UInt64(bytes.rtcpU32(8)) << 32 | UInt64(bytes.rtcpU32(12)) }
    /// RTP timestamp corresponding to `ntpTimestamp`.
    public var rtpTimestamp: UInt32 { bytes.rtcpU32(16) }
    /// Packets sent since the start of transmission.
    public var packetCount: UInt32 { bytes.rtcpU32(20) }
    /// Payload octets sent since the start of transmission.
    public var octetCount: UInt32 { bytes.rtcpU32(24) }
    /// Number of report blocks (RC).
    public var reportCount: Int { Int(bytes.rtcpU8(0) & 0x1F) }

    /// Iterates the report blocks without allocating.
    public var reportBlocks: RTCPReportBlockIterator {
        @_lifetime(copy self)
        get {
            let end = Self.fixedSize + reportCount * RTCPReportBlock.size
            return RTCPReportBlockIterator(bytes.extracting(0..<end), offset: Self.fixedSize)
        }
    }
}

/// Writes a sender report (RFC 3550 §6.4.1) with report blocks from caller storage.
public struct RTCPSenderReport: ~Escapable {
    /// SSRC of the sender.
    public var ssrc: UInt32
    /// 64-bit NTP timestamp.
    public var ntpTimestamp: UInt64
    /// RTP timestamp matching `ntpTimestamp`.
    public var rtpTimestamp: UInt32
    /// Sender's packet count.
    public var packetCount: UInt32
    /// Sender's octet count.
    public var octetCount: UInt32
    /// At most 31 blocks (precondition).
    public var reportBlocks: Span<RTCPReportBlock>

    /// A sender report; `reportBlocks` are borrowed from the caller.
    @_lifetime(copy reportBlocks)
    public init(
        ssrc: UInt32,
        ntpTimestamp: UInt64,
        rtpTimestamp: UInt32,
        packetCount: UInt32,
        octetCount: UInt32,
        reportBlocks: Span<RTCPReportBlock>
    ) {
        precondition(reportBlocks.count < 32, "at most 31 report blocks")
        self.ssrc = ssrc
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reportBlocks = reportBlocks
    }

    /// Bytes `encode(into:)` writes.
    public var encodedSize: Int { RTCPSenderReportView.fixedSize + reportBlocks.count * RTCPReportBlock.size }

    /// Writes the packet. Precondition: `out.freeCapacity >= encodedSize`.
    public func encode(into out: inout OutputRawSpan) {
        precondition(out.freeCapacity >= encodedSize, "RTCP output too small")
        RTCPHeader(count: UInt8(reportBlocks.count), packetType: RTCPPacketType.senderReport, packetSize: encodedSize)
            .encode(into: &out)
        out.rtcpAppend(ssrc)
        out.rtcpAppend(UInt32(truncatingIfNeeded: ntpTimestamp >> 32))
        out.rtcpAppend(UInt32(truncatingIfNeeded: ntpTimestamp))
        out.rtcpAppend(rtpTimestamp)
        out.rtcpAppend(packetCount)
        out.rtcpAppend(octetCount)
        for i in reportBlocks.indices { reportBlocks[i].encode(into: &out) }
    }
}
