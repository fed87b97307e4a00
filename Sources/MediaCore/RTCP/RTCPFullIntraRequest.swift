/// Full intra request (RFC 5104 §4.3.1): PSFB (PT 206) FMT 4, media SSRC 0, FCI entries of 8 bytes:
///
/// ```
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                              SSRC                             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Seq nr.       |    Reserved                                   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct RTCPFullIntraRequestView: ~Escapable {
    /// Bytes per FCI entry.
    public static let entrySize = 8
    let bytes: RawSpan

    /// Validates a FIR packet (without padding): the FCI must be whole entries.
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(RTCPParseError) {
        _ = try RTCPFeedbackHeader.parse(
            bytes,
            packetType: RTCPPacketType.payloadFeedback,
            format: RTCPFeedbackFormat.fir
        )
        let fci = bytes.byteCount - RTCPFeedbackHeader.size
        guard fci % Self.entrySize == 0 else {
            throw .countMismatch(count: fci / Self.entrySize, length: bytes.byteCount)
        }
        self.bytes = bytes
    }

    /// SSRC of the packet sender.
    public var senderSSRC: UInt32 { bytes.rtcpU32(4) }
    /// Number of FCI entries.
    public var entryCount: Int { (bytes.byteCount - RTCPFeedbackHeader.size) / Self.entrySize }

    /// Entry `index` (0..<entryCount; precondition).
    public func entry(_ index: Int) -> RTCPFullIntraRequestEntry {
        precondition(index >= 0 && index < entryCount)
        let offset = RTCPFeedbackHeader.size + index * Self.entrySize
        return RTCPFullIntraRequestEntry(ssrc: bytes.rtcpU32(offset), sequenceNumber: bytes.rtcpU8(offset + 4))
    }
}

/// One FIR FCI entry (RFC 5104 §4.3.1.1): the media sender and the command sequence number.
public struct RTCPFullIntraRequestEntry: Equatable, Sendable, BitwiseCopyable {
    /// SSRC of the media sender asked for a decoder refresh.
    public var ssrc: UInt32
    /// Command sequence number, incremented (mod 256) per new request.
    public var sequenceNumber: UInt8

    /// An entry.
    public init(ssrc: UInt32, sequenceNumber: UInt8) {
        self.ssrc = ssrc
        self.sequenceNumber = sequenceNumber
    }
}

/// Writes a FIR (RFC 5104 §4.3.1) with entries borrowed from the caller.
public struct RTCPFullIntraRequest: ~Escapable {
    /// SSRC of the packet sender.
    public var senderSSRC: UInt32
    /// The FCI entries.
    public var entries: Span<RTCPFullIntraRequestEntry>

    /// A FIR.
    @_lifetime(copy entries)
    public init(senderSSRC: UInt32, entries: Span<RTCPFullIntraRequestEntry>) {
        self.senderSSRC = senderSSRC
        self.entries = entries
    }

    /// Bytes `encode(into:)` writes.
    public var encodedSize: Int { RTCPFeedbackHeader.size + entries.count * RTCPFullIntraRequestView.entrySize }

    /// Writes the packet. Precondition: `out.freeCapacity >= encodedSize`.
    public func encode(into out: inout OutputRawSpan) {
        precondition(out.freeCapacity >= encodedSize, "RTCP output too small")
        RTCPFeedbackHeader(
            format: RTCPFeedbackFormat.fir,
            packetType: RTCPPacketType.payloadFeedback,
            senderSSRC: senderSSRC,
            mediaSSRC: 0
        ).encode(packetSize: encodedSize, into: &out)
        for i in entries.indices {
            out.rtcpAppend(entries[i].ssrc)
            out.rtcpAppend(entries[i].sequenceNumber)
            out.rtcpAppend24(0)
        }
    }
}
