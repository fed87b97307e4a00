/// A packet the relay received, as the TWCC builder takes it from the caller's storage.
public struct RTCPTransportFeedbackArrival: Equatable, Sendable, BitwiseCopyable {
    /// Transport-wide sequence number.
    public var sequenceNumber: UInt16
    /// Arrival time in µs in the receiver's time base, 0..<`RTCPTransportFeedback.timeWrapUs`;
    /// -1 for a packet known lost. Rounded down to 250 µs on the wire.
    public var arrivalTimeUs: Int64

    /// An arrival; pass `arrivalTimeUs: nil` for a lost packet.
    public init(sequenceNumber: UInt16, arrivalTimeUs: Int64?) {
        self.sequenceNumber = sequenceNumber
        self.arrivalTimeUs = arrivalTimeUs ?? -1
    }

    /// Whether the packet was received.
    public var isReceived: Bool { arrivalTimeUs >= 0 }
}

/// Builds one TWCC feedback packet (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) from the
/// start of a span of arrivals in caller storage, sorted by sequence number with wrap (each next number
/// 1...0x7FFF after the previous; gaps are reported as not received). It takes as many arrivals as fit:
/// it stops before one whose delta cannot be represented (beyond −8192...+8191.75 ms), when the status
/// count would pass 0xFFFF, or when the packet would exceed `maxSize` bytes. `consumedCount` says where
/// the next feedback starts. The packet is padded to 32 bits with the P bit set, as libwebrtc does.
public struct RTCPTransportFeedback: ~Escapable {
    /// Default byte budget for one feedback packet.
    public static let defaultMaxSize = 1200
    /// Smallest allowed budget: fixed part, one chunk, one 2-byte delta, padding.
    public static let minimumMaxSize = 24
    /// Arrival times wrap here: 2^24 reference ticks of 64 ms.
    public static let timeWrapUs: Int64 = (1 << 24) * RTCPTransportFeedbackView.referenceUnitUs

    /// SSRC of the packet sender.
    public var senderSSRC: UInt32
    /// SSRC of the media source.
    public var mediaSSRC: UInt32
    /// Feedback packet count (mod 256).
    public var feedbackPacketCount: UInt8
    /// The arrivals this packet reports (a prefix of the span given to `init`).
    public let arrivals: Span<RTCPTransportFeedbackArrival>
    /// Number of statuses (received, lost and gaps).
    public let packetStatusCount: Int
    /// Reference time in 64 ms units.
    public let referenceTime: UInt32
    let chunkCount: Int
    let deltaBytes: Int

    /// Plans a feedback over the longest prefix of `arrivals` that fits (at least one arrival).
    @_lifetime(copy arrivals)
    public init(
        senderSSRC: UInt32,
        mediaSSRC: UInt32,
        feedbackPacketCount: UInt8,
        arrivals: Span<RTCPTransportFeedbackArrival>,
        maxSize: Int = defaultMaxSize
    ) {
        precondition(!arrivals.isEmpty, "TWCC feedback needs at least one packet")
        precondition(maxSize >= Self.minimumMaxSize, "TWCC byte budget too small")
        var encoder = RTCPTransportFeedbackChunkEncoder()
        var statuses = 0
        var deltaBytes = 0
        var referenceTicks: Int64? = nil
        var previousTicks: Int64 = 0
        var taken = 0
        for i in arrivals.indices {
            let arrival = arrivals[i]
            var gap = 0
            if i > 0 {
                let diff = Int(arrival.sequenceNumber &- arrivals[i - 1].sequenceNumber)
                precondition(diff >= 1 && diff <= 0x7FFF, "TWCC arrivals must be sorted by sequence number")
                gap = diff - 1
            }
            guard statuses + gap + 1 <= 0xFFFF else { break }
            var symbol: UInt8 = 0
            var ticks: Int64 = 0
            var newReference = referenceTicks
            if arrival.isReceived {
                precondition(arrival.arrivalTimeUs < Self.timeWrapUs, "arrival time past the 24-bit reference")
                ticks = arrival.arrivalTimeUs / RTCPTransportFeedbackView.deltaUnitUs
                if newReference == nil { newReference = ticks / 256 * 256 }
                let delta = ticks - (referenceTicks == nil ? newReference! : previousTicks)
                if delta >= 0 && delta <= 0xFF {
                    symbol = 1
                } else if delta >= Int64(Int16.min) && delta <= Int64(Int16.max) {
                    symbol = 2
                } else {
                    break
                }
            }
            var trial = encoder
            for _ in 0..<gap { trial.add(0) { _ in } }
            trial.add(symbol) { _ in }
            let unpadded =
                RTCPTransportFeedbackView.fixedSize + 2 * (trial.chunkCount + trial.pendingChunks)
                + deltaBytes + Int(symbol)
            guard taken == 0 || (unpadded + 3) & ~3 <= maxSize else { break }
            encoder = trial
            statuses += gap + 1
            deltaBytes += Int(symbol)
            referenceTicks = newReference
            if arrival.isReceived { previousTicks = ticks }
            taken += 1
        }
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.feedbackPacketCount = feedbackPacketCount
        self.arrivals = arrivals.extracting(0..<taken)
        self.packetStatusCount = statuses
        self.referenceTime = UInt32((referenceTicks ?? 0) / 256)
        self.chunkCount = encoder.chunkCount + encoder.pendingChunks
        self.deltaBytes = deltaBytes
    }

    /// Number of arrivals from the span given to `init` that this packet reports.
    public var consumedCount: Int { arrivals.count }

    var unpaddedSize: Int { RTCPTransportFeedbackView.fixedSize + 2 * chunkCount + deltaBytes }

    /// Bytes `encode(into:)` writes, padding included (a multiple of 4).
    public var encodedSize: Int { (unpaddedSize + 3) & ~3 }

    /// Writes the packet. Precondition: `out.freeCapacity >= encodedSize`.
    public func encode(into out: inout OutputRawSpan) {
        let size = encodedSize
        precondition(out.freeCapacity >= size, "RTCP output too small")
        let padding = size - unpaddedSize
        RTCPFeedbackHeader(
            format: RTCPFeedbackFormat.transportCC,
            packetType: RTCPPacketType.transportFeedback,
            senderSSRC: senderSSRC,
            mediaSSRC: mediaSSRC
        ).encode(packetSize: size, padding: padding > 0, into: &out)
        out.rtcpAppend(arrivals[0].sequenceNumber)
        out.rtcpAppend(UInt16(packetStatusCount))
        out.rtcpAppend24(referenceTime)
        out.rtcpAppend(feedbackPacketCount)
        var encoder = RTCPTransportFeedbackChunkEncoder()
        forEachStatus { symbol, _ in encoder.add(symbol) { out.rtcpAppend($0) } }
        encoder.finish { out.rtcpAppend($0) }
        forEachStatus { symbol, delta in
            if symbol == 1 {
                out.rtcpAppend(UInt8(delta))
            } else if symbol == 2 {
                out.rtcpAppend(UInt16(bitPattern: Int16(delta)))
            }
        }
        if padding > 0 {
            for _ in 1..<padding { out.rtcpAppend(UInt8(0)) }
            out.rtcpAppend(UInt8(padding))
        }
    }

    /// Calls `body(symbol, deltaTicks)` for every status in order, gaps included.
    func forEachStatus(_ body: (UInt8, Int64) -> Void) {
        var previous = Int64(referenceTime) * 256
        for i in arrivals.indices {
            if i > 0 {
                let gap = Int(arrivals[i].sequenceNumber &- arrivals[i - 1].sequenceNumber) - 1
                for _ in 0..<gap { body(0, 0) }
            }
            guard arrivals[i].isReceived else {
                body(0, 0)
                continue
            }
            let ticks = arrivals[i].arrivalTimeUs / RTCPTransportFeedbackView.deltaUnitUs
            let delta = ticks - previous
            previous = ticks
            body(delta >= 0 && delta <= 0xFF ? 1 : 2, delta)
        }
    }
}
