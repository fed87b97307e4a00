internal import CSrtp

/// SRTP for RTP with AEAD_AES_128_GCM (RFC 7714), on one OpenSSL context keyed once.
///
/// Why not libsrtp here: Debian's libsrtp2 is built on NSS, which creates and frees a crypto context
/// inside every protect and unprotect (five mallocs and a lock per packet; a quarter of the relay's
/// CPU under load, see the README's load-harness section). GCM is what browsers negotiate with us, so
/// the per-packet RTP path is done here; SRTCP (a few packets a second) stays on libsrtp.
///
/// Keys come from the SRTP key derivation (RFC 3711 §4.3.3 AES-CM PRF, with RFC 7714's 96-bit
/// master salt zero-extended to 112 bits, erratum 4938); the IV is the session salt XOR
/// (0 || SSRC || ROC || SEQ) (RFC 7714 §8.1); the header is the associated data and the payload,
/// padding included, the ciphertext, followed by a 16-byte tag (§5). The ROC per SSRC and the
/// receiver's replay window follow RFC 3711 §3.3. Owned by one `SrtpContext` (a class so the
/// context can keep it in a `let` and the OpenSSL context is freed exactly once).
final class SrtpAesGcmRTP {
    static let tagLength = 16
    /// SSRCs tracked per context before the least recently used is forgotten (a participant sends a
    /// handful; the bound keeps a peer inventing SSRCs from growing the table).
    static let maxStreams = 64

    private let cipher: OpaquePointer
    /// The 12-byte session salt as three big-endian words.
    private let salt: (UInt32, UInt32, UInt32)
    /// Per-SSRC index state in a fixed block (`maxStreams` entries, the first `streamCount` used):
    /// a pointer, not an array, because the per-packet lookup through a class's array property paid
    /// for uniqueness and exclusivity checks on every access (2.5 % of the relay's CPU in perf).
    private let streams: UnsafeMutablePointer<SrtpPacketIndex>
    /// The entries' SSRCs side by side, so the lookup touches one cache line, not one per entry.
    private let ssrcs: UnsafeMutablePointer<UInt32>
    private var streamCount = 0
    private var uses: UInt64 = 0

    /// Derives the session key and salt from `masterKey` (16 bytes) and `masterSalt` (12 bytes).
    init(masterKey: [UInt8], masterSalt: [UInt8], inbound: Bool) throws(SrtpError) {
        guard masterKey.count == 16, masterSalt.count == 12 else {
            throw .badKeyLength(expected: 28, actual: masterKey.count + masterSalt.count)
        }
        let key = try Self.derive(label: 0x00, masterKey: masterKey, masterSalt: masterSalt)
        let saltBlock = try Self.derive(label: 0x02, masterKey: masterKey, masterSalt: masterSalt)
        func word(_ offset: Int) -> UInt32 {
            saltBlock[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
        }
        salt = (word(0), word(4), word(8))
        guard let cipher = key.withUnsafeBytes({ csrtp_gcm_new($0.baseAddress, inbound ? 0 : 1) }) else {
            throw .library(status: -1)
        }
        self.cipher = cipher
        streams = .allocate(capacity: Self.maxStreams)
        ssrcs = .allocate(capacity: Self.maxStreams)
    }

    deinit {
        csrtp_gcm_free(cipher)
        streams.deinitialize(count: streamCount)
        streams.deallocate()
        ssrcs.deallocate()
    }

    /// One 16-byte block of the AES-CM PRF for `label` at index 0 (key derivation rate 0):
    /// AES_masterKey((masterSalt · 2^16) XOR (label · 2^64)).
    static func derive(label: UInt8, masterKey: [UInt8], masterSalt: [UInt8]) throws(SrtpError) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 16)
        block.replaceSubrange(0..<12, with: masterSalt)
        block[7] ^= label
        var out = [UInt8](repeating: 0, count: 16)
        let ok = masterKey.withUnsafeBytes { key in
            block.withUnsafeBytes { input in
                out.withUnsafeMutableBytes { csrtp_aes128_block(key.baseAddress, input.baseAddress, $0.baseAddress) }
            }
        }
        guard ok == 1 else { throw .library(status: -1) }
        return out
    }

    /// Encrypts the RTP packet in `packet[0..<length]` in place and appends the tag; returns the new
    /// length. `packet` must have room for the tag.
    func protect(_ packet: UnsafeMutableRawBufferPointer, length: Int) throws(SrtpError) -> Int {
        let headerLength = try Self.headerLength(packet, length: length)
        guard packet.count >= length + Self.tagLength else {
            throw .bufferTooSmall(needed: length + Self.tagLength, available: packet.count)
        }
        let ssrc = packet.loadUnaligned(fromByteOffset: 8, as: UInt32.self).bigEndian
        let sequence = packet.loadUnaligned(fromByteOffset: 2, as: UInt16.self).bigEndian
        let slot = stream(ssrc: ssrc)
        let index =
            slot.map { streams[$0].estimate(sequence: sequence) } ?? SrtpPacketIndex.firstIndex(sequence: sequence)
        let base = packet.baseAddress!
        let sealed = withIV(ssrc: ssrc, index: index) { iv in
            csrtp_gcm_seal(cipher, iv, base, headerLength, base + headerLength, length - headerLength, base + length)
        }
        guard sealed == 1 else { throw .library(status: -1) }
        if let slot {
            streams[slot].advance(to: index)
        } else {
            remember(SrtpPacketIndex(ssrc: ssrc, first: index, use: uses))
        }
        return length + Self.tagLength
    }

    /// Verifies and decrypts the SRTP packet in `packet[0..<length]` in place; returns the plaintext
    /// length. A replayed or too-old index is refused before any decryption.
    func unprotect(_ packet: UnsafeMutableRawBufferPointer, length: Int) throws(SrtpError) -> Int {
        let headerLength = try Self.headerLength(packet, length: length)
        guard length - headerLength >= Self.tagLength else { throw .malformedPacket(length: length) }
        let ssrc = packet.loadUnaligned(fromByteOffset: 8, as: UInt32.self).bigEndian
        let sequence = packet.loadUnaligned(fromByteOffset: 2, as: UInt16.self).bigEndian
        let slot = stream(ssrc: ssrc)
        let index =
            slot.map { streams[$0].estimate(sequence: sequence) } ?? SrtpPacketIndex.firstIndex(sequence: sequence)
        if let slot, streams[slot].isReplay(index) { throw .replayed }
        let base = packet.baseAddress!
        let cipherLength = length - headerLength - Self.tagLength
        let opened = withIV(ssrc: ssrc, index: index) { iv in
            csrtp_gcm_open(
                cipher,
                iv,
                base,
                headerLength,
                base + headerLength,
                cipherLength,
                base + length - Self.tagLength
            )
        }
        guard opened == 1 else { throw .authenticationFailed }
        if let slot {
            streams[slot].accept(index)
        } else {
            remember(SrtpPacketIndex(ssrc: ssrc, first: index, use: uses))
        }
        return length - Self.tagLength
    }

    /// The RTP header's length (RFC 3550 §5.1: fixed part, CSRCs, RFC 8285 extension block), checked
    /// against the packet.
    static func headerLength(_ packet: UnsafeMutableRawBufferPointer, length: Int) throws(SrtpError) -> Int {
        guard length >= 12, length <= packet.count, packet[0] >> 6 == 2 else { throw .malformedPacket(length: length) }
        var header = 12 + Int(packet[0] & 0x0F) * 4
        if packet[0] & 0x10 != 0 {
            guard length >= header + 4 else { throw .malformedPacket(length: length) }
            let words = Int(packet.loadUnaligned(fromByteOffset: header + 2, as: UInt16.self).bigEndian)
            header += 4 + words * 4
        }
        guard header <= length else { throw .malformedPacket(length: length) }
        return header
    }

    /// The stream entry for `ssrc`, marked as used now.
    private func stream(ssrc: UInt32) -> Int? {
        let use = uses &+ 1
        uses = use
        let ssrcs = self.ssrcs
        for slot in 0..<streamCount where ssrcs[slot] == ssrc {
            streams[slot].lastUse = use
            return slot
        }
        return nil
    }

    private func remember(_ entry: SrtpPacketIndex) {
        if streamCount < Self.maxStreams {
            (streams + streamCount).initialize(to: entry)
            ssrcs[streamCount] = entry.ssrc
            streamCount += 1
            return
        }
        var oldest = 0
        for slot in 0..<streamCount where streams[slot].lastUse < streams[oldest].lastUse { oldest = slot }
        streams[oldest] = entry
        ssrcs[oldest] = entry.ssrc
    }

    /// The 12-byte IV on the stack: session salt XOR (0x0000 || SSRC || ROC || SEQ) (RFC 7714 §8.1).
    private func withIV<R>(ssrc: UInt32, index: Int64, _ body: (UnsafeRawPointer) -> R) -> R {
        let roc = UInt32(truncatingIfNeeded: index >> 16)
        let sequence = UInt32(truncatingIfNeeded: index & 0xFFFF)
        var iv: (UInt32, UInt32, UInt32) = (
            (salt.0 ^ (ssrc >> 16)).bigEndian,
            (salt.1 ^ (ssrc << 16 | roc >> 16)).bigEndian,
            (salt.2 ^ (roc << 16 | sequence)).bigEndian
        )
        return withUnsafeBytes(of: &iv) { body($0.baseAddress!) }
    }
}
