/// A caller-owned batch of datagrams for a media worker to send (with `sendmmsg` or vector writes).
///
/// Storage is allocated once: `capacity` slots of `slotSize` bytes each, so filling and draining the
/// batch on the hot path allocates nothing. MediaCore appends; the daemon sends and clears.
public struct OutgoingDatagrams: ~Copyable {
    /// Bytes per slot: a full Ethernet-sized UDP payload plus room for SRTP trailers.
    public static let defaultSlotSize = 1500

    public let capacity: Int
    public let slotSize: Int
    public private(set) var count = 0
    /// Datagrams that did not fit because the batch was full (the worker should flush more often).
    public private(set) var overflowed = 0
    private let storage: UnsafeMutableRawBufferPointer
    private let lengths: UnsafeMutableBufferPointer<Int>
    private let destinations: UnsafeMutableBufferPointer<TransportAddress>

    public init(capacity: Int = 256, slotSize: Int = OutgoingDatagrams.defaultSlotSize) {
        precondition(capacity > 0 && slotSize > 0)
        self.capacity = capacity
        self.slotSize = slotSize
        storage = .allocate(byteCount: capacity * slotSize, alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        lengths = .allocate(capacity: capacity)
        lengths.initialize(repeating: 0)
        destinations = .allocate(capacity: capacity)
        destinations.initialize(repeating: TransportAddress(ipv4: 0, port: 0))
    }

    deinit {
        storage.deallocate()
        lengths.deallocate()
        destinations.deallocate()
    }

    public var isEmpty: Bool { count == 0 }

    /// Reserves the next slot, lets `body` write up to `slotSize` bytes into it and return the length
    /// written (0 or less abandons the slot). Returns false when the batch is full.
    @discardableResult
    public mutating func append(
        to destination: TransportAddress,
        _ body: (UnsafeMutableRawBufferPointer) -> Int
    ) -> Bool {
        guard count < capacity else {
            overflowed += 1
            return false
        }
        let slot = UnsafeMutableRawBufferPointer(rebasing: storage[(count * slotSize)..<((count + 1) * slotSize)])
        let length = body(slot)
        guard length > 0 else { return true }
        precondition(length <= slotSize, "datagram longer than its slot")
        lengths[count] = length
        destinations[count] = destination
        count += 1
        return true
    }

    /// Copies a finished datagram into the batch.
    @discardableResult
    public mutating func append(_ bytes: UnsafeRawBufferPointer, to destination: TransportAddress) -> Bool {
        guard bytes.count <= slotSize else { return false }
        return append(to: destination) { slot in
            slot.copyMemory(from: bytes)
            return bytes.count
        }
    }

    /// The datagram at `index` and where it goes.
    public func datagram(at index: Int) -> (bytes: UnsafeRawBufferPointer, destination: TransportAddress) {
        precondition(index >= 0 && index < count)
        let start = index * slotSize
        return (UnsafeRawBufferPointer(rebasing: storage[start..<(start + lengths[index])]), destinations[index])
    }

    /// Empties the batch after the worker sent it.
    public mutating func removeAll() {
        count = 0
    }
}
