import MediaCore
import Testing

@Suite("Video stream allocator: simulcast choice, pause, upswitch probes")
struct VideoStreamAllocatorTests {
    let start = ContinuousClock.Instant.now
    let thresholds = VideoPauseHysteresis.Thresholds(floorBps: 50_000, resumeBps: 100_000, hold: .seconds(1))
    /// Three encodings at 150, 500 and 1,500 kbit/s.
    let rates: VideoStreamAllocator.EncodingRates = [150_000, 500_000, 1_500_000]

    @Test("down at once, up only after the hold and with headroom; the switch names its encoding")
    func downAndUp() {
        var allocator = VideoStreamAllocator()
        // A share that carries the top encoding: the first choice is a move up, so it waits.
        #expect(
            allocator.update(videoShareBps: 2_000_000, encodingRates: rates, thresholds: thresholds, now: start)
                .switchTo == nil
        )
        let held = allocator.update(
            videoShareBps: 2_000_000,
            encodingRates: rates,
            thresholds: thresholds,
            now: start + .seconds(1)
        )
        #expect(held.switchTo == 2 && allocator.targetEncoding == 2)
        // The share drops under the top encoding's rate: down at once, to the best that fits.
        let down = allocator.update(
            videoShareBps: 600_000,
            encodingRates: rates,
            thresholds: thresholds,
            now: start + .milliseconds(1010)
        )
        #expect(down.switchTo == 1 && allocator.targetEncoding == 1)
        // 1,600 kbit/s fits 1,500 but not with 10 % headroom: no move up however long it lasts.
        for ms in stride(from: 1_100, through: 4_000, by: 100) {
            let d = allocator.update(
                videoShareBps: 1_600_000,
                encodingRates: rates,
                thresholds: thresholds,
                now: start + .milliseconds(ms)
            )
            #expect(d.switchTo == nil)
        }
    }

    @Test("stuck below the next encoding it asks for padding up to the share")
    func upswitchProbe() {
        var allocator = VideoStreamAllocator()
        _ = allocator.update(videoShareBps: 200_000, encodingRates: rates, thresholds: thresholds, now: start)
        #expect(allocator.targetEncoding == 0)
        // Showing 150 kbit/s with a share of 400: pad 250 kbit/s (the share), short of 500 × 1.1.
        let probe = allocator.update(
            videoShareBps: 400_000,
            encodingRates: rates,
            thresholds: thresholds,
            now: start + .milliseconds(10)
        )
        #expect(probe.upswitchProbeBps == 250_000)
        // Just under the next encoding's need (550): still the share. Past it, the move up waits
        // out its hold and pads nothing meanwhile (the share already carries it).
        let under = allocator.update(
            videoShareBps: 540_000,
            encodingRates: rates,
            thresholds: thresholds,
            now: start + .milliseconds(20)
        )
        #expect(under.upswitchProbeBps == 390_000)
        let past = allocator.update(
            videoShareBps: 560_000,
            encodingRates: rates,
            thresholds: thresholds,
            now: start + .milliseconds(30)
        )
        #expect(past.upswitchProbeBps == 0 && past.switchTo == nil)
    }

    @Test("below the floor video pauses and no encoding is chosen; it resumes after the hold")
    func pauseAndResume() {
        var allocator = VideoStreamAllocator()
        let paused = allocator.update(videoShareBps: 30_000, encodingRates: rates, thresholds: thresholds, now: start)
        #expect(paused.pause == .pause && allocator.isPaused)
        let quiet = allocator.update(
            videoShareBps: 2_000_000,
            encodingRates: rates,
            thresholds: thresholds,
            now: start + .milliseconds(500)
        )
        #expect(quiet.pause == nil && quiet.switchTo == nil && quiet.upswitchProbeBps == 0)
        let resumed = allocator.update(
            videoShareBps: 2_000_000,
            encodingRates: rates,
            thresholds: thresholds,
            now: start + .milliseconds(1500)
        )
        #expect(resumed.pause == .resume && !allocator.isPaused)
    }

    @Test("a single stream is only paused and resumed; a new source starts from the first encoding")
    func singleStreamAndNewSource() {
        var allocator = VideoStreamAllocator()
        #expect(
            allocator.update(videoShareBps: 2_000_000, encodingRates: nil, thresholds: thresholds, now: start)
                == .init()
        )
        _ = allocator.update(videoShareBps: 2_000_000, encodingRates: rates, thresholds: thresholds, now: start)
        _ = allocator.update(
            videoShareBps: 2_000_000,
            encodingRates: rates,
            thresholds: thresholds,
            now: start + .seconds(2)
        )
        #expect(allocator.targetEncoding == 2)
        allocator.sourceChanged()
        #expect(allocator.targetEncoding == 0)
        // Encodings the source stopped sending are not chosen: only the lowest is on.
        let off: VideoStreamAllocator.EncodingRates = [150_000, nil, nil]
        #expect(
            allocator.update(
                videoShareBps: 2_000_000,
                encodingRates: off,
                thresholds: thresholds,
                now: start + .seconds(3)
            ).switchTo == nil
        )
        #expect(allocator.targetEncoding == 0)
    }
}
