/// The receive side of transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-
/// extensions-01): records when each packet with a transport-wide sequence number arrived from one
/// sender and, at an interval, hands back the arrivals to report, so that the sender's own
/// estimator (Chromium's Google Congestion Control) runs on what the relay saw.
///
/// Storage is fixed at creation (a ring of `capacity` arrival times indexed by the unwrapped
/// sequence number), so recording a packet allocates nothing. Packets that arrive after their
/// number was reported are ignored, as libwebrtc's receive-side proxy does; a jump of more than the
/// ring restarts the window. The interval follows libwebrtc: feedback at about 5 % of the received
/// bitrate, between `minimumInterval` and `maximumInterval`.
public struct TransportFeedbackGenerator: Sendable {
    public struct Parameters: Sendable, Equatable {
        public var minimumInterval: Duration = .milliseconds(50)
        public var maximumInterval: Duration = .milliseconds(250)
        /// Share of the received bitrate the feedback may take.
        public var bandwidthShare: Double = 0.05
        /// Assumed size of one feedback packet with SRTCP and UDP/IP overhead, bytes.
        public var feedbackPacketBytes: Int = 68
        public init() {}
    }

    public let parameters: Parameters
    public let capacity: Int
    /// Arrival times in µs since `origin` (wrapped for the 24-bit reference), -1 for "not received".
    private var arrivals: [Int64]
    private let origin: ContinuousClock.Instant
    /// The first unreported unwrapped sequence number and one past the highest received.
    private var nextToReport: Int64?
    private var end: Int64 = 0
    private var lastUnwrapped: Int64?
    private var lastFeedback: ContinuousClock.Instant?
    public private(set) var feedbackPacketCount: UInt8 = 0
    /// Packets recorded and packets ignored as too late or out of the window.
    public private(set) var recorded = 0
    public private(set) var late = 0

    public init(origin: ContinuousClock.Instant, capacity: Int = 2048, parameters: Parameters = Parameters()) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "capacity is a power of two")
        self.origin = origin
        self.capacity = capacity
        self.parameters = parameters
        arrivals = [Int64](repeating: -1, count: capacity)
    }

    /// Records one packet's transport-wide sequence number and arrival.
    public mutating func record(sequence: UInt16, arrival: ContinuousClock.Instant) {
        let unwrapped = unwrap(sequence)
        let time = Self.microseconds(arrival - origin) % RTCPTransportFeedback.timeWrapUs
        guard let start = nextToReport else {
            nextToReport = unwrapped
            end = unwrapped + 1
            arrivals[slot(unwrapped)] = time
            recorded += 1
            return
        }
        if unwrapped < start {
            late += 1
            return
        }
        if unwrapped >= start + Int64(capacity) {
            // Too far ahead for the ring: report from here on (the sender sees the rest as lost).
            for index in start..<min(end, start + Int64(capacity)) { arrivals[slot(index)] = -1 }
            nextToReport = unwrapped
            end = unwrapped
        }
        if unwrapped >= end {
            for index in end..<unwrapped { arrivals[slot(index)] = -1 }
            end = unwrapped + 1
        }
        arrivals[slot(unwrapped)] = time
        recorded += 1
    }

    /// How long between feedback packets at `receivedBitrate` bits per second.
    public func interval(receivedBitrate: UInt64) -> Duration {
        guard receivedBitrate > 0 else { return parameters.maximumInterval }
        let seconds = Double(parameters.feedbackPacketBytes * 8) / (parameters.bandwidthShare * Double(receivedBitrate))
        let interval = Duration.microseconds(Int64(seconds * 1_000_000))
        return min(max(interval, parameters.minimumInterval), parameters.maximumInterval)
    }

    /// Whether feedback is due at `now` and there is something to report.
    public func isDue(now: ContinuousClock.Instant, receivedBitrate: UInt64) -> Bool {
        guard let start = nextToReport, start < end else { return false }
        guard let lastFeedback else { return true }
        return now - lastFeedback >= interval(receivedBitrate: receivedBitrate)
    }

    /// Moves every unreported arrival, in sequence order, into `scratch` (emptied first, capacity
    /// kept) and marks them reported. Returns the number moved.
    public mutating func takeArrivals(
        now: ContinuousClock.Instant,
        into scratch: inout [RTCPTransportFeedbackArrival]
    ) -> Int {
        scratch.removeAll(keepingCapacity: true)
        guard let start = nextToReport, start < end else { return 0 }
        lastFeedback = now
        // From the first unreported number, losses before the first arrival included (the range
        // always ends with a received packet, which sets the reference time).
        var index = start
        while index < end {
            let time = arrivals[slot(index)]
            scratch.append(
                RTCPTransportFeedbackArrival(
                    sequenceNumber: UInt16(truncatingIfNeeded: index),
                    arrivalTimeUs: time >= 0 ? time : nil
                )
            )
            arrivals[slot(index)] = -1
            index += 1
        }
        nextToReport = end
        return scratch.count
    }

    /// Counts one feedback packet sent (the 8-bit feedback packet count wraps).
    public mutating func sent() { feedbackPacketCount &+= 1 }

    private func slot(_ unwrapped: Int64) -> Int { Int(truncatingIfNeeded: unwrapped) & (capacity - 1) }

    /// Unwraps a 16-bit sequence number against the last one (RFC 3550 A.1 style).
    private mutating func unwrap(_ sequence: UInt16) -> Int64 {
        guard let last = lastUnwrapped else {
            let first = Int64(sequence) + 65_536  // room below for reordering
            lastUnwrapped = first
            return first
        }
        let delta = Int64(Int16(bitPattern: sequence &- UInt16(truncatingIfNeeded: last)))
        let unwrapped = last + delta
        if unwrapped > last { lastUnwrapped = unwrapped }
        return unwrapped
    }

    static func microseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
    }
}
