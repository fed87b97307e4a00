import MediaCore
import Testing

/// Our AEAD_AES_128_GCM RTP transform (RFC 7714) against libsrtp's: the same key must give the same
/// bytes, each side must open what the other sealed, across a sequence-number wrap (ROC), with
/// CSRCs, a header extension and padding; replays, tampering and malformed packets are refused.
@Suite("SRTP AES-GCM: ours against libsrtp")
struct SrtpAesGcmTests {
    static let profile = SrtpProfile.aeadAes128Gcm
    static let key: [UInt8] = (0..<28).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }

    /// An RTP packet with `csrcs` CSRCs, an optional one-word RFC 8285 extension block and optional
    /// 4 bytes of padding, followed by trailer room.
    static func packet(
        ssrc: UInt32,
        sequence: UInt16,
        csrcs: Int = 0,
        extended: Bool = false,
        padded: Bool = false,
        payload: Int = 300
    ) -> (bytes: [UInt8], length: Int) {
        var bytes: [UInt8] = [
            0x80 | (padded ? 0x20 : 0) | (extended ? 0x10 : 0) | UInt8(csrcs), 96,
            UInt8(sequence >> 8), UInt8(sequence & 0xFF), 0, 1, 0x5F, 0x90,
        ]
        bytes += withUnsafeBytes(of: ssrc.bigEndian, Array.init)
        for index in 0..<csrcs { bytes += [0, 0, 0, UInt8(index + 1)] }
        if extended { bytes += [0xBE, 0xDE, 0x00, 0x01, 0x10, 0xAA, 0x00, 0x00] }
        bytes += (0..<payload).map { UInt8(truncatingIfNeeded: $0 &+ Int(sequence)) }
        if padded { bytes += [0, 0, 0, 4] }
        let length = bytes.count
        bytes += [UInt8](repeating: 0, count: SrtpContext.maxTrailerLength)
        return (bytes, length)
    }

    static func context(
        _ direction: SrtpContext.Direction,
        _ rtp: SrtpContext.RTPImplementation = .preferOwn
    ) throws -> SrtpContext {
        try SrtpContext(profile: profile, keyAndSalt: key, direction: direction, rtp: rtp)
    }

    @Test("the same packets seal to the same bytes, and each side opens the other's, across the wrap")
    func agreesWithLibsrtp() throws {
        var ownOut = try Self.context(.outbound)
        var libOut = try Self.context(.outbound, .libsrtp)
        var ownIn = try Self.context(.inbound)
        var libIn = try Self.context(.inbound, .libsrtp)
        var count = 0
        for ssrc: UInt32 in [0x1234_5678, 0xCAFE_F00D] {
            for step in 0..<24 {
                let sequence = UInt16(truncatingIfNeeded: 65_520 + step)  // wraps after 16 packets: ROC 0 -> 1
                let shape = step % 4
                let (plain, length) = Self.packet(
                    ssrc: ssrc,
                    sequence: sequence,
                    csrcs: shape == 1 ? 2 : 0,
                    extended: shape == 2,
                    padded: shape == 3
                )
                var ours = plain
                var theirs = plain
                let ourLength = try ownOut.protectRTP(&ours, length: length)
                let theirLength = try libOut.protectRTP(&theirs, length: length)
                #expect(ourLength == length + 16 && theirLength == ourLength)
                #expect(
                    ours[0..<ourLength] == theirs[0..<theirLength],
                    "ssrc \(ssrc) sequence \(sequence) shape \(shape)"
                )
                let opened = try libIn.unprotectRTP(&ours, length: ourLength)
                let openedOwn = try ownIn.unprotectRTP(&theirs, length: theirLength)
                #expect(opened == length && openedOwn == length)
                #expect(ours[0..<length] == plain[0..<length] && theirs[0..<length] == plain[0..<length])
                count += 1
            }
        }
        #expect(count == 48)
    }

    @Test("a retransmission re-protects an old index the same way, before and after the wrap")
    func retransmission() throws {
        var ownOut = try Self.context(.outbound)
        var libOut = try Self.context(.outbound, .libsrtp)
        for sequence: UInt16 in [65_534, 65_535, 0, 1, 65_535, 2] {
            let (plain, length) = Self.packet(ssrc: 7, sequence: sequence)
            var ours = plain
            var theirs = plain
            let ourLength = try ownOut.protectRTP(&ours, length: length)
            _ = try libOut.protectRTP(&theirs, length: length)
            #expect(ours[0..<ourLength] == theirs[0..<ourLength], "sequence \(sequence)")
        }
    }

    @Test("replays and packets older than the window are refused; reordering inside it is not")
    func replayWindow() throws {
        var sender = try SrtpContext(profile: Self.profile, keyAndSalt: Self.key, direction: .outbound)
        var receiver = try SrtpContext(profile: Self.profile, keyAndSalt: Self.key, direction: .inbound)
        var sealed: [UInt16: ([UInt8], Int)] = [:]
        for sequence: UInt16 in 0..<1200 {
            var (bytes, length) = Self.packet(ssrc: 9, sequence: sequence, payload: 40)
            sealed[sequence] = (bytes, try sender.protectRTP(&bytes, length: length))
            sealed[sequence]!.0 = bytes
        }
        func open(_ sequence: UInt16) throws(SrtpError) -> Int {
            var (bytes, length) = sealed[sequence]!
            return try receiver.unprotectRTP(&bytes, length: length)
        }
        _ = try open(0)
        _ = try open(2)
        _ = try open(1)  // late but new: accepted
        #expect(throws: SrtpError.replayed) { try open(1) }  // and remembered
        #expect(throws: SrtpError.replayed) { try open(2) }
        for sequence: UInt16 in 3..<1100 { _ = try open(sequence) }
        #expect(throws: SrtpError.replayed) { try open(50) }  // accepted before
        _ = try open(1100)
        #expect(throws: SrtpError.replayed) { try open(60) }  // 1040 behind: older than the window
    }

    @Test("a changed header, payload or tag fails authentication; the next real packet still opens")
    func tampering() throws {
        var sender = try SrtpContext(profile: Self.profile, keyAndSalt: Self.key, direction: .outbound)
        var receiver = try SrtpContext(profile: Self.profile, keyAndSalt: Self.key, direction: .inbound)
        let (plain, length) = Self.packet(ssrc: 3, sequence: 10)
        var good = plain
        let sealedLength = try sender.protectRTP(&good, length: length)
        for offset in [1, 5, 20, sealedLength - 1] {
            var bad = good
            bad[offset] ^= 0x40
            #expect(throws: SrtpError.authenticationFailed) { try receiver.unprotectRTP(&bad, length: sealedLength) }
        }
        #expect(try receiver.unprotectRTP(&good, length: sealedLength) == length)
    }

    @Test("packets too short for a header and a tag, or whose extension runs past the end, are malformed")
    func malformed() throws {
        var receiver = try SrtpContext(profile: Self.profile, keyAndSalt: Self.key, direction: .inbound)
        var short = [UInt8](repeating: 0, count: 64)
        short[0] = 0x80
        #expect(throws: SrtpError.malformedPacket(length: 20)) { try receiver.unprotectRTP(&short, length: 20) }
        var overlong = short
        overlong[0] = 0x90  // X set
        overlong[14] = 0x00
        overlong[15] = 0x20  // 32 words of extension in a 40-byte packet
        #expect(throws: SrtpError.malformedPacket(length: 40)) { try receiver.unprotectRTP(&overlong, length: 40) }
        var version1 = short
        version1[0] = 0x40
        #expect(throws: SrtpError.malformedPacket(length: 60)) { try receiver.unprotectRTP(&version1, length: 60) }
    }
}

extension SrtpAesGcmTests {
    @Test("early in a stream a sequence number far ahead is taken in ROC 0, as libsrtp takes it")
    func earlyJump() throws {
        var ownOut = try Self.context(.outbound)
        var libIn = try Self.context(.inbound, .libsrtp)
        var libOut = try Self.context(.outbound, .libsrtp)
        var ownIn = try Self.context(.inbound)
        for sequence: UInt16 in [100, 40_000, 40_001, 100 &+ 3, 2] {
            let (plain, length) = Self.packet(ssrc: 5, sequence: sequence)
            var ours = plain
            var theirs = plain
            let ourLength = try ownOut.protectRTP(&ours, length: length)
            let theirLength = try libOut.protectRTP(&theirs, length: length)
            #expect(ours[0..<ourLength] == theirs[0..<theirLength], "sequence \(sequence)")
            let opened = Result { () throws(SrtpError) in try libIn.unprotectRTP(&ours, length: ourLength) }
            let openedOwn = Result { () throws(SrtpError) in try ownIn.unprotectRTP(&theirs, length: theirLength) }
            switch (opened, openedOwn) {
            case (.success(let a), .success(let b)): #expect(a == length && b == length, "sequence \(sequence)")
            case (.failure(let a), .failure(let b)): #expect(a == b, "sequence \(sequence)")
            default: Issue.record("libsrtp and ours disagree at sequence \(sequence): \(opened) / \(openedOwn)")
            }
        }
    }
}
