/// A packet on its way through one link direction.
public struct LinkPacket<Payload: Sendable>: Sendable {
    public let id: UInt64
    public let size: Int
    public let payload: Payload
    /// When it reached the link, left the bottleneck queue, and reaches the far end (µs).
    public let arrivalUs: UInt64
    public internal(set) var departureUs: UInt64 = 0
    public internal(set) var deliveryUs: UInt64 = 0

    /// Time spent waiting in the bottleneck queue, in microseconds.
    public var queueDelayUs: UInt64 { departureUs - arrivalUs }
}

/// Why a packet never arrived.
public enum LinkDropReason: String, Sendable, Equatable {
    case randomLoss = "loss"
    case queueFull = "queue"
}

/// One direction of an emulated link, sans-I/O and clock-driven (time is a parameter in
/// microseconds), so the same model runs under the real-time UDP proxy and in virtual-time
/// simulations.
///
/// Model (after mahimahi's `mm-link`): packets that survive random loss join a drop-tail queue; at
/// each delivery opportunity of the capacity trace up to 1500 bytes leave the queue (a packet larger
/// than what is left continues at the next opportunity); an opportunity finding the queue empty is
/// wasted, and so is any opportunity inside an outage. A departed packet then takes the base delay
/// plus jitter to arrive.
public struct LinkDirection<Payload: Sendable>: Sendable {
    public let configuration: LinkConfiguration
    public private(set) var statistics = LinkStatistics()
    private var random: LinkRandom
    private var queue: [LinkPacket<Payload>] = []
    private var queueHead = 0
    private var queuedBytes = 0
    private var headProgress = 0
    private var nextOpportunity = 0
    private var inFlight: [LinkPacket<Payload>] = []
    private var lastScheduledDeliveryUs: UInt64 = 0
    private var lossBurst = false
    private var nextID: UInt64 = 0

    public init(configuration: LinkConfiguration, seed: UInt64) {
        self.configuration = configuration
        self.random = LinkRandom(seed: seed)
    }

    /// Packets waiting in the bottleneck queue.
    public var queueLength: Int { queue.count - queueHead }
    public var queueBytes: Int { queuedBytes }

    /// Offers a packet to the link at `nowUs`. Returns its id, or the reason it was dropped.
    @discardableResult
    public mutating func enqueue(size: Int, payload: Payload, nowUs: UInt64) -> Result<UInt64, LinkDropReasonError> {
        processOpportunities(upToUs: nowUs)
        statistics.arrived(size: size, atUs: nowUs)
        let id = nextID
        nextID += 1
        if isLost() {
            statistics.dropped(size: size, reason: .randomLoss)
            return .failure(LinkDropReasonError(reason: .randomLoss, id: id))
        }
        let full: Bool
        switch configuration.queueLimit {
        case .bytes(let limit): full = queuedBytes + size > limit
        case .packets(let limit): full = queueLength + 1 > limit
        }
        if full {
            statistics.dropped(size: size, reason: .queueFull)
            return .failure(LinkDropReasonError(reason: .queueFull, id: id))
        }
        queue.append(LinkPacket(id: id, size: size, payload: payload, arrivalUs: nowUs))
        queuedBytes += size
        if case .unlimited = configuration.capacity { processOpportunities(upToUs: nowUs) }
        return .success(id)
    }

    /// Moves the link to `nowUs` and hands every packet that has reached the far end to `deliver`,
    /// in delivery order.
    public mutating func advance(toUs nowUs: UInt64, _ deliver: (LinkPacket<Payload>) -> Void) {
        processOpportunities(upToUs: nowUs)
        var released = 0
        while released < inFlight.count, inFlight[released].deliveryUs <= nowUs {
            let packet = inFlight[released]
            statistics.delivered(packet)
            deliver(packet)
            released += 1
        }
        if released > 0 { inFlight.removeFirst(released) }
    }

    /// When something next happens (a queued packet may leave, or one arrives at the far end).
    public func nextEventUs() -> UInt64? {
        var next = inFlight.first?.deliveryUs
        if queueLength > 0, let opportunity = opportunityTimeUs(nextOpportunity) {
            next = min(next ?? .max, opportunity)
        }
        return next
    }

    // MARK: - Model

    private mutating func isLost() -> Bool {
        switch configuration.loss {
        case .none:
            return false
        case .bernoulli(let rate):
            return random.unit() < rate
        case .gilbertElliott(let goodToBad, let badToGood, let lossInGood, let lossInBad):
            if lossBurst {
                if random.unit() < badToGood { lossBurst = false }
            } else if random.unit() < goodToBad {
                lossBurst = true
            }
            return random.unit() < (lossBurst ? lossInBad : lossInGood)
        }
    }

    /// Time of opportunity `index` in µs, or nil for an unlimited link.
    private func opportunityTimeUs(_ index: Int) -> UInt64? {
        switch configuration.capacity {
        case .trace(let trace): return trace.opportunityTimeUs(index)
        case .fixed(let bitsPerSecond):
            let intervalUs = Double(DeliveryTrace.opportunityBytes * 8) / bitsPerSecond * 1_000_000
            return UInt64(Double(index + 1) * intervalUs)
        case .unlimited: return nil
        }
    }

    private mutating func processOpportunities(upToUs nowUs: UInt64) {
        guard case .unlimited = configuration.capacity else {
            while let time = opportunityTimeUs(nextOpportunity), time <= nowUs {
                nextOpportunity += 1
                if configuration.inOutage(time) { continue }
                statistics.capacityBytes += DeliveryTrace.opportunityBytes
                use(credit: DeliveryTrace.opportunityBytes, atUs: time)
            }
            return
        }
        while queueLength > 0 { depart(atUs: max(queue[queueHead].arrivalUs, 0)) }
    }

    private mutating func use(credit: Int, atUs time: UInt64) {
        var credit = credit
        while credit > 0, queueLength > 0 {
            let remaining = queue[queueHead].size - headProgress
            if remaining <= credit {
                credit -= remaining
                depart(atUs: time)
            } else {
                headProgress += credit
                credit = 0
            }
        }
    }

    private mutating func depart(atUs time: UInt64) {
        var packet = queue[queueHead]
        queueHead += 1
        queuedBytes -= packet.size
        headProgress = 0
        if queueHead > 1024 && queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        packet.departureUs = time
        var extra: UInt64 = 0
        if configuration.jitterUs > 0 {
            let sample = random.normal() * Double(configuration.jitterUs)
            extra = sample > 0 ? UInt64(sample) : 0
        }
        var delivery = time + configuration.baseDelayUs + extra
        if !configuration.jitterReorders { delivery = max(delivery, lastScheduledDeliveryUs) }
        lastScheduledDeliveryUs = max(lastScheduledDeliveryUs, delivery)
        packet.deliveryUs = delivery
        statistics.departed(packet)
        // Keep in-flight packets sorted by delivery time (stable for equal times).
        var index = inFlight.count
        while index > 0 && inFlight[index - 1].deliveryUs > delivery { index -= 1 }
        inFlight.insert(packet, at: index)
    }
}

/// A dropped packet's id and why.
public struct LinkDropReasonError: Error, Equatable, Sendable {
    public let reason: LinkDropReason
    public let id: UInt64
}
