import Benchmark
import MediaCore

/// The packet buffer's per-packet cost: NACK generator inserts (in order, and with 5 % loss and
/// reordering), the NACK scan a timer tick does, and an RTX cache store plus lookup.
func repairBenchmarks() {
    Benchmark("NackGenerator insert in order") { benchmark in
        let t0 = ContinuousClock.now
        var generator = NackGenerator(now: t0)
        var sequence: UInt16 = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            sequence &+= 1
            blackHole(generator.insert(sequence: sequence, now: t0))
        }
    }

    Benchmark("NackGenerator insert with 5% loss and reordering") { benchmark in
        let t0 = ContinuousClock.now
        var generator = NackGenerator(now: t0)
        var out: [UInt16] = []
        out.reserveCapacity(256)
        // A fixed pattern per 20 packets: one lost, one arriving two late.
        // 3 late; 20 lost below.
        let pattern: [Int] = [0, 1, 2, 4, 5, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
        var base: UInt16 = 0
        var index = 0
        var ticks = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let offset = pattern[index]
            blackHole(generator.insert(sequence: base &+ UInt16(offset), now: t0))
            index += 1
            if index == pattern.count {
                index = 0
                base &+= 21  // packet 20 of each group is lost
                ticks += 1
                if ticks % 8 == 0 {
                    blackHole(generator.due(now: t0 + .milliseconds(ticks), rtt: .milliseconds(50), into: &out))
                }
            }
        }
    }

    Benchmark("NackGenerator scan per tick (2048-packet window, 5 holes)") { benchmark in
        let t0 = ContinuousClock.now
        var generator = NackGenerator(now: t0)
        var out: [UInt16] = []
        out.reserveCapacity(256)
        for s in 0..<2048 where s % 400 != 7 { generator.insert(sequence: UInt16(s), now: t0) }
        var now = t0 + .milliseconds(20)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            now += .milliseconds(1)
            blackHole(generator.due(now: now, rtt: .seconds(3600), into: &out))
        }
    }

    Benchmark("RtxCache store and lookup (1200 B)") { benchmark in
        let cache = RtxCache()
        let packet = [UInt8](repeating: 0xAB, count: 1200)
        var sequence: UInt16 = 0
        let t0 = ContinuousClock.now
        benchmark.startMeasurement()
        packet.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations {
                sequence &+= 1
                cache.store(bytes, sequence: sequence, now: t0)
                blackHole(cache.retransmission(of: sequence &- 100, now: t0, rtt: .zero))
            }
        }
    }

    Benchmark("Audio cache store (120 B Opus)") { benchmark in
        let cache = RtxCache(capacity: RtxCache.audioCapacity)
        let packet = [UInt8](repeating: 0xAB, count: 120)
        var sequence: UInt16 = 0
        let t0 = ContinuousClock.now
        benchmark.startMeasurement()
        packet.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations {
                sequence &+= 1
                cache.store(bytes, sequence: sequence, now: t0)
            }
        }
        blackHole(cache.stored(sequence))
    }

    // What the relay does per Opus packet towards a lossy RED receiver: the plain packet is in the
    // output buffer; two predecessors come out of the audio cache and go in front of it.
    Benchmark("RED build with 2 repeats from the audio cache (120 B Opus)") { benchmark in
        let cache = RtxCache(capacity: RtxCache.audioCapacity)
        let t0 = ContinuousClock.now
        func opus(_ sequence: UInt16) -> [UInt8] {
            let timestamp = UInt32(sequence) &* 960
            return [
                0x80, 111, UInt8(sequence >> 8), UInt8(sequence & 0xFF),
                UInt8(timestamp >> 24), UInt8((timestamp >> 16) & 0xFF), UInt8((timestamp >> 8) & 0xFF),
                UInt8(timestamp & 0xFF),
                1, 2, 3, 4,
            ] + [UInt8](repeating: 0x78, count: 120)
        }
        for sequence in UInt16(0)..<128 {
            opus(sequence).withUnsafeBytes { cache.store($0, sequence: sequence, now: t0) }
        }
        let plain = opus(128)
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 1500, alignment: 16)
        defer { out.deallocate() }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            plain.withUnsafeBytes { out.copyMemory(from: $0) }
            blackHole(
                RelayCore.writeRED(
                    into: out,
                    headerLength: 12,
                    payloadLength: 120,
                    sequence: 128,
                    timestamp: 128 * 960,
                    opusType: 111,
                    redType: 63,
                    distance: 2,
                    cache: cache
                )
            )
        }
    }

    Benchmark("RED parse and walk 2 repeats") { benchmark in
        let payload: [UInt8] =
            [0xEF, 0x1E, 0x00, 0x78, 0xEF, 0x0F, 0x00, 0x78, 0x6F] + [UInt8](repeating: 0x78, count: 360)
        benchmark.startMeasurement()
        payload.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations {
                guard let view = try? REDPayloadView(validating: bytes.bytes) else { continue }
                blackHole(view.redundant(0).range.count &+ view.redundant(1).range.count &+ view.primaryRange.count)
            }
        }
    }

    Benchmark("Opus in-band FEC flag (SILK wideband, 120 B)") { benchmark in
        let packet: [UInt8] = [0x48, 0xC0] + [UInt8](repeating: 0x5A, count: 118)
        benchmark.startMeasurement()
        packet.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations {
                blackHole(OpusInbandFEC.present(packet: bytes.bytes))
            }
        }
    }
}
