import MediaCore
import Testing

@Suite("SRTP context")
struct SrtpContextTests {
    /// A minimal RTP packet (RFC 3550 §5.1) followed by room for the SRTP trailer.
    static func rtpPacket(sequence: UInt16, payloadByte: UInt8 = 0xAB) -> [UInt8] {
        var packet: [UInt8] = [
            0x80,  // V=2, P=0, X=0, CC=0
            0x60,  // M=0, PT=96
            UInt8(sequence >> 8), UInt8(sequence & 0xFF),  // sequence number
            0x00, 0x00, 0x10, 0x00,  // timestamp
            0x12, 0x34, 0x56, 0x78,  // SSRC
        ]
        packet += [UInt8](repeating: payloadByte, count: 1188)  // 1200 bytes in all
        packet += [UInt8](repeating: 0, count: SrtpContext.maxTrailerLength)
        return packet
    }

    /// An RTCP receiver report (RFC 3550 §6.4.2) with no report blocks, plus trailer room.
    static let rtcpPacket: [UInt8] =
        [
            0x80, 201, 0x00, 0x01,  // V=2, RC=0, PT=RR, length=1
            0x12, 0x34, 0x56, 0x78,  // SSRC of sender
        ] + [UInt8](repeating: 0, count: SrtpContext.maxTrailerLength)

    static func keyPair(_ profile: SrtpProfile) throws -> SrtpKeyingMaterial {
        let relay = try DtlsIdentity(commonName: "relay", srtpProfiles: [profile])
        let browser = try DtlsIdentity(commonName: "browser")
        var pair = try DtlsPair(clientIdentity: browser, serverIdentity: relay)
        pair.start()
        for _ in 0..<6 { pair.deliver() }
        let client = try #require(pair.client.keyingMaterial as SrtpKeyingMaterial?)
        let server = try #require(pair.server.keyingMaterial as SrtpKeyingMaterial?)
        #expect(client.profile == profile)
        #expect(client.local == server.remote && client.remote == server.local)
        return client
    }

    @Test("RTP protected with exported keys unprotects on the other side", arguments: SrtpProfile.allCases)
    func rtpRoundTrip(profile: SrtpProfile) throws {
        let keys = try Self.keyPair(profile)
        var sender = try SrtpContext(profile: profile, keyAndSalt: keys.local, direction: .outbound)
        var receiver = try SrtpContext(profile: profile, keyAndSalt: keys.local, direction: .inbound)
        let original = Self.rtpPacket(sequence: 1)
        var packet = original
        let protectedLength = try sender.protectRTP(&packet, length: 1200)
        #expect(protectedLength == 1200 + profile.rtpTagLength)
        #expect(packet[0..<12] == original[0..<12], "the header stays in the clear")
        #expect(packet[12..<1200] != original[12..<1200], "the payload is encrypted")
        let plainLength = try receiver.unprotectRTP(&packet, length: protectedLength)
        #expect(plainLength == 1200)
        #expect(packet[0..<1200] == original[0..<1200])
    }

    @Test("replayed SRTP is rejected", arguments: SrtpProfile.allCases)
    func replay(profile: SrtpProfile) throws {
        let keys = try Self.keyPair(profile)
        var sender = try SrtpContext(profile: profile, keyAndSalt: keys.remote, direction: .outbound)
        var receiver = try SrtpContext(profile: profile, keyAndSalt: keys.remote, direction: .inbound)
        var packet = Self.rtpPacket(sequence: 0xFFFF)
        let length = try sender.protectRTP(&packet, length: 1200)
        let wire = packet
        var first = wire
        _ = try receiver.unprotectRTP(&first, length: length)
        var again = wire
        #expect(throws: SrtpError.replayed) {
            _ = try receiver.unprotectRTP(&again, length: length)
        }
    }

    @Test("tampered SRTP and SRTCP fail authentication", arguments: SrtpProfile.allCases)
    func tampered(profile: SrtpProfile) throws {
        let keys = try Self.keyPair(profile)
        var sender = try SrtpContext(profile: profile, keyAndSalt: keys.local, direction: .outbound)
        var receiver = try SrtpContext(profile: profile, keyAndSalt: keys.local, direction: .inbound)
        var packet = Self.rtpPacket(sequence: 7)
        let length = try sender.protectRTP(&packet, length: 1200)
        packet[100] ^= 0x01
        #expect(throws: SrtpError.authenticationFailed) {
            _ = try receiver.unprotectRTP(&packet, length: length)
        }
        var rtcp = Self.rtcpPacket
        let rtcpLength = try sender.protectRTCP(&rtcp, length: 8)
        var good = rtcp
        rtcp[rtcpLength - 1] ^= 0x80  // flip a tag bit
        #expect(throws: SrtpError.authenticationFailed) {
            _ = try receiver.unprotectRTCP(&rtcp, length: rtcpLength)
        }
        // The failed attempt did not consume the index: the genuine packet still unprotects.
        let plain = try receiver.unprotectRTCP(&good, length: rtcpLength)
        #expect(plain == 8 && good[0..<8] == Self.rtcpPacket[0..<8])
    }

    @Test func wrongKeyFailsAndBadInputIsTyped() throws {
        let keyA = [UInt8](repeating: 1, count: 28)
        let keyB = [UInt8](repeating: 2, count: 28)
        var sender = try SrtpContext(profile: .aeadAes128Gcm, keyAndSalt: keyA, direction: .outbound)
        var receiver = try SrtpContext(profile: .aeadAes128Gcm, keyAndSalt: keyB, direction: .inbound)
        var packet = Self.rtpPacket(sequence: 1)
        let length = try sender.protectRTP(&packet, length: 1200)
        #expect(throws: SrtpError.authenticationFailed) {
            _ = try receiver.unprotectRTP(&packet, length: length)
        }
        #expect(throws: SrtpError.badKeyLength(expected: 28, actual: 30)) {
            _ = try SrtpContext(
                profile: .aeadAes128Gcm,
                keyAndSalt: [UInt8](repeating: 0, count: 30),
                direction: .inbound
            )
        }
        var small = [UInt8](repeating: 0, count: 1210)
        #expect(throws: SrtpError.bufferTooSmall(needed: 1220, available: 1210)) {
            _ = try sender.protectRTP(&small, length: 1200)
        }
        var short: [UInt8] = [0x80, 0x60, 0x00]
        #expect(throws: SrtpError.self) {
            _ = try receiver.unprotectRTP(&short, length: 3)
        }
    }

    @Test("an outbound context may protect the same index again (retransmission)")
    func repeatTransmit() throws {
        let key = [UInt8](repeating: 9, count: 30)
        var sender = try SrtpContext(profile: .aes128CmHmacSha1_80, keyAndSalt: key, direction: .outbound)
        for _ in 0..<2 {
            var packet = Self.rtpPacket(sequence: 42)
            let length = try sender.protectRTP(&packet, length: 1200)
            #expect(length == 1210)
        }
    }
}

extension SrtpContext {
    /// Test convenience over an array: the array's whole storage is the buffer.
    mutating func protectRTP(_ array: inout [UInt8], length: Int) throws(SrtpError) -> Int {
        var span = array.mutableSpan
        var bytes = span.mutableBytes
        return try protectRTP(&bytes, length: length)
    }
    mutating func unprotectRTP(_ array: inout [UInt8], length: Int) throws(SrtpError) -> Int {
        var span = array.mutableSpan
        var bytes = span.mutableBytes
        return try unprotectRTP(&bytes, length: length)
    }
    mutating func protectRTCP(_ array: inout [UInt8], length: Int) throws(SrtpError) -> Int {
        var span = array.mutableSpan
        var bytes = span.mutableBytes
        return try protectRTCP(&bytes, length: length)
    }
    mutating func unprotectRTCP(_ array: inout [UInt8], length: Int) throws(SrtpError) -> Int {
        var span = array.mutableSpan
        var bytes = span.mutableBytes
        return try unprotectRTCP(&bytes, length: length)
    }
}
