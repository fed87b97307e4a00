/// What one link direction did: arrivals, drops by reason, deliveries, queueing delay and the
/// capacity it offered, for the emulator's summary and the tests.
public struct LinkStatistics: Sendable, Equatable {
    public var arrivedPackets = 0
    public var arrivedBytes = 0
    public var lostPackets = 0
    public var queueDroppedPackets = 0
    public var deliveredPackets = 0
    public var deliveredBytes = 0
    /// Bytes the capacity trace offered outside outages while the link ran.
    public var capacityBytes = 0
    public var firstArrivalUs: UInt64?
    public var lastDeliveryUs: UInt64 = 0
    /// Queueing delay of every departed packet, in microseconds.
    public private(set) var queueDelaysUs: [UInt64] = []
    /// Total one-way delay (arrival to delivery) of every delivered packet, in microseconds.
    public private(set) var oneWayDelaysUs: [UInt64] = []
    /// Number of delivered packets that arrived before one sent earlier (reordering).
    public var reorderedPackets = 0
    private var highestDeliveredID: UInt64?

    public init() {}

    mutating func arrived(size: Int, atUs: UInt64) {
        arrivedPackets += 1
        arrivedBytes += size
        if firstArrivalUs == nil { firstArrivalUs = atUs }
    }

    mutating func dropped(size: Int, reason: LinkDropReason) {
        switch reason {
        case .randomLoss: lostPackets += 1
        case .queueFull: queueDroppedPackets += 1
        }
    }

    mutating func departed<P>(_ packet: LinkPacket<P>) {
        queueDelaysUs.append(packet.queueDelayUs)
    }

    mutating func delivered<P>(_ packet: LinkPacket<P>) {
        deliveredPackets += 1
        deliveredBytes += packet.size
        lastDeliveryUs = max(lastDeliveryUs, packet.deliveryUs)
        oneWayDelaysUs.append(packet.deliveryUs - packet.arrivalUs)
        if let highest = highestDeliveredID, packet.id < highest {
            reorderedPackets += 1
        } else {
            highestDeliveredID = packet.id
        }
    }

    /// Fraction of arrived packets that did not get through (random loss plus queue drops).
    public var lossFraction: Double {
        arrivedPackets == 0 ? 0 : Double(lostPackets + queueDroppedPackets) / Double(arrivedPackets)
    }

    /// Delivered bytes over the capacity offered.
    public var utilisation: Double { capacityBytes == 0 ? 0 : Double(deliveredBytes) / Double(capacityBytes) }

    /// The `p`-th percentile (0–100) of `values`, nearest rank.
    public static func percentile(_ values: [UInt64], _ p: Double) -> UInt64 {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[max(0, min(sorted.count - 1, rank))]
    }
}
