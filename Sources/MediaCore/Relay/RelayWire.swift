/// The few wire operations the relay core's data path needs, in one place, so the core reads as
/// policy. Each delegates to the wire-format types where they exist.

/// The RTP fixed-header fields the forwarder needs (RFC 3550 §5.1).
struct RtpHeaderSummary: Sendable {
    var payloadType: UInt8
    var sequence: UInt16
    var timestamp: UInt32
    var ssrc: UInt32
    /// Bytes before the payload: fixed header, CSRCs and the extension block.
    var headerLength: Int
}

enum RtpWire {
    /// Reads the header, or nil when the packet is not well-formed RTP.
    static func header(_ packet: UnsafeRawBufferPointer) -> RtpHeaderSummary? {
        guard packet.count >= 12, packet[0] >> 6 == 2 else { return nil }
        let csrcCount = Int(packet[0] & 0x0F)
        var length = 12 + 4 * csrcCount
        guard packet.count >= length else { return nil }
        if packet[0] & 0x10 != 0 {
            guard packet.count >= length + 4 else { return nil }
            let words = Int(packet[length + 2]) << 8 | Int(packet[length + 3])
            length += 4 + 4 * words
            guard packet.count >= length else { return nil }
        }
        return RtpHeaderSummary(
            payloadType: packet[1] & 0x7F,
            sequence: UInt16(packet[2]) << 8 | UInt16(packet[3]),
            timestamp: UInt32(packet[4]) << 24 | UInt32(packet[5]) << 16 | UInt32(packet[6]) << 8 | UInt32(packet[7]),
            ssrc: UInt32(packet[8]) << 24 | UInt32(packet[9]) << 16 | UInt32(packet[10]) << 8 | UInt32(packet[11]),
            headerLength: length)
    }

    /// Rewrites SSRC, sequence number, timestamp and payload type in place, and blanks the header
    /// extension elements (RFC 8285 §4.2 allows padding bytes there): the receiver negotiated its own
    /// extension ids, and the sender's values (its MID, its transport sequence) mean nothing to it.
    static func rewrite(
        _ packet: UnsafeMutableRawBufferPointer, ssrc: UInt32, sequence: UInt16, timestamp: UInt32, payloadType: UInt8
    ) {
        packet[1] = (packet[1] & 0x80) | (payloadType & 0x7F)
        packet[2] = UInt8(sequence >> 8)
        packet[3] = UInt8(sequence & 0xFF)
        for i in 0..<4 {
            packet[4 + i] = UInt8(truncatingIfNeeded: timestamp >> (24 - 8 * UInt32(i)))
            packet[8 + i] = UInt8(truncatingIfNeeded: ssrc >> (24 - 8 * UInt32(i)))
        }
        guard packet[0] & 0x10 != 0 else { return }
        let start = 12 + 4 * Int(packet[0] & 0x0F)
        let profile = UInt16(packet[start]) << 8 | UInt16(packet[start + 1])
        let words = Int(packet[start + 2]) << 8 | Int(packet[start + 3])
        guard profile == 0xBEDE || profile & 0xFFF0 == 0x1000 else { return }
        for i in (start + 4)..<(start + 4 + 4 * words) { packet[i] = 0 }
    }
}

enum RtcpWire {
    /// Calls `body` with the media SSRC of every PLI (RFC 4585 §6.3.1) and FIR entry (RFC 5104 §4.3.1)
    /// in a compound packet. Returns false if the compound packet is malformed.
    static func forEachKeyframeRequest(_ packet: UnsafeRawBufferPointer, _ body: (UInt32) -> Void) -> Bool {
        var offset = 0
        while offset + 4 <= packet.count {
            guard packet[offset] >> 6 == 2 else { return false }
            let length = 4 * (Int(packet[offset + 2]) << 8 | Int(packet[offset + 3]) + 1)
            guard offset + length <= packet.count else { return false }
            let format = packet[offset] & 0x1F
            let type = packet[offset + 1]
            if type == 206, format == 1, length >= 12 {
                body(read32(packet, offset + 8))
            } else if type == 206, format == 4, length >= 12 {
                var entry = offset + 12
                while entry + 8 <= offset + length {
                    body(read32(packet, entry))
                    entry += 8
                }
            }
            offset += length
        }
        return offset == packet.count
    }

    /// Writes a PLI into `buffer`; returns its length (12).
    static func pictureLossIndication(senderSSRC: UInt32, mediaSSRC: UInt32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard buffer.count >= 12 else { return 0 }
        buffer[0] = 0x81  // V=2, FMT=1
        buffer[1] = 206  // PSFB
        buffer[2] = 0
        buffer[3] = 2  // length in words minus one
        for i in 0..<4 {
            buffer[4 + i] = UInt8(truncatingIfNeeded: senderSSRC >> (24 - 8 * UInt32(i)))
            buffer[8 + i] = UInt8(truncatingIfNeeded: mediaSSRC >> (24 - 8 * UInt32(i)))
        }
        return 12
    }

}

/// A drop reason carried as an error through `Result`.
struct DropReasonError: Error {
    let reason: DropReason
}

extension RelayCounters {
    mutating func drop(_ error: DropReasonError) { drop(error.reason) }
}
