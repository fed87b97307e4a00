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
        let pattern: [Int] = [0, 1, 2, 4, 5, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]  // 3 late; 20 lost below
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
                if ticks % 8 == 0 { blackHole(generator.due(now: t0 + .milliseconds(ticks), rtt: .milliseconds(50), into: &out)) }
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
}
