/// A receiver report (RFC 3550 §6.4.2), PT 201, borrowed:
///
/// ```
/// |V=2|P|    RC   |   PT=RR=201   |             length            |
/// |                     SSRC of packet sender                     |
/// |                 report blocks (RC × 24 bytes)                 |
/// |                  profile-specific extensions                  |
/// ```
public struct RTCPReceiverReportView: ~Escapable {
    /// Fixed part: header + SSRC, in bytes.
    public static let fixedSize = 8
    let bytes: RawSpan

    /// Validates an RR packet (without padding, as `RTCPPacketView.bytes`).
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(RTCPParseError) {
        try RTCPReportBlockIterator.validateReport(
            bytes,
            packetType: RTCPPacketType.receiverReport,
            fixedSize: Self.fixedSize
        )
        self.bytes = bytes
    }

    /// Validates the RR in a packet from `RTCPCompoundIterator`.
    @_lifetime(copy packet)
    public init(_ packet: borrowing RTCPPacketView) throws(RTCPParseError) {
        try self.init(validating: packet.bytes)
    }

    /// SSRC of the reporter.
    public var ssrc: UInt32 { bytes.rtcpU32(4) }
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

/// Writes a receiver report (RFC 3550 §6.4.2) with report blocks from caller storage.
public struct RTCPReceiverReport: ~Escapable {
    /// SSRC of the reporter.
    public var ssrc: UInt32
    /// At most 31 blocks (precondition).
    public var reportBlocks: Span<RTCPReportBlock>

    /// A receiver report; `reportBlocks` are borrowed from the caller.
    @_lifetime(copy reportBlocks)
    public init(ssrc: UInt32, reportBlocks: Span<RTCPReportBlock>) {
        precondition(reportBlocks.count < 32, "at most 31 report blocks")
        self.ssrc = ssrc
        self.reportBlocks = reportBlocks
    }

    /// Bytes `encode(into:)` writes.
    public var encodedSize: Int { RTCPReceiverReportView.fixedSize + reportBlocks.count * RTCPReportBlock.size }

    /// Writes the packet. Precondition: `out.freeCapacity >= encodedSize`.
    public func encode(into out: inout OutputRawSpan) {
        precondition(out.freeCapacity >= encodedSize, "RTCP output too small")
        RTCPHeader(count: UInt8(reportBlocks.count), packetType: RTCPPacketType.receiverReport, packetSize: encodedSize)
            .encode(into: &out)
        out.rtcpAppend(ssrc)
        for i in reportBlocks.indices { reportBlocks[i].encode(into: &out) }
    }
}
