/// Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb-03 §2.2): PSFB (PT 206) FMT 15,
/// media SSRC 0, FCI:
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Unique identifier 'R' 'E' 'M' 'B'                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Num SSRC     | BR Exp    |  BR Mantissa                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   SSRC feedback (Num SSRC × 4 bytes)                          |
/// ```
/// Bitrate in bits per second = mantissa << exponent.
public struct RTCPReceiverEstimatedMaxBitrateView: ~Escapable {
    /// "REMB" in ASCII, big endian.
    public static let identifier: UInt32 = 0x5245_4D42
    /// Header + identifier + num/exp/mantissa, in bytes.
    public static let fixedSize = 20
    let bytes: RawSpan

    /// Validates a REMB packet (without padding): identifier and SSRC count against the length.
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(RTCPParseError) {
        _ = try RTCPFeedbackHeader.parse(
            bytes,
            packetType: RTCPPacketType.payloadFeedback,
            format: RTCPFeedbackFormat.applicationLayer
        )
        guard bytes.byteCount >= Self.fixedSize else {
            throw .truncated(needed: Self.fixedSize, available: bytes.byteCount)
        }
        let identifier = bytes.rtcpU32(12)
        guard identifier == Self.identifier else { throw .badIdentifier(identifier) }
        let count = Int(bytes.rtcpU8(16))
        guard Self.fixedSize + count * 4 <= bytes.byteCount else {
            throw .countMismatch(count: count, length: bytes.byteCount)
        }
        self.bytes = bytes
    }

    /// SSRC of the packet sender.
    public var senderSSRC: UInt32 { bytes.rtcpU32(4) }
    /// 6-bit exponent.
    public var exponent: UInt8 { bytes.rtcpU8(17) >> 2 }
    /// 18-bit mantissa.
    public var mantissa: UInt32 { bytes.rtcpU24(17) & 0x3_FFFF }
    /// Estimated maximum bitrate in bits per second, saturating at `UInt64.max`.
    public var bitrateBps: UInt64 {
        let m = UInt64(mantissa)
        let e = UInt64(exponent)
        return m == 0 ? 0 : (m.leadingZeroBitCount >= e ? m << e : .max)
    }
    /// Number of SSRCs the estimate applies to.
    public var ssrcCount: Int { Int(bytes.rtcpU8(16)) }
    /// SSRC `index` (0..<ssrcCount; precondition).
    public func ssrc(_ index: Int) -> UInt32 {
        precondition(index >= 0 && index < ssrcCount)
        return bytes.rtcpU32(Self.fixedSize + index * 4)
    }
}

/// Writes a REMB (draft-alvestrand-rmcat-remb-03) for SSRCs borrowed from the caller. The exponent is
/// the smallest that fits the bitrate in an 18-bit mantissa; the mantissa rounds down.
public struct RTCPReceiverEstimatedMaxBitrate: ~Escapable {
    /// Largest mantissa value.
    public static let maxMantissa: UInt64 = 0x3_FFFF
    /// SSRC of the packet sender.
    public var senderSSRC: UInt32
    /// Estimate in bits per second.
    public var bitrateBps: UInt64
    /// SSRCs the estimate applies to, at most 255 (precondition).
    public var ssrcs: Span<UInt32>

    /// A REMB.
    @_lifetime(copy ssrcs)
    public init(senderSSRC: UInt32, bitrateBps: UInt64, ssrcs: Span<UInt32>) {
        precondition(ssrcs.count <= 255, "REMB carries at most 255 SSRCs")
        self.senderSSRC = senderSSRC
        self.bitrateBps = bitrateBps
        self.ssrcs = ssrcs
    }

    /// The (exponent, mantissa) encoding of `bitrateBps`, rounding down.
    public static func exponentAndMantissa(_ bitrateBps: UInt64) -> (exponent: UInt8, mantissa: UInt32) {
        var exponent: UInt8 = 0
        while bitrateBps >> UInt64(exponent) > maxMantissa { exponent += 1 }
        return (exponent, UInt32(bitrateBps >> UInt64(exponent)))
    }

    /// Bytes `encode(into:)` writes.
    public var encodedSize: Int { RTCPReceiverEstimatedMaxBitrateView.fixedSize + ssrcs.count * 4 }

    /// Writes the packet. Precondition: `out.freeCapacity >= encodedSize`.
    public func encode(into out: inout OutputRawSpan) {
        precondition(out.freeCapacity >= encodedSize, "RTCP output too small")
        RTCPFeedbackHeader(
            format: RTCPFeedbackFormat.applicationLayer,
            packetType: RTCPPacketType.payloadFeedback,
            senderSSRC: senderSSRC,
            mediaSSRC: 0
        ).encode(packetSize: encodedSize, into: &out)
        out.rtcpAppend(RTCPReceiverEstimatedMaxBitrateView.identifier)
        out.rtcpAppend(UInt8(ssrcs.count))
        let (exponent, mantissa) = Self.exponentAndMantissa(bitrateBps)
        out.rtcpAppend24(UInt32(exponent) << 18 | mantissa)
        for i in ssrcs.indices { out.rtcpAppend(ssrcs[i]) }
    }
}
