/// One direction of an emulated link: capacity, queue, delay, jitter, loss and outages.
public struct LinkConfiguration: Sendable, Equatable {
    public enum Capacity: Sendable, Equatable {
        /// Delivery opportunities from a recorded trace (mahimahi format).
        case trace(DeliveryTrace)
        /// A constant rate in bits per second (opportunities of 1500 bytes evenly spaced).
        case fixed(bitsPerSecond: Double)
        /// No bottleneck: packets leave the queue as they arrive.
        case unlimited
    }

    public enum QueueLimit: Sendable, Equatable {
        case bytes(Int)
        case packets(Int)
    }

    public enum Loss: Sendable, Equatable {
        case none
        /// Each packet lost independently with probability `rate`.
        case bernoulli(rate: Double)
        /// Gilbert–Elliott two-state bursts: per-packet transition probabilities and the loss
        /// probability inside each state. Mean loss = (p·lossBad + r·lossGood) / (p + r).
        case gilbertElliott(goodToBad: Double, badToGood: Double, lossInGood: Double, lossInBad: Double)
    }

    /// A window in which the link delivers nothing (a handover or a coverage hole).
    public struct Outage: Sendable, Equatable {
        public var startUs: UInt64
        public var durationUs: UInt64
        public init(startUs: UInt64, durationUs: UInt64) {
            self.startUs = startUs
            self.durationUs = durationUs
        }
    }

    public var capacity: Capacity
    public var queueLimit: QueueLimit
    /// One-way propagation delay added to every packet, in microseconds.
    public var baseDelayUs: UInt64
    /// Standard deviation of the per-packet extra delay, in microseconds (normal, clipped at 0).
    public var jitterUs: UInt64
    /// Whether jitter may reorder packets; when false a packet never overtakes an earlier one.
    public var jitterReorders: Bool
    public var loss: Loss
    /// Scheduled outages; if `outageEveryUs` is set, the first one repeats with that period.
    public var outages: [Outage]
    public var outageEveryUs: UInt64?

    public init(
        capacity: Capacity = .unlimited,
        queueLimit: QueueLimit = .packets(1000),
        baseDelayUs: UInt64 = 0,
        jitterUs: UInt64 = 0,
        jitterReorders: Bool = false,
        loss: Loss = .none,
        outages: [Outage] = [],
        outageEveryUs: UInt64? = nil
    ) {
        self.capacity = capacity
        self.queueLimit = queueLimit
        self.baseDelayUs = baseDelayUs
        self.jitterUs = jitterUs
        self.jitterReorders = jitterReorders
        self.loss = loss
        self.outages = outages
        self.outageEveryUs = outageEveryUs
    }

    /// True if `timeUs` falls inside an outage.
    public func inOutage(_ timeUs: UInt64) -> Bool {
        for outage in outages {
            if let every = outageEveryUs, every > 0, timeUs >= outage.startUs {
                if (timeUs - outage.startUs) % every < outage.durationUs { return true }
            } else if timeUs >= outage.startUs && timeUs < outage.startUs + outage.durationUs {
                return true
            }
        }
        return false
    }
}
