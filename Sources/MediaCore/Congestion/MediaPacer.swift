/// What leaves towards one receiver, and when (DESIGN.md "Bandwidth estimation"): forwarded packets
/// go into this pacer instead of onto the wire, and it is drained on every packet and every tick.
///
/// Three queues, served strictly in order: audio, then retransmissions, then video. Retransmissions
/// and video leave within a budget refilled at the pacing rate (the estimate times the estimator's
/// `pacingFactor`, as libwebrtc's pacer does), at most `burst` of it at once, so a keyframe burst
/// leaves at a bounded multiple of the receiver's estimate instead of all at once into a 4G queue.
/// Audio never waits for the budget (it is spent all the same) and never behind video. Everything
/// respects the estimator's congestion window when the caller passes one: into a link that reports
/// nothing (an outage) more would only queue up stale media. Audio may go a little past that
/// window, and audio held longer than `staleAudio` is dropped here (a receiver would discard it).
/// A relay sets `windowHoldLimit`, so the window delays video but does not hold it for good.
/// When more is queued than the pacing rate could send before the oldest packet has waited
/// `maxQueueDelay`, the rate rises to drain it by then: the sender outran the estimate, and a pacer that adds seconds of delay is
/// worse than a link queue that drops.
///
/// A sans-I/O state machine. Packets go in with `enqueue` (their bytes written into a slot held
/// here, or, for the simulator, only their size); `next` says which may leave now, the caller sends
/// it (stamping its transport-wide number at that moment, so the estimator sees the real send time)
/// and reports it with `sent`. Slots are allocated once: queueing and sending allocate nothing.
/// The relay runs one per receiver for video and retransmissions (RelayCore+Pacing); `bwe-sim`
/// runs it for its model sender, audio included.
public struct MediaPacer: ~Copyable {
    /// The queues, in the order they are served.
    public enum Queue: Int, Sendable, CaseIterable {
        case audio = 0
        case retransmission = 1
        case video = 2
    }

    public struct Configuration: Sendable, Equatable {
        /// The most budget that accumulates (and at least one full packet): what may leave back to
        /// back. Short, so a keyframe leaves at the pacing rate, not in one lump. A caller that
        /// drains only every 10 ms still sends at least half the pacing rate (1.25 times the estimate).
        public var burst: Duration = .milliseconds(5)
        /// The queue is drained within this time even above the pacing rate.
        public var maxQueueDelay: Duration = .milliseconds(250)
        /// Audio older than this is dropped instead of sent.
        public var staleAudio: Duration = .milliseconds(200)
        /// Audio may go this far past the congestion window.
        public var audioWindowAllowanceBytes = 1000
        /// While the window holds everything back, one packet still leaves this often: its feedback
        /// settles what was lost before it, so a window full of lost packets (an outage that
        /// dropped what was in flight, a path that moved) cannot hold the stream for good
        /// (libwebrtc's pacer sends one every 500 ms while congested, for the same reason).
        public var congestedSendInterval: Duration = .milliseconds(500)
        /// Retransmissions and video that have waited this long for the window go anyway, at the
        /// pacing rate (nil: the window holds them for as long as it is full). For a relay, whose
        /// sources do not slow down when its window closes: feedback that arrives late (a loaded
        /// machine, a stalled browser) fills the window while the link is fine, and holding video
        /// then turns into seconds of delay, a full pacer, and frames the receiver cannot decode.
        public var windowHoldLimit: Duration?

        public init() {}
    }

    /// The estimator's congestion window at this moment (`SendSideEstimator.congestionWindow`).
    public struct CongestionWindow: Sendable, Equatable {
        public var bytesInFlight: Int
        /// What retransmissions and video may keep in flight.
        public var windowBytes: Int
        /// What audio may keep in flight (at least `windowBytes`; more while padding probes use their
        /// own, larger window, which audio must not wait behind).
        public var audioWindowBytes: Int

        /// The receiver has been silent so long that its link is taken to be down (an outage, not
        /// late feedback): the window holds video and retransmissions for as long as it is full
        /// (no `windowHoldLimit`), and those that waited longer than `maxQueueDelay` are dropped
        /// (`staleVideoDropped`) rather than sent into a queue that will deliver them too late.
        public var unreachable: Bool

        public init(bytesInFlight: Int, windowBytes: Int, audioWindowBytes: Int? = nil, unreachable: Bool = false) {
            self.bytesInFlight = bytesInFlight
            self.windowBytes = windowBytes
            self.audioWindowBytes = max(audioWindowBytes ?? windowBytes, windowBytes)
            self.unreachable = unreachable
        }
    }

    /// One queued packet, as `next` hands it out.
    public struct Entry: Sendable, Equatable {
        public var queue: Queue
        public var size: Int
        public var enqueuedAt: ContinuousClock.Instant
        /// The caller's value (the simulator keeps the packet's creation time in it).
        public var tag: UInt64
        /// Where the packet's transport-wide sequence number goes, stamped when it leaves; -1: none.
        public var transportSequenceOffset: Int32
        fileprivate var slot: Int32

        /// `transportSequenceOffset` as an optional.
        public var transportSequenceAt: Int? { transportSequenceOffset >= 0 ? Int(transportSequenceOffset) : nil }
    }

    public let configuration: Configuration
    /// How many packets it holds at once.
    public let capacity: Int
    /// Bytes per packet slot (0: sizes only, for the simulator).
    public let slotSize: Int
    /// Packets that did not fit (the caller sends them unpaced).
    public private(set) var overflowed = 0
    /// Audio packets dropped as stale.
    public private(set) var staleAudioDropped = 0
    /// Video and retransmissions dropped as stale while the receiver was unreachable.
    public private(set) var staleVideoDropped = 0

    private let storage: UnsafeMutableRawBufferPointer
    private let entries: UnsafeMutableBufferPointer<Entry>
    /// Free slot numbers, a stack.
    private let free: UnsafeMutableBufferPointer<Int32>
    private var freeCount: Int
    /// Per queue a ring of slot numbers: `Queue.rawValue * capacity` is its first.
    private let rings: UnsafeMutableBufferPointer<Int32>
    private var heads: InlineArray<3, Int> = .init(repeating: 0)
    private var counts: InlineArray<3, Int> = .init(repeating: 0)
    private var queued: InlineArray<3, Int> = .init(repeating: 0)

    /// The pacing rate, bits per second; nil: unpaced (everything may leave at once).
    public private(set) var pacingRateBps: Double?
    /// Bytes the rate has earned and not yet spent; negative after audio or a large packet.
    public private(set) var budgetBytes = 0.0
    private var lastRefill: ContinuousClock.Instant?
    /// When the last packet left.
    private var lastSent: ContinuousClock.Instant?

    public init(
        capacity: Int = 256,
        slotSize: Int = OutgoingDatagrams.defaultSlotSize,
        configuration: Configuration = .init()
    ) {
        precondition(capacity > 0 && capacity <= Int(Int32.max) && slotSize >= 0)
        self.capacity = capacity
        self.slotSize = slotSize
        self.configuration = configuration
        storage = .allocate(byteCount: max(capacity * slotSize, 1), alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        entries = .allocate(capacity: capacity)
        entries.initialize(
            repeating: Entry(queue: .video, size: 0, enqueuedAt: .now, tag: 0, transportSequenceOffset: -1, slot: 0)
        )
        free = .allocate(capacity: capacity)
        for index in 0..<capacity { free.initializeElement(at: index, to: Int32(capacity - 1 - index)) }
        freeCount = capacity
        rings = .allocate(capacity: 3 * capacity)
        rings.initialize(repeating: 0)
    }

    deinit {
        storage.deallocate()
        entries.deallocate()
        free.deallocate()
        rings.deallocate()
    }

    /// Packets queued, all queues.
    public var count: Int { capacity - freeCount }
    public var isEmpty: Bool { freeCount == capacity }

    /// Packets queued in `queue`.
    public func count(of queue: Queue) -> Int { counts[queue.rawValue] }

    /// Bytes queued in `queue`.
    public func queuedBytes(of queue: Queue) -> Int { queued[queue.rawValue] }

    /// Sets the pacing rate (the estimate times `pacingFactor`); nil paces nothing.
    public mutating func setPacingRate(_ bps: Double?) {
        pacingRateBps = bps.map { max($0, 0) }
    }

    /// Queues a packet whose bytes `write` fills into a slot (returning its length; 0 abandons it).
    /// Returns false, counted in `overflowed`, when every slot is taken; the caller then sends it
    /// unpaced rather than lose it.
    public mutating func enqueue(
        _ queue: Queue,
        tag: UInt64 = 0,
        transportSequenceAt: Int? = nil,
        now: ContinuousClock.Instant,
        write: (UnsafeMutableRawBufferPointer) -> Int
    ) -> Bool {
        guard freeCount > 0 else {
            overflowed += 1
            return false
        }
        let slot = Int(free[freeCount - 1])
        let buffer = UnsafeMutableRawBufferPointer(rebasing: storage[(slot * slotSize)..<((slot + 1) * slotSize)])
        let size = write(buffer)
        guard size > 0 else { return true }
        precondition(size <= slotSize, "packet longer than its slot")
        push(queue, slot: slot, size: size, tag: tag, transportSequenceAt: transportSequenceAt, now: now)
        return true
    }

    /// Queues a packet of `size` bytes without its bytes (the simulator's packets are only sizes).
    public mutating func enqueue(
        _ queue: Queue,
        size: Int,
        tag: UInt64 = 0,
        transportSequenceAt: Int? = nil,
        now: ContinuousClock.Instant
    ) -> Bool {
        guard freeCount > 0 else {
            overflowed += 1
            return false
        }
        push(
            queue,
            slot: Int(free[freeCount - 1]),
            size: size,
            tag: tag,
            transportSequenceAt: transportSequenceAt,
            now: now
        )
        return true
    }

    private mutating func push(
        _ queue: Queue,
        slot: Int,
        size: Int,
        tag: UInt64,
        transportSequenceAt: Int?,
        now: ContinuousClock.Instant
    ) {
        freeCount -= 1
        entries[slot] = Entry(
            queue: queue,
            size: size,
            enqueuedAt: now,
            tag: tag,
            transportSequenceOffset: Int32(transportSequenceAt ?? -1),
            slot: Int32(slot)
        )
        let q = queue.rawValue
        rings[q * capacity + (heads[q] + counts[q]) % capacity] = Int32(slot)
        counts[q] += 1
        queued[q] += size
    }

    /// The packet that may leave now, if any (it stays queued until `sent`). Audio first, within its
    /// window; then retransmissions and video while the budget is positive and the window allows.
    /// Stale audio at the head is dropped on the way. While the window holds everything, the first
    /// queued packet goes anyway every `congestedSendInterval`. Towards an unreachable receiver
    /// (`CongestionWindow.unreachable`) video and retransmissions older than `maxQueueDelay` are
    /// dropped on the way, and the window holds the rest however long they have waited.
    public mutating func next(now: ContinuousClock.Instant, window: CongestionWindow? = nil) -> Entry? {
        refill(now: now)
        let congestedTurn = lastSent.map { now - $0 >= configuration.congestedSendInterval } ?? true
        while counts[Queue.audio.rawValue] > 0 {
            let head = entries[headSlot(.audio)]
            if now - head.enqueuedAt > configuration.staleAudio {
                staleAudioDropped += 1
                pop(.audio)
                continue
            }
            if let window,
                window.bytesInFlight + head.size > window.audioWindowBytes + configuration.audioWindowAllowanceBytes
            {
                return congestedTurn ? head : nil
            }
            return head
        }
        if window?.unreachable == true {
            dropStale(.retransmission, now: now)
            dropStale(.video, now: now)
        }
        let queue: Queue
        if counts[Queue.retransmission.rawValue] > 0 {
            queue = .retransmission
        } else if counts[Queue.video.rawValue] > 0 {
            queue = .video
        } else {
            return nil
        }
        let head = entries[headSlot(queue)]
        if let window, window.bytesInFlight + head.size > window.windowBytes,
            window.unreachable || (configuration.windowHoldLimit.map({ now - oldestWaiting(now: now) < $0 }) ?? true)
        {
            return congestedTurn ? head : nil
        }
        guard pacingRateBps == nil || budgetBytes > 0 else { return nil }
        return head
    }

    /// Drops the packets at the head of `queue` that have waited longer than `maxQueueDelay`.
    private mutating func dropStale(_ queue: Queue, now: ContinuousClock.Instant) {
        while counts[queue.rawValue] > 0, now - entries[headSlot(queue)].enqueuedAt > configuration.maxQueueDelay {
            staleVideoDropped += 1
            pop(queue)
        }
    }

    /// The bytes of a packet `next` handed out (empty for a sizes-only pacer).
    public func bytes(of entry: Entry) -> UnsafeRawBufferPointer {
        guard slotSize > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let start = Int(entry.slot) * slotSize
        return UnsafeRawBufferPointer(rebasing: storage[start..<(start + entry.size)])
    }

    /// The packet `next` handed out has left (or could not be sent and is given up): it leaves its
    /// queue and its size is spent from the budget.
    public mutating func sent(_ entry: Entry, now: ContinuousClock.Instant) {
        precondition(
            counts[entry.queue.rawValue] > 0 && headSlot(entry.queue) == Int(entry.slot),
            "not the head of its queue"
        )
        pop(entry.queue)
        lastSent = now
        if pacingRateBps != nil { budgetBytes -= Double(entry.size) }
    }

    /// Empties `queue` (video towards a receiver that was paused: what waits is no use to it).
    public mutating func removeAll(_ queue: Queue) {
        while counts[queue.rawValue] > 0 { pop(queue) }
    }

    /// Takes the packets of `queue` whose tag is `tag` out of it (one paused stream of several),
    /// keeping the others in order.
    public mutating func removeAll(_ queue: Queue, tag: UInt64) {
        let q = queue.rawValue
        var kept = 0
        for index in 0..<counts[q] {
            let slot = Int(rings[q * capacity + (heads[q] + index) % capacity])
            if entries[slot].tag == tag {
                queued[q] -= entries[slot].size
                free[freeCount] = Int32(slot)
                freeCount += 1
            } else {
                rings[q * capacity + (heads[q] + kept) % capacity] = Int32(slot)
                kept += 1
            }
        }
        counts[q] = kept
    }

    /// When a packet held by the budget may leave (nil: none is held by it; the window, or new
    /// feedback, decides the rest).
    public func nextSendTime(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard let rate = effectiveRateBps(now: now), rate > 0,
            counts[Queue.retransmission.rawValue] + counts[Queue.video.rawValue] > 0
        else { return nil }
        guard budgetBytes <= 0 else { return now }
        return now + .microseconds(Int64((-budgetBytes * 8 / rate * 1_000_000).rounded(.up)))
    }

    /// The pacing rate, raised so that what is queued has left when the oldest packet has waited
    /// `maxQueueDelay` (libwebrtc's pacer does the same with its queue time limit).
    private func effectiveRateBps(now: ContinuousClock.Instant) -> Double? {
        guard let rate = pacingRateBps else { return nil }
        let waiting = queued[Queue.retransmission.rawValue] + queued[Queue.video.rawValue]
        guard waiting > 0 else { return rate }
        let oldest = oldestWaiting(now: now)
        let left = max((configuration.maxQueueDelay - (now - oldest)) / .seconds(1), 0.001)
        return max(rate, Double(waiting) * 8 / left)
    }

    /// When the oldest queued retransmission or video packet was queued (`now` if none is).
    private func oldestWaiting(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        var oldest = now
        if counts[Queue.retransmission.rawValue] > 0 {
            oldest = min(oldest, entries[headSlot(.retransmission)].enqueuedAt)
        }
        if counts[Queue.video.rawValue] > 0 { oldest = min(oldest, entries[headSlot(.video)].enqueuedAt) }
        return oldest
    }

    private mutating func refill(now: ContinuousClock.Instant) {
        defer { lastRefill = now }
        guard let rate = effectiveRateBps(now: now) else { return }
        let bytesPerSecond = rate / 8
        let cap = max(bytesPerSecond * (configuration.burst / .seconds(1)), Double(OutgoingDatagrams.defaultSlotSize))
        guard let last = lastRefill else {
            budgetBytes = cap  // nothing has been sent yet: a full burst may go
            return
        }
        guard now > last else { return }
        budgetBytes = min(budgetBytes + bytesPerSecond * ((now - last) / .seconds(1)), cap)
    }

    private func headSlot(_ queue: Queue) -> Int {
        Int(rings[queue.rawValue * capacity + heads[queue.rawValue]])
    }

    private mutating func pop(_ queue: Queue) {
        let q = queue.rawValue
        let slot = Int(rings[q * capacity + heads[q]])
        heads[q] = (heads[q] + 1) % capacity
        counts[q] -= 1
        queued[q] -= entries[slot].size
        free[freeCount] = Int32(slot)
        freeCount += 1
    }
}
