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

/// A binding request addressed to us: "localUfrag:remoteUfrag" split, and USE-CANDIDATE.
struct StunBindingRequestSummary {
    var localUfrag: String
    var remoteUfrag: String
    var useCandidate: Bool
}

/// The STUN (RFC 8489) subset of an ICE-lite responder: read a Binding request, check its
/// MESSAGE-INTEGRITY under our password, and write a Binding success response.
enum StunWire {
    static let magicCookie: UInt32 = 0x2112_A442
    static let attributeUsername: UInt16 = 0x0006
    static let attributeMessageIntegrity: UInt16 = 0x0008
    static let attributeXorMappedAddress: UInt16 = 0x0020
    static let attributeUseCandidate: UInt16 = 0x0025
    static let attributeFingerprint: UInt16 = 0x8028
    static let fingerprintXor: UInt32 = 0x5354_554E

    /// Validates the header (RFC 8489 §5) and walks the attributes of a Binding request.
    static func bindingRequest(_ packet: UnsafeRawBufferPointer) -> Result<StunBindingRequestSummary, DropReasonError> {
        guard packet.count >= 20, packet[0] & 0xC0 == 0, read32(packet, 4) == magicCookie,
            Int(read16(packet, 2)) + 20 == packet.count, packet.count % 4 == 0
        else { return .failure(DropReasonError(reason: .stunMalformed)) }
        guard read16(packet, 0) == 0x0001 else { return .failure(DropReasonError(reason: .stunNotRequest)) }
        var username: UnsafeRawBufferPointer?
        var useCandidate = false
        var sawIntegrity = false
        var offset = 20
        while offset + 4 <= packet.count {
            let type = read16(packet, offset)
            let length = Int(read16(packet, offset + 2))
            guard offset + 4 + length <= packet.count else { return .failure(DropReasonError(reason: .stunMalformed)) }
            if sawIntegrity && type != attributeFingerprint { break }  // only FINGERPRINT may follow
            switch type {
            case attributeUsername: username = UnsafeRawBufferPointer(rebasing: packet[(offset + 4)..<(offset + 4 + length)])
            case attributeUseCandidate: useCandidate = true
            case attributeMessageIntegrity: sawIntegrity = length == 20
            default: break
            }
            offset += 4 + (length + 3) & ~3
        }
        guard let username, sawIntegrity, let colon = username.firstIndex(of: UInt8(ascii: ":")) else {
            return .failure(DropReasonError(reason: .stunUnknownUsername))
        }
        let local = String(decoding: username[..<colon], as: UTF8.self)
        let remote = String(decoding: username[(colon + 1)...], as: UTF8.self)
        return .success(StunBindingRequestSummary(localUfrag: local, remoteUfrag: remote, useCandidate: useCandidate))
    }

    /// Checks MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 under the short-term password over the
    /// message up to the attribute, with the header length counting through it. Constant-time compare.
    static func verifyIntegrity(_ packet: UnsafeRawBufferPointer, password: String) -> Bool {
        var offset = 20
        while offset + 4 <= packet.count {
            let type = read16(packet, offset)
            let length = Int(read16(packet, offset + 2))
            guard offset + 4 + length <= packet.count else { return false }
            if type == attributeMessageIntegrity {
                guard length == 20 else { return false }
                var expected: (UInt64, UInt64, UInt32) = (0, 0, 0)
                withUnsafeMutableBytes(of: &expected) { mac in
                    authenticate(packet, upTo: offset, password: password, into: mac)
                }
                var difference: UInt8 = 0
                withUnsafeBytes(of: expected) { mac in
                    for i in 0..<20 { difference |= mac[i] ^ packet[offset + 4 + i] }
                }
                return difference == 0
            }
            offset += 4 + (length + 3) & ~3
        }
        return false
    }

    /// Writes a Binding success response (RFC 8489 §6.3.1.1) with XOR-MAPPED-ADDRESS,
    /// MESSAGE-INTEGRITY and FINGERPRINT into `buffer`; returns its length (0 if it does not fit).
    static func bindingSuccess(
        for request: UnsafeRawBufferPointer, mappedAddress: TransportAddress, password: String,
        into buffer: UnsafeMutableRawBufferPointer
    ) -> Int {
        let addressLength = mappedAddress.isIPv4 ? 8 : 20
        let total = 20 + (4 + addressLength) + 24 + 8
        guard buffer.count >= total, request.count >= 20 else { return 0 }
        write16(buffer, 0, 0x0101)
        write32(buffer, 4, magicCookie)
        for i in 8..<20 { buffer[i] = request[i] }  // transaction ID
        var offset = 20
        write16(buffer, offset, attributeXorMappedAddress)
        write16(buffer, offset + 2, UInt16(addressLength))
        buffer[offset + 4] = 0
        buffer[offset + 5] = mappedAddress.isIPv4 ? 0x01 : 0x02
        write16(buffer, offset + 6, mappedAddress.port ^ UInt16(magicCookie >> 16))
        if let v4 = mappedAddress.ipv4 {
            write32(buffer, offset + 8, v4 ^ magicCookie)
        } else {
            let bytes = mappedAddress.ipv6Bytes
            for i in 0..<16 { buffer[offset + 8 + i] = bytes[i] ^ buffer[4 + i] }  // cookie + transaction ID
        }
        offset += 4 + addressLength
        // MESSAGE-INTEGRITY: the length counts through this attribute.
        write16(buffer, 2, UInt16(offset + 24 - 20))
        write16(buffer, offset, attributeMessageIntegrity)
        write16(buffer, offset + 2, 20)
        authenticate(UnsafeRawBufferPointer(buffer), upTo: offset, password: password,
                     into: UnsafeMutableRawBufferPointer(rebasing: buffer[(offset + 4)..<(offset + 24)]))
        offset += 24
        // FINGERPRINT (§14.7): CRC-32 over everything before it, length counting through it.
        write16(buffer, 2, UInt16(offset + 8 - 20))
        let crc = Crc32.checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<offset])) ^ fingerprintXor
        write16(buffer, offset, attributeFingerprint)
        write16(buffer, offset + 2, 4)
        write32(buffer, offset + 4, crc)
        return offset + 8
    }

    /// HMAC-SHA1 of `packet[0..<integrityOffset]` with the header length patched to end just after
    /// a MESSAGE-INTEGRITY attribute at `integrityOffset`.
    private static func authenticate(
        _ packet: UnsafeRawBufferPointer, upTo integrityOffset: Int, password: String,
        into mac: UnsafeMutableRawBufferPointer
    ) {
        var password = password
        var hmac = password.withUTF8 { HmacSha1(key: UnsafeRawBufferPointer($0)) }
        var header: (UInt64, UInt64, UInt32) = (0, 0, 0)
        withUnsafeMutableBytes(of: &header) { h in
            for i in 0..<20 { h[i] = packet[i] }
            let length = UInt16(integrityOffset + 24 - 20)
            h[2] = UInt8(length >> 8)
            h[3] = UInt8(length & 0xFF)
        }
        withUnsafeBytes(of: header) { hmac.update(UnsafeRawBufferPointer(rebasing: $0[0..<20])) }
        hmac.update(UnsafeRawBufferPointer(rebasing: packet[20..<integrityOffset]))
        hmac.finalize(into: mac)
    }

    private static func read16(_ p: UnsafeRawBufferPointer, _ at: Int) -> UInt16 { UInt16(p[at]) << 8 | UInt16(p[at + 1]) }
    private static func read32(_ p: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(p[at]) << 24 | UInt32(p[at + 1]) << 16 | UInt32(p[at + 2]) << 8 | UInt32(p[at + 3])
    }
    private static func write16(_ p: UnsafeMutableRawBufferPointer, _ at: Int, _ v: UInt16) {
        p[at] = UInt8(v >> 8)
        p[at + 1] = UInt8(v & 0xFF)
    }
    private static func write32(_ p: UnsafeMutableRawBufferPointer, _ at: Int, _ v: UInt32) {
        for i in 0..<4 { p[at + i] = UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32(i))) }
    }
}

/// A drop reason carried as an error through `Result`.
struct DropReasonError: Error {
    let reason: DropReason
}

extension RelayCounters {
    mutating func drop(_ error: DropReasonError) { drop(error.reason) }
}
