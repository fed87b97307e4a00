/// Reception statistics of one inbound RTP stream for our receiver reports (RFC 3550 §6.4.1,
/// Appendix A.1 and A.8): extended highest sequence number, cumulative and fractional loss, and
/// interarrival jitter. Arrival times come in as a parameter (no clock reads).
struct ReceiveStatistics: Sendable {
    let clockRate: UInt32
    private(set) var started = false
    private var baseSequence: UInt32 = 0
    private var highestSequence: UInt16 = 0
    private var cycles: UInt32 = 0
    private(set) var received: UInt32 = 0
    private var expectedPrior: UInt32 = 0
    private var receivedPrior: UInt32 = 0
    /// Jitter in RTP timestamp units, scaled by 16 as in RFC 3550 A.8.
    private var jitterScaled: UInt32 = 0
    private var lastTransit: Int64?
    private let origin: ContinuousClock.Instant

    init(clockRate: UInt32, origin: ContinuousClock.Instant) {
        self.clockRate = clockRate
        self.origin = origin
    }

    mutating func record(sequence: UInt16, timestamp: UInt32, arrival: ContinuousClock.Instant) {
        if !started {
            started = true
            baseSequence = UInt32(sequence)
            highestSequence = sequence
        } else {
            let delta = Int16(bitPattern: sequence &- highestSequence)
            if delta > 0 {
                if sequence < highestSequence { cycles &+= 1 << 16 }
                highestSequence = sequence
            }
        }
        received &+= 1
        // Interarrival jitter (RFC 3550 §6.4.1): D(i-1,i) from transit times in timestamp units.
        let (seconds, attoseconds) = (arrival - origin).components
        let arrivalUnits = seconds * Int64(clockRate) + Int64(Double(attoseconds) / 1e18 * Double(clockRate))
        let transit = arrivalUnits - Int64(timestamp)
        if let lastTransit {
            let d = UInt32(truncatingIfNeeded: abs(transit - lastTransit))
            jitterScaled = jitterScaled &+ d &- ((jitterScaled &+ 8) >> 4)
        }
        lastTransit = transit
    }

    var extendedHighestSequence: UInt32 { cycles | UInt32(highestSequence) }
    var jitter: UInt32 { jitterScaled >> 4 }

    /// Cumulative packets lost (24-bit signed on the wire, clamped).
    var cumulativeLost: Int32 {
        let expected = Int64(extendedHighestSequence) - Int64(baseSequence) + 1
        return Int32(clamping: max(-0x80_0000, min(0x7F_FFFF, expected - Int64(received))))
    }

    /// Fraction lost since the previous report, in 1/256 (RFC 3550 A.3); advances the interval.
    mutating func takeFractionLost() -> UInt8 {
        let expected = extendedHighestSequence &- baseSequence &+ 1
        let expectedInterval = Int64(expected) - Int64(expectedPrior)
        let receivedInterval = Int64(received) - Int64(receivedPrior)
        expectedPrior = expected
        receivedPrior = received
        let lost = expectedInterval - receivedInterval
        guard expectedInterval > 0, lost > 0 else { return 0 }
        return UInt8(min(255, (lost << 8) / expectedInterval))
    }
}
