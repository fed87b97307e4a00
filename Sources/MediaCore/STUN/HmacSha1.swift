/// SHA-1 (FIPS 180-4 §6.1) and HMAC-SHA1 (RFC 2104) for STUN MESSAGE-INTEGRITY (RFC 8489 §14.5).
///
/// Allocation-free: state lives in the struct, input is fed in pieces so a message can be
/// authenticated with its length field patched without copying it.
struct Sha1 {
    private var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0
    )
    private var block: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var blockUsed = 0
    private var totalBytes: UInt64 = 0

    init() {}

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes { append(byte) }
    }

    mutating func update(byte: UInt8) { append(byte) }

    private mutating func append(_ byte: UInt8) {
        withUnsafeMutableBytes(of: &block) { $0[blockUsed] = byte }
        blockUsed += 1
        totalBytes &+= 1
        if blockUsed == 64 {
            compress()
            blockUsed = 0
        }
    }

    /// Finishes and writes the 20-byte digest through `body`.
    mutating func finalize() -> (UInt64, UInt64, UInt32) {
        let bitLength = totalBytes &* 8
        append(0x80)
        while blockUsed != 56 { append(0) }
        for i in (0..<8).reversed() { append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
        let a = UInt64(h.0) << 32 | UInt64(h.1)
        let b = UInt64(h.2) << 32 | UInt64(h.3)
        return (a, b, h.4)
    }

    private mutating func compress() {
        var w = (
            UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0),
            UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0)
        )
        withUnsafeBytes(of: block) { bytes in
            withUnsafeMutableBytes(of: &w) { words in
                for i in 0..<16 {
                    let value =
                        UInt32(bytes[4 * i]) << 24 | UInt32(bytes[4 * i + 1]) << 16 | UInt32(bytes[4 * i + 2]) << 8
                        | UInt32(bytes[4 * i + 3])
                    words.storeBytes(of: value, toByteOffset: 4 * i, as: UInt32.self)
                }
            }
        }
        var (a, b, c, d, e) = h
        withUnsafeMutableBytes(of: &w) { raw in
            let words = raw.bindMemory(to: UInt32.self)
            for t in 0..<80 {
                let s = t & 15
                if t >= 16 {
                    let x = words[(s + 13) & 15] ^ words[(s + 8) & 15] ^ words[(s + 2) & 15] ^ words[s]
                    words[s] = x << 1 | x >> 31
                }
                let f: UInt32
                let k: UInt32
                switch t {
                case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
                case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
                case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
                }
                let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ words[s]
                e = d
                d = c
                c = b << 30 | b >> 2
                b = a
                a = temp
            }
        }
        h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
    }
}

/// HMAC-SHA1 (RFC 2104) with a key of at most 64 bytes (ICE passwords are 22–256 characters; longer
/// keys are first hashed, as the RFC says).
struct HmacSha1 {
    private var inner = Sha1()
    private var outerKey: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)

    init(key: UnsafeRawBufferPointer) {
        var keyBlock: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &keyBlock) { block in
            if key.count > 64 {
                var hash = Sha1()
                hash.update(key)
                var digest = hash.finalize()
                withUnsafeBytes(of: &digest) { Self.writeDigest($0, into: block) }
            } else {
                for i in 0..<key.count { block[i] = key[i] }
            }
        }
        var innerPad = keyBlock
        withUnsafeMutableBytes(of: &innerPad) { for i in 0..<64 { $0[i] ^= 0x36 } }
        var outerPad = keyBlock
        withUnsafeMutableBytes(of: &outerPad) { for i in 0..<64 { $0[i] ^= 0x5C } }
        outerKey = outerPad
        withUnsafeBytes(of: innerPad) { inner.update($0) }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) { inner.update(bytes) }

    /// Writes the 20-byte MAC into `out[0..<20]`.
    mutating func finalize(into out: UnsafeMutableRawBufferPointer) {
        var innerDigest = inner.finalize()
        var outer = Sha1()
        withUnsafeBytes(of: outerKey) { outer.update($0) }
        withUnsafeBytes(of: &innerDigest) { raw in
            var scratch: (UInt64, UInt64, UInt32) = (0, 0, 0)
            withUnsafeMutableBytes(of: &scratch) { Self.writeDigest(raw, into: $0) }
            withUnsafeBytes(of: scratch) { outer.update(UnsafeRawBufferPointer(rebasing: $0[0..<20])) }
        }
        var digest = outer.finalize()
        withUnsafeBytes(of: &digest) { Self.writeDigest($0, into: out) }
    }

    /// Writes the digest tuple (two UInt64 and a UInt32 in host order) as 20 big-endian bytes.
    static func writeDigest(_ raw: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        let a = raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        let b = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        let c = raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: a >> (56 - 8 * UInt64(i)))
            out[8 + i] = UInt8(truncatingIfNeeded: b >> (56 - 8 * UInt64(i)))
        }
        for i in 0..<4 { out[16 + i] = UInt8(truncatingIfNeeded: c >> (24 - 8 * UInt32(i))) }
    }
}

/// CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320) for STUN FINGERPRINT (RFC 8489 §14.7), fed
/// in pieces like `HmacSha1` so a writer can checksum what it appends as it goes.
struct Crc32 {
    static let table: [UInt32] = (0..<256).map { index in
        var c = UInt32(index)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    private var state: UInt32 = 0xFFFF_FFFF

    init() {}

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var crc = state
        Self.table.withUnsafeBufferPointer { t in
            for byte in bytes { crc = t[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        state = crc
    }

    var value: UInt32 { state ^ 0xFFFF_FFFF }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = Crc32()
        crc.update(bytes)
        return crc.value
    }
}
