import Benchmark
import MediaCore

/// SRTP protect, and protect then unprotect, of a 1200-byte RTP packet, the per-packet crypto cost of forwarding,
/// per profile and, for AEAD_AES_128_GCM, for our transform against libsrtp's in the same run.
/// Each iteration re-protects the same plaintext with the next sequence number, in place.
func srtpBenchmarks() {
    let variants: [(SrtpProfile, SrtpContext.RTPImplementation, String)] = [
        (.aes128CmHmacSha1_80, .libsrtp, "libsrtp"),
        (.aeadAes128Gcm, .libsrtp, "libsrtp"),
        (.aeadAes128Gcm, .preferOwn, "ours"),
    ]
    for (profile, implementation, name) in variants {
        Benchmark("SRTP protect 1200 B \(profile) (\(name))") { benchmark in
            var context = try srtpContext(profile, implementation, .outbound)
            var buffer = rtpPacket()
            var sequence: UInt16 = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                advanceSequence(of: &buffer, &sequence)
                var span = buffer.mutableSpan
                var bytes = span.mutableBytes
                blackHole(try context.protectRTP(&bytes, length: 1200))
            }
        }
        Benchmark("SRTP protect+unprotect 1200 B \(profile) (\(name))") { benchmark in
            // What a forwarded packet costs in crypto: the sender's protect, our unprotect (the
            // difference from the protect-only benchmark above is the unprotect).
            var sender = try srtpContext(profile, implementation, .outbound)
            var receiver = try srtpContext(profile, implementation, .inbound)
            var buffer = rtpPacket()
            var sequence: UInt16 = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                advanceSequence(of: &buffer, &sequence)
                var span = buffer.mutableSpan
                var bytes = span.mutableBytes
                let sealed = try sender.protectRTP(&bytes, length: 1200)
                blackHole(try receiver.unprotectRTP(&bytes, length: sealed))
            }
        }
    }
}

/// Both ends of one benchmark share this key.
private func srtpContext(
    _ profile: SrtpProfile,
    _ implementation: SrtpContext.RTPImplementation,
    _ direction: SrtpContext.Direction
) throws -> SrtpContext {
    let key = [UInt8](repeating: 0x5A, count: profile.keyLength + profile.saltLength)
    return try SrtpContext(profile: profile, keyAndSalt: key, direction: direction, rtp: implementation)
}

/// The next sequence number, written into the packet's header (a new SRTP index each time).
private func advanceSequence(of buffer: inout [UInt8], _ sequence: inout UInt16) {
    sequence &+= 1
    buffer[2] = UInt8(sequence >> 8)
    buffer[3] = UInt8(sequence & 0xFF)
}

/// A 1200-byte RTP packet (V=2, PT 96, one SSRC) with room for the SRTP trailer.
private func rtpPacket(sequence: UInt16 = 0) -> [UInt8] {
    var buffer = [UInt8](repeating: 0xAB, count: 1200 + SrtpContext.maxTrailerLength)
    buffer[0] = 0x80
    buffer[1] = 96
    buffer[2] = UInt8(sequence >> 8)
    buffer[3] = UInt8(sequence & 0xFF)
    buffer[8] = 0x12
    return buffer
}
