/// A per-source rate limit over a fixed table: what stops one address (or one port of a flood) from
/// spending a worker's CPU on STUN integrity checks, DTLS and SRTP latching attempts.
///
/// Each slot runs the generic cell rate algorithm (GCRA, ITU-T I.371 "virtual scheduling"): it keeps
/// one instant, the theoretical arrival time of the next packet, which is a token bucket of rate
/// `rate` and depth `burst` written without tokens. Sources hash into a fixed number of slots, so the
/// memory is bounded whatever the number of sources: a source whose slot is held by a still-active
/// other source shares that source's budget rather than evicting it, which means a flood from many
/// ports can never buy itself fresh buckets. A slot whose budget has refilled is taken over.
///
/// The hash is keyed by a per-core seed so an attacker cannot aim many ports at one legitimate
/// client's slot. Allocation-free after `init`, no clock of its own (sans-I/O).
public struct SourceRateLimiter: Sendable {
    /// Packets each source may send per `period`.
    public let rate: Int
    public let period: Duration
    /// Packets a source may send at once after being quiet.
    public let burst: Int

    private struct Slot: Sendable {
        var source: TransportAddress?
        /// Nil: never used.
        var theoreticalArrival: ContinuousClock.Instant?
    }

    private var slots: [Slot]
    private let mask: Int
    private let seed: UInt64
    /// Time one packet uses up; and how far ahead of `now` the schedule may run (the burst).
    private let emissionInterval: Duration
    private let tolerance: Duration

    /// `rate` packets per `period`; `rate` 0 disables the limit. `slotCount` is rounded up to a power of two.
    public init(rate: Int, per period: Duration = .seconds(1), burst: Int, slotCount: Int = 1024, seed: UInt64) {
        precondition(rate >= 0 && burst >= 1 && slotCount >= 1, "a rate limit needs rate >= 0, burst >= 1, slots >= 1")
        self.rate = rate
        self.period = period
        self.burst = burst
        var count = 1
        while count < slotCount { count <<= 1 }
        mask = count - 1
        self.seed = seed
        slots = Array(repeating: Slot(source: nil, theoreticalArrival: nil), count: count)
        emissionInterval = rate > 0 ? period / rate : .zero
        tolerance = emissionInterval * (burst - 1)
    }

    /// Whether a packet from `source` at `now` is within its budget; if so it is charged.
    public mutating func admit(_ source: TransportAddress, now: ContinuousClock.Instant) -> Bool {
        guard rate > 0 else { return true }
        let index = slotIndex(source)
        var slot = slots[index]
        let scheduled = slot.theoreticalArrival ?? now
        if slot.source != source, scheduled <= now {
            slot.source = source  // the holder's budget is full again: it has been quiet long enough
        }
        let start = max(scheduled, now)
        guard start - now <= tolerance else { return false }
        slot.theoreticalArrival = start + emissionInterval
        slots[index] = slot
        return true
    }

    private func slotIndex(_ source: TransportAddress) -> Int {
        var z = seed ^ source.high &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ source.low ^ (z >> 29)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ UInt64(source.port) << 8 ^ UInt64(source.transport.rawValue) ^ (z >> 32)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: z ^ (z >> 31)) & mask
    }
}
