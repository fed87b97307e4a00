// Our AEAD_AES_128_GCM RTP transform (`SrtpAesGcmRTP`, RFC 7714) on any bytes. The first byte picks
// the case: (a) the input as a received SRTP packet: it must be refused with a typed error or, if
// it authenticates (it never should), leave the length in range; (b) the input as an RTP packet to
// send: whatever our transform seals, libsrtp must open to the same plaintext, and the reverse.
// Contexts live for the whole run, so the per-SSRC table's bound and eviction are exercised too.

@testable import MediaCore

final class FuzzSrtp {
    static let key: [UInt8] = (0..<28).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 3) }
    var ownIn: SrtpContext
    var ownOut: SrtpContext
    var libIn: SrtpContext
    var libOut: SrtpContext
    var buffer = [UInt8](repeating: 0, count: 4096)

    init() throws {
        ownIn = try SrtpContext(profile: .aeadAes128Gcm, keyAndSalt: Self.key, direction: .inbound)
        ownOut = try SrtpContext(profile: .aeadAes128Gcm, keyAndSalt: Self.key, direction: .outbound)
        libIn = try SrtpContext(profile: .aeadAes128Gcm, keyAndSalt: Self.key, direction: .inbound, rtp: .libsrtp)
        libOut = try SrtpContext(profile: .aeadAes128Gcm, keyAndSalt: Self.key, direction: .outbound, rtp: .libsrtp)
    }

    func run(_ input: UnsafeRawBufferPointer) {
        guard let mode = input.first, input.count > 1, input.count - 1 <= buffer.count - SrtpContext.maxTrailerLength
        else { return }
        let body = UnsafeRawBufferPointer(rebasing: input[1...])
        let length = body.count
        buffer.withUnsafeMutableBytes { $0.copyMemory(from: body) }
        if mode & 1 == 0 {
            var span = buffer.mutableSpan
            var bytes = span.mutableBytes
            if let opened = try? ownIn.unprotectRTP(&bytes, length: length) {
                if opened < 12 || opened > length - 16 {
                    fatalError("an opened packet's length is out of range: \(opened) of \(length)")
                }
            }
            return
        }
        // A well-formed RTP packet only: libsrtp's own parser refuses some that ours takes, and
        // vice versa, which says nothing about the crypto.
        guard length >= 12, body[0] >> 6 == 2 else { return }
        // Sixteen SSRCs at most: beyond `SrtpAesGcmRTP.maxStreams` we forget streams and libsrtp
        // does not, which is a difference by design (a participant sends a handful).
        var plain = Array(body)
        plain[8] = 0
        plain[9] = 0
        plain[10] = 0
        plain[11] &= 0x0F
        roundTrip(plain, length: length, ownSeals: true)
        roundTrip(plain, length: length, ownSeals: false)
    }

    /// Seals with one implementation and opens with the other.
    private func roundTrip(_ plain: [UInt8], length: Int, ownSeals: Bool) {
        var packet = plain + [UInt8](repeating: 0, count: SrtpContext.maxTrailerLength)
        let outcome: Result<Int, SrtpError>?
        do {
            var span = packet.mutableSpan
            var bytes = span.mutableBytes
            guard
                let sealed = try?
                    (ownSeals ? ownOut.protectRTP(&bytes, length: length) : libOut.protectRTP(&bytes, length: length))
            else { return }
            outcome = Result { () throws(SrtpError) -> Int in
                try ownSeals ? libIn.unprotectRTP(&bytes, length: sealed) : ownIn.unprotectRTP(&bytes, length: sealed)
            }
        }
        switch outcome {
        case .success(let opened)?:
            if opened != length || Array(packet[0..<length]) != plain {
                fatalError("a round trip changed the packet \(plain)")
            }
        case .failure(.replayed)?, nil:
            return  // the fuzzer sent this sequence number on this SSRC before
        case .failure(let error)?:
            fatalError(
                "what \(ownSeals ? "we" : "libsrtp") sealed the other could not open: \(error), packet \(plain.prefix(16))"
            )
        }
    }
}

nonisolated(unsafe) var srtpFuzz: FuzzSrtp?

@_cdecl("LLVMFuzzerTestOneInput") public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if srtpFuzz == nil { srtpFuzz = try! FuzzSrtp() }
    srtpFuzz!.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
