import Benchmark
import MediaCore

/// SRTP protect of a 1200-byte RTP packet, the per-packet crypto cost of forwarding, per profile.
/// Each iteration re-protects the same plaintext with the next sequence number, in place.
func srtpBenchmarks() {
    for profile in SrtpProfile.allCases {
        Benchmark("SRTP protect 1200 B \(profile)") { benchmark in
            let key = [UInt8](repeating: 0x5A, count: profile.keyLength + profile.saltLength)
            var context = try SrtpContext(profile: profile, keyAndSalt: key, direction: .outbound)
            var buffer = [UInt8](repeating: 0xAB, count: 1200 + SrtpContext.maxTrailerLength)
            buffer[0] = 0x80  // V=2
            buffer[1] = 96  // PT
            buffer[8] = 0x12  // SSRC
            var sequence: UInt16 = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                sequence &+= 1
                buffer[2] = UInt8(sequence >> 8)
                buffer[3] = UInt8(sequence & 0xFF)
                var span = buffer.mutableSpan
                var bytes = span.mutableBytes
                blackHole(try context.protectRTP(&bytes, length: 1200))
            }
        }
    }
}
