import MediaCore
import Testing

@Suite("Padding probes: rate, window, budget")
struct PaddingProbePacerTests {
    let start = ContinuousClock.Instant.now

    @Test("while paused it pads at 1.2 x the resume rate, within one window of probe and audio")
    func pausedRateAndWindow() {
        #expect(PaddingProbePacer.rateBps(paused: true, resumeBps: 100_000, upswitchBps: 5_000) == 120_000)
        #expect(PaddingProbePacer.rateBps(paused: false, resumeBps: 100_000, upswitchBps: 5_000) == 5_000)
        // (120 + 40) kbit/s over 100 ms of RTT and 50 ms of margin: 3,000 bytes.
        let paused = PaddingProbePacer.windowBytes(
            probeBps: 120_000,
            audioBps: 40_000,
            paused: true,
            targetBps: 900_000,
            rttMs: 100,
            congestionWindowMs: 50
        )
        #expect(paused == 3_000)
        // Not paused, video is in flight too: the window follows the estimate.
        let shown = PaddingProbePacer.windowBytes(
            probeBps: 120_000,
            audioBps: 40_000,
            paused: false,
            targetBps: 800_000,
            rttMs: 100,
            congestionWindowMs: 50
        )
        #expect(shown == 15_000)
    }

    @Test(
        "the budget earns the rate over time, spends it in whole packets, and never holds more than two full-size packets"
    )
    func budget() {
        var pacer = PaddingProbePacer()
        // 10 ms at 240 kbit/s earns 300 bytes: one 275-byte probe, 25 left; 5 ms more, 175.
        #expect(
            pacer.probes(
                now: start,
                rateBps: 240_000,
                packetBytes: 275,
                windowBytes: 100_000,
                bytesInFlight: 0,
                firstInterval: .milliseconds(10)
            ) == 1
        )
        #expect(
            pacer.probes(
                now: start + .milliseconds(5),
                rateBps: 240_000,
                packetBytes: 275,
                windowBytes: 100_000,
                bytesInFlight: 0,
                firstInterval: .milliseconds(10)
            ) == 0
        )
        #expect(
            pacer.probes(
                now: start + .milliseconds(10),
                rateBps: 240_000,
                packetBytes: 275,
                windowBytes: 100_000,
                bytesInFlight: 0,
                firstInterval: .milliseconds(10)
            ) == 1
        )
        // After ten seconds without a call, at most the cap: 2,400 bytes are eight probes.
        #expect(
            pacer.probes(
                now: start + .seconds(10),
                rateBps: 240_000,
                packetBytes: 275,
                windowBytes: 100_000,
                bytesInFlight: 0,
                firstInterval: .milliseconds(10)
            ) == 8
        )
    }

    @Test("what is in flight holds probes back; the budget waits for the window")
    func window() {
        var pacer = PaddingProbePacer()
        let full = pacer.probes(
            now: start,
            rateBps: 1_000_000,
            packetBytes: 275,
            windowBytes: 3_000,
            bytesInFlight: 2_800,
            firstInterval: .milliseconds(20)
        )
        #expect(full == 0 && pacer.budgetBytes == PaddingProbePacer.maxBudgetBytes)
        let room = pacer.probes(
            now: start + .milliseconds(1),
            rateBps: 1_000_000,
            packetBytes: 275,
            windowBytes: 3_000,
            bytesInFlight: 2_000,
            firstInterval: .milliseconds(20)
        )
        #expect(room == 3, "three fit between 2,000 and 3,000 bytes in flight")
    }
}
