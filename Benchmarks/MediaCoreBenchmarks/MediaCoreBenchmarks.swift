import Benchmark
import MediaCore

/// Entry point: each area registers its benchmarks from its own file.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .instructions],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )
    controlBenchmarks()
    srtpBenchmarks()
    repairBenchmarks()
    rtcpBenchmarks()
    rtpBenchmarks()
    stunBenchmarks()
}

/// The harness's own cost: an empty loop, to read the other figures against.
func controlBenchmarks() {
    Benchmark("Empty") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(0)
        }
    }
}
