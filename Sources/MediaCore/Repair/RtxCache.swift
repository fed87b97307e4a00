/// Packets sent on one outgoing stream, kept to answer a receiver's NACK (RFC 4585 §6.2.1) with a
/// retransmission (RFC 4588 RTX where negotiated, the original SSRC otherwise), hop by hop.
///
/// A power-of-two ring of preallocated 1500-byte slots indexed by sequence number: storing and
/// looking up a packet is O(1) and allocates nothing after `init`. Packets are kept for
/// `retention` (max(3×RTT, 1 s) by default); a packet is resent at most once per RTT; requests that
/// cannot be served are counted. Video keeps 1024 packets; an audio stream (50–100 packets a
/// second) keeps `audioCapacity`, more than a second of Opus.
public final class RtxCache {
    public static let videoCapacity = 1024
    public static let audioCapacity = 128
    public static let slotSize = 1500

    /// How many packets it holds (a power of two).
    public let capacity: Int

    private let storage: UnsafeMutableRawBufferPointer
    private var lengths: [Int]
    private var sequences: [UInt16]
    private var sentAt: [ContinuousClock.Instant?]
    private var resentAt: [ContinuousClock.Instant?]
    public private(set) var served = 0
    public private(set) var unavailable = 0
    public private(set) var suppressed = 0

    public init(capacity: Int = RtxCache.videoCapacity) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "capacity \(capacity) is not a power of two")
        self.capacity = capacity
        storage = .allocate(byteCount: capacity * Self.slotSize, alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        lengths = [Int](repeating: 0, count: capacity)
        sequences = [UInt16](repeating: 0, count: capacity)
        sentAt = [ContinuousClock.Instant?](repeating: nil, count: capacity)
        resentAt = [ContinuousClock.Instant?](repeating: nil, count: capacity)
    }

    deinit { storage.deallocate() }

    /// Keeps a copy of the plaintext packet just sent with `sequence`.
    public func store(_ packet: UnsafeRawBufferPointer, sequence: UInt16, now: ContinuousClock.Instant) {
        guard packet.count <= Self.slotSize else { return }
        let index = Int(sequence) & (capacity - 1)
        let slot = UnsafeMutableRawBufferPointer(
            rebasing: storage[(index * Self.slotSize)..<((index + 1) * Self.slotSize)]
        )
        slot.copyMemory(from: packet)
        lengths[index] = packet.count
        sequences[index] = sequence
        sentAt[index] = now
        resentAt[index] = nil
    }

    /// The stored packet for `sequence`, if still held, without marking it resent (RED building
    /// reads the packets before the one it sends).
    public func stored(_ sequence: UInt16) -> UnsafeRawBufferPointer? {
        let index = Int(sequence) & (capacity - 1)
        guard sequences[index] == sequence, lengths[index] > 0 else { return nil }
        return UnsafeRawBufferPointer(
            rebasing: storage[(index * Self.slotSize)..<(index * Self.slotSize + lengths[index])]
        )
    }

    /// The stored packet for `sequence` if it may be resent now: still retained, and not resent
    /// within the last `rtt`. Marks it resent.
    public func retransmission(
        of sequence: UInt16,
        now: ContinuousClock.Instant,
        rtt: Duration,
        retention: Duration? = nil
    ) -> UnsafeRawBufferPointer? {
        let index = Int(sequence) & (capacity - 1)
        let keep = retention ?? max(rtt * 3, .seconds(1))
        guard sequences[index] == sequence, lengths[index] > 0, let sent = sentAt[index], now - sent <= keep else {
            unavailable += 1
            return nil
        }
        if let resent = resentAt[index], now - resent < rtt {
            suppressed += 1
            return nil
        }
        resentAt[index] = now
        served += 1
        return UnsafeRawBufferPointer(
            rebasing: storage[(index * Self.slotSize)..<(index * Self.slotSize + lengths[index])]
        )
    }
}
