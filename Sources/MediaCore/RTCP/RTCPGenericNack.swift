/// Generic NACK (RFC 4585 §6.2.1): RTPFB (PT 205) FMT 1, FCI of one or more 4-byte pairs:
///
/// ```
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |            PID                |             BLP               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// PID is a lost sequence number; bit i of BLP (LSB = 0) marks PID + i + 1 (mod 2^16) as lost.
public struct RTCPGenericNackView: ~Escapable {
    /// Bytes per PID/BLP pair.
    public static let pairSize = 4
    let bytes: RawSpan

    /// Validates a NACK packet (without padding): at least one pair, whole pairs only.
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(RTCPParseError) {
        _ = try RTCPFeedbackHeader.parse(
            bytes,
            packetType: RTCPPacketType.transportFeedback,
            format: RTCPFeedbackFormat.nack
        )
        let fci = bytes.byteCount - RTCPFeedbackHeader.size
        guard fci > 0, fci % Self.pairSize == 0 else {
            throw .countMismatch(count: fci / Self.pairSize, length: bytes.byteCount)
        }
        self.bytes = bytes
    }

    /// SSRC of the packet sender.
    public var senderSSRC: UInt32 { bytes.rtcpU32(4) }
    /// SSRC of the media source whose packets are lost.
    public var mediaSSRC: UInt32 { bytes.rtcpU32(8) }
    /// Number of PID/BLP pairs.
    public var pairCount: Int { (bytes.byteCount - RTCPFeedbackHeader.size) / Self.pairSize }

    /// Pair `index` (0..<pairCount; precondition) as (PID, BLP).
    public func pair(_ index: Int) -> (pid: UInt16, blp: UInt16) {
        precondition(index >= 0 && index < pairCount)
        let offset = RTCPFeedbackHeader.size + index * Self.pairSize
        return (bytes.rtcpU16(offset), bytes.rtcpU16(offset + 2))
    }

    /// Iterates every lost sequence number, in pair order, wrapping mod 2^16, without allocating.
    public var lostSequenceNumbers: RTCPNackLostIterator {
        @_lifetime(copy self)
        get { RTCPNackLostIterator(bytes.extracting(RTCPFeedbackHeader.size..<bytes.byteCount)) }
    }
}

/// Yields the lost sequence numbers of a NACK's FCI: each PID, then PID+1...PID+16 where BLP is set.
public struct RTCPNackLostIterator: ~Escapable {
    let fci: RawSpan
    var offset = 0
    /// -1: PID not yet yielded; 0...15: next BLP bit to look at.
    var bit = -1

    @_lifetime(copy fci)
    init(_ fci: RawSpan) { self.fci = fci }

    /// The next lost sequence number, nil after the last.
    public mutating func next() -> UInt16? {
        while offset + RTCPGenericNackView.pairSize <= fci.byteCount {
            let pid = fci.rtcpU16(offset)
            if bit < 0 {
                bit = 0
                return pid
            }
            let blp = fci.rtcpU16(offset + 2)
            while bit < 16 {
                let b = bit
                bit += 1
                if blp & (1 << b) != 0 { return pid &+ UInt16(b + 1) }
            }
            offset += RTCPGenericNackView.pairSize
            bit = -1
        }
        return nil
    }
}

/// Writes a generic NACK (RFC 4585 §6.2.1) from the lost sequence numbers in caller storage, sorted
/// in wrap-aware order (each next number is 1...0x7FFF after the previous, mod 2^16; duplicates are
/// skipped). Consecutive numbers within 16 of a PID share its BLP.
public struct RTCPGenericNack: ~Escapable {
    /// SSRC of the packet sender.
    public var senderSSRC: UInt32
    /// SSRC of the media source.
    public var mediaSSRC: UInt32
    /// Lost sequence numbers, at least one (precondition), sorted as described above.
    public var lost: Span<UInt16>

    /// A NACK over `lost`.
    @_lifetime(copy lost)
    public init(senderSSRC: UInt32, mediaSSRC: UInt32, lost: Span<UInt16>) {
        precondition(!lost.isEmpty, "a NACK needs at least one lost packet")
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.lost = lost
    }

    /// Calls `body(pid, blp)` for each packed pair.
    func forEachPair(_ body: (UInt16, UInt16) -> Void) {
        var pid = lost[0]
        var blp: UInt16 = 0
        for i in 1..<lost.count {
            let diff = lost[i] &- pid
            if diff == 0 { continue }
            if diff <= 16 {
                blp |= 1 << (diff - 1)
            } else {
                body(pid, blp)
                pid = lost[i]
                blp = 0
            }
        }
        body(pid, blp)
    }

    /// Number of PID/BLP pairs written.
    public var pairCount: Int {
        var n = 0
        forEachPair { _, _ in n += 1 }
        return n
    }

    /// Bytes `encode(into:)` writes.
    public var encodedSize: Int { RTCPFeedbackHeader.size + pairCount * RTCPGenericNackView.pairSize }

    /// Writes the packet. Precondition: `out.freeCapacity >= encodedSize`.
    public func encode(into out: inout OutputRawSpan) {
        let size = encodedSize
        precondition(out.freeCapacity >= size, "RTCP output too small")
        RTCPFeedbackHeader(
            format: RTCPFeedbackFormat.nack,
            packetType: RTCPPacketType.transportFeedback,
            senderSSRC: senderSSRC,
            mediaSSRC: mediaSSRC
        ).encode(packetSize: size, into: &out)
        forEachPair { pid, blp in
            out.rtcpAppend(pid)
            out.rtcpAppend(blp)
        }
    }
}
