import MediaCore
import Testing

@Suite("Media pacer: audio first, then retransmissions, then video within the rate and the window")
struct MediaPacerTests {
    let start = ContinuousClock.Instant.now

    /// Sends everything `pacer` lets go at `now`; returns the entries in the order they went.
    func drain(
        _ pacer: inout MediaPacer,
        at now: ContinuousClock.Instant,
        window: MediaPacer.CongestionWindow? = nil
    )
        -> [MediaPacer.Entry]
    {
        var out: [MediaPacer.Entry] = []
        var window = window
        while let entry = pacer.next(now: now, window: window) {
            pacer.sent(entry, now: now)
            out.append(entry)
            window?.bytesInFlight += entry.size
        }
        return out
    }

    @Test("a keyframe burst leaves at the pacing rate: one burst at once and the rest as the budget earns it")
    func keyframeBurst() {
        var pacer = MediaPacer(capacity: 64, slotSize: 0)
        pacer.setPacingRate(1_200_000)  // 150 bytes a millisecond; a burst is 1,500 bytes (5 ms would be less)
        for index in 0..<30 {
            let queued = pacer.enqueue(.video, size: 1_000, tag: UInt64(index), now: start)
            #expect(queued)
        }
        let first = drain(&pacer, at: start)
        #expect(first.map(\.tag) == [0, 1], "1,500 bytes of budget: two packets, the second into debt")
        // 10 ms later 1,500 bytes more were earned: one packet.
        let later = drain(&pacer, at: start + .milliseconds(10))
        #expect(later.count == 1)
        // 30,000 bytes at 150 a millisecond take 200 ms; none go early.
        var sentBy = 3
        var now = start + .milliseconds(10)
        while now < start + .milliseconds(300) {
            now += .milliseconds(10)
            sentBy += drain(&pacer, at: now).count
            if now == start + .milliseconds(100) {
                #expect(sentBy <= 17, "1,500 + 100 ms x 150 bytes, and one into debt")
            }
        }
        let empty = pacer.isEmpty
        #expect(sentBy == 30 && empty)
    }

    @Test("audio goes before queued video and does not wait for the budget; retransmissions go before video")
    func priorities() {
        var pacer = MediaPacer(capacity: 16, slotSize: 0)
        pacer.setPacingRate(80_000)  // about 10 bytes a millisecond; the burst is one 1,500-byte packet
        _ = pacer.enqueue(.video, size: 1_500, tag: 1, now: start)
        _ = pacer.enqueue(.video, size: 1_500, tag: 2, now: start)
        #expect(drain(&pacer, at: start).map(\.tag) == [1], "one packet of budget")
        _ = pacer.enqueue(.retransmission, size: 1_200, tag: 3, now: start)
        _ = pacer.enqueue(.audio, size: 100, tag: 4, now: start)
        #expect(drain(&pacer, at: start).map(\.tag) == [4], "audio goes with the budget in debt")
        let budget = pacer.budgetBytes
        #expect(budget < 0)
        // Once the budget is positive again, the retransmission goes before the older video.
        let order = drain(&pacer, at: start + .milliseconds(200)).map(\.tag)
        #expect(order.first == 3)
    }

    @Test("nothing but audio past the congestion window; audio a little past it; stale audio is dropped")
    func congestionWindow() {
        var pacer = MediaPacer(capacity: 16, slotSize: 0)
        pacer.setPacingRate(10_000_000)
        _ = pacer.enqueue(.video, size: 1_000, tag: 1, now: start)
        _ = pacer.enqueue(.audio, size: 100, tag: 2, now: start)
        let full = MediaPacer.CongestionWindow(bytesInFlight: 5_000, windowBytes: 5_000)
        #expect(drain(&pacer, at: start, window: full).map(\.tag) == [2], "audio may go up to 1,000 bytes past it")
        _ = pacer.enqueue(.audio, size: 100, tag: 3, now: start)
        let farPast = MediaPacer.CongestionWindow(bytesInFlight: 6_000, windowBytes: 5_000)
        #expect(drain(&pacer, at: start, window: farPast).isEmpty)
        // Probes' own window lets audio past the congestion window by as much.
        let probing = MediaPacer.CongestionWindow(bytesInFlight: 6_000, windowBytes: 5_000, audioWindowBytes: 7_000)
        #expect(drain(&pacer, at: start, window: probing).map(\.tag) == [3])
        _ = pacer.enqueue(.audio, size: 100, tag: 4, now: start)
        #expect(drain(&pacer, at: start + .milliseconds(250), window: farPast).isEmpty)
        let (stale, audioLeft) = (pacer.staleAudioDropped, pacer.count(of: .audio))
        #expect(stale == 1 && audioLeft == 0)
        // The window opens (feedback came): video goes.
        #expect(
            drain(&pacer, at: start + .milliseconds(250), window: .init(bytesInFlight: 0, windowBytes: 5_000)).map(
                \.tag
            ) == [1]
        )
    }

    @Test("what waits leaves within the queue bound even when the rate is far too low for it")
    func queueBound() {
        var pacer = MediaPacer(capacity: 256, slotSize: 0)
        pacer.setPacingRate(100_000)  // 100 kB would take 8 s at this rate
        for _ in 0..<100 { _ = pacer.enqueue(.video, size: 1_000, now: start) }
        var now = start
        var sent = 0
        while now < start + .milliseconds(400), !pacer.isEmpty {
            now += .milliseconds(10)
            sent += drain(&pacer, at: now).count
        }
        #expect(sent == 100, "drained once the oldest has waited 250 ms (and one tick)")
        #expect(now <= start + .milliseconds(260))
    }

    @Test("unpaced, everything goes at once; a full pacer refuses and counts it; bytes come back as written")
    func unpacedAndBytes() {
        var pacer = MediaPacer(capacity: 2, slotSize: 64)
        let first = pacer.enqueue(.video, transportSequenceAt: 17, now: start) { slot in
            slot[0] = 0x80
            slot[1] = 0x60
            return 20
        }
        let second = pacer.enqueue(.audio, now: start) { slot in
            slot[0] = 0xAA
            return 1
        }
        let third = pacer.enqueue(.video, size: 10, now: start)
        let overflowed = pacer.overflowed
        #expect(first && second && !third && overflowed == 1)
        guard let audio = pacer.next(now: start) else { return #expect(Bool(false)) }
        let audioBytes = Array(pacer.bytes(of: audio))
        #expect(audio.queue == .audio && audioBytes == [0xAA])
        pacer.sent(audio, now: start)
        guard let video = pacer.next(now: start) else { return #expect(Bool(false)) }
        let videoBytes = Array(pacer.bytes(of: video))
        #expect(video.transportSequenceAt == 17 && videoBytes.count == 20 && videoBytes[1] == 0x60)
        pacer.sent(video, now: start)
        let empty = pacer.isEmpty
        let again = pacer.enqueue(.video, size: 10, now: start) && pacer.enqueue(.video, size: 10, now: start)
        #expect(empty && again)
    }

    @Test("a paused stream's waiting video is taken out; the other streams' keeps its order")
    func removeOneStream() {
        var pacer = MediaPacer(capacity: 8, slotSize: 0)
        for tag in [UInt64(0), 1, 0, 1, 0] { _ = pacer.enqueue(.video, size: 100 + Int(tag), tag: tag, now: start) }
        pacer.removeAll(.video, tag: 0)
        let (left, bytes) = (pacer.count, pacer.queuedBytes(of: .video))
        #expect(left == 2 && bytes == 202)
        #expect(drain(&pacer, at: start).map(\.tag) == [1, 1])
        for _ in 0..<8 { _ = pacer.enqueue(.video, size: 1, now: start) }
        #expect(pacer.count == 8, "the freed slots are reusable")
    }

    @Test("while the window holds everything, one packet still goes every 500 ms, so its feedback can open the window")
    func congestedKeepalive() {
        var pacer = MediaPacer(capacity: 16, slotSize: 0)
        pacer.setPacingRate(1_000_000)
        let stuck = MediaPacer.CongestionWindow(bytesInFlight: 50_000, windowBytes: 5_000)  // all of it lost, say
        _ = pacer.enqueue(.video, size: 1_000, tag: 1, now: start)
        _ = pacer.enqueue(.video, size: 1_000, tag: 2, now: start)
        #expect(drain(&pacer, at: start, window: stuck).map(\.tag) == [1], "nothing sent yet: the first goes")
        #expect(drain(&pacer, at: start + .milliseconds(400), window: stuck).isEmpty)
        #expect(drain(&pacer, at: start + .milliseconds(500), window: stuck).map(\.tag) == [2])
    }

    @Test(
        "with a window hold limit, video that has waited that long for a full window goes anyway, in order, at the pacing rate"
    )
    func windowHoldLimit() {
        var configuration = MediaPacer.Configuration()
        configuration.windowHoldLimit = .milliseconds(250)
        var pacer = MediaPacer(capacity: 16, slotSize: 0, configuration: configuration)
        pacer.setPacingRate(8_000_000)  // 1,000 bytes a millisecond
        let full = MediaPacer.CongestionWindow(bytesInFlight: 5_000, windowBytes: 5_000)
        _ = pacer.enqueue(.video, size: 1_000, tag: 1, now: start)
        #expect(drain(&pacer, at: start, window: full).map(\.tag) == [1], "nothing sent yet: the first goes")
        _ = pacer.enqueue(.video, size: 1_000, tag: 2, now: start + .milliseconds(10))
        _ = pacer.enqueue(.video, size: 1_000, tag: 3, now: start + .milliseconds(100))
        #expect(drain(&pacer, at: start + .milliseconds(200), window: full).isEmpty, "the window holds them")
        #expect(drain(&pacer, at: start + .milliseconds(259), window: full).isEmpty, "2 has waited 249 ms")
        #expect(
            drain(&pacer, at: start + .milliseconds(260), window: full).map(\.tag) == [2],
            "2 has waited 250 ms; 3, 160 ms"
        )
        #expect(drain(&pacer, at: start + .milliseconds(350), window: full).map(\.tag) == [3])
        // Without the limit (a sender whose encoder follows the estimate) the window holds video
        // until the 500 ms keepalive.
        var holding = MediaPacer(capacity: 16, slotSize: 0)
        holding.setPacingRate(8_000_000)
        _ = holding.enqueue(.video, size: 1_000, tag: 1, now: start)
        _ = drain(&holding, at: start, window: full)
        _ = holding.enqueue(.video, size: 1_000, tag: 2, now: start + .milliseconds(10))
        #expect(drain(&holding, at: start + .milliseconds(400), window: full).isEmpty)
    }

    @Test(
        "towards an unreachable receiver the window holds video despite the hold limit, and what waited past the queue's limit is dropped"
    )
    func unreachableDropsStaleVideo() {
        var configuration = MediaPacer.Configuration()
        configuration.windowHoldLimit = .milliseconds(250)
        var pacer = MediaPacer(capacity: 16, slotSize: 0, configuration: configuration)
        pacer.setPacingRate(8_000_000)
        var gone = MediaPacer.CongestionWindow(bytesInFlight: 5_000, windowBytes: 5_000)
        gone.unreachable = true
        _ = pacer.enqueue(.video, size: 1_000, tag: 1, now: start)
        #expect(drain(&pacer, at: start, window: gone).map(\.tag) == [1], "nothing sent yet: the first goes")
        _ = pacer.enqueue(.video, size: 1_000, tag: 2, now: start + .milliseconds(10))
        _ = pacer.enqueue(.retransmission, size: 1_000, tag: 3, now: start + .milliseconds(20))
        #expect(drain(&pacer, at: start + .milliseconds(270), window: gone).isEmpty, "past the hold limit, still held")
        let droppedFirst = pacer.staleVideoDropped
        #expect(droppedFirst == 1, "2 waited 260 ms; 3, 250 ms")
        #expect(drain(&pacer, at: start + .milliseconds(275), window: gone).isEmpty)
        let (droppedThen, empty) = (pacer.staleVideoDropped, pacer.isEmpty)
        #expect(droppedThen == 2, "3 waited 255 ms")
        #expect(empty)
        // The 500 ms keepalive still lets a fresh packet go.
        _ = pacer.enqueue(.video, size: 1_000, tag: 4, now: start + .milliseconds(300))
        #expect(drain(&pacer, at: start + .milliseconds(499), window: gone).isEmpty)
        #expect(drain(&pacer, at: start + .milliseconds(500), window: gone).map(\.tag) == [4])
        let droppedAtEnd = pacer.staleVideoDropped
        #expect(droppedAtEnd == 2)
    }
}
