/// Frame assembly over one inbound video stream's packets (RFC 7741 §4 for VP8; the same rules
/// serve H.264 once its start/end bits feed it): which frames are complete, which are keyframes,
/// and whether the stream is decodable from a given keyframe onwards.
///
/// A power-of-two ring indexed by the extended sequence number keeps, per packet, its timestamp and
/// whether it starts a frame, ends one (RTP marker) or starts a keyframe. It starts at 512 entries
/// and doubles up to 2048 (libwebrtc's sizes) when a frame spans more than half the ring. Inserting
/// is O(1) and allocates only when the ring grows.
public struct FrameAssembler: Sendable {
    public static let initialCapacity = 512
    public static let maxCapacity = 2048

    private struct Entry: Sendable {
        var sequence: UInt32 = .max
        var timestamp: UInt32 = 0
        var frameStart = false
        var frameEnd = false
        var keyframe = false
    }

    private var entries: [Entry]
    private var highest: UInt32?
    /// Extended sequence number of the first packet of the newest keyframe seen, if any.
    public private(set) var lastKeyframeStart: UInt32?
    /// Frames whose every packet, from start to marker, has arrived.
    public private(set) var completeFrames = 0
    public private(set) var keyframes = 0

    public init() {
        entries = [Entry](repeating: Entry(), count: Self.initialCapacity)
    }

    public var capacity: Int { entries.count }

    /// The extended sequence number of `sequence` near the newest (RFC 3550 A.1).
    public func extend(_ sequence: UInt16) -> UInt32 {
        guard let highest else { return UInt32(sequence) + (1 << 16) }  // room below the first
        let delta = Int32(Int16(bitPattern: sequence &- UInt16(truncatingIfNeeded: highest)))
        return UInt32(bitPattern: Int32(bitPattern: highest) &+ delta)
    }

    /// Records a packet. Returns true if it completed a frame.
    @discardableResult
    public mutating func insert(
        sequence: UInt16,
        timestamp: UInt32,
        frameStart: Bool,
        frameEnd: Bool,
        keyframe: Bool
    ) -> Bool {
        let extended = extend(sequence)
        if let top = highest {
            if extended > top, extended - top > UInt32(Self.maxCapacity) {
                reset()  // a jump no frame spans: the stream restarted
            } else if extended + UInt32(entries.count) <= top {
                return false  // older than the ring remembers
            }
        }
        highest = max(highest ?? extended, extended)
        let index = Int(extended) & (entries.count - 1)
        if entries[index].sequence == extended { return false }  // duplicate
        entries[index] = Entry(
            sequence: extended,
            timestamp: timestamp,
            frameStart: frameStart,
            frameEnd: frameEnd,
            keyframe: keyframe
        )
        if keyframe && frameStart {
            keyframes += 1
            if lastKeyframeStart.map({ extended > $0 }) ?? true { lastKeyframeStart = extended }
        }
        guard let (start, end) = frameBounds(around: extended) else { return false }
        completeFrames += 1
        if end - start + 1 > UInt32(entries.count / 2) { grow() }
        return true
    }

    /// True when the frame starting at `start` is a keyframe and every packet from it to the end of
    /// the newest complete frame after it has arrived: a receiver switched to this stream at `start`
    /// decodes without waiting ("decodable from here").
    public func isDecodable(from start: UInt32) -> Bool {
        guard let top = highest, start <= top, top - start < UInt32(entries.count) else { return false }
        guard let first = entry(start), first.frameStart, first.keyframe else { return false }
        var s = start
        var lastEnd: UInt32?
        while s <= top {
            guard let e = entry(s) else { break }
            if e.frameEnd { lastEnd = s }
            s += 1
        }
        return lastEnd != nil
    }

    /// Whether the stream is decodable from its newest keyframe.
    public var decodableFromLastKeyframe: Bool {
        lastKeyframeStart.map(isDecodable(from:)) ?? false
    }

    // MARK: - Ring

    private func entry(_ s: UInt32) -> Entry? {
        let e = entries[Int(s) & (entries.count - 1)]
        return e.sequence == s ? e : nil
    }

    /// The frame (same timestamp, start bit to marker) containing `s`, if all its packets are here.
    private func frameBounds(around s: UInt32) -> (UInt32, UInt32)? {
        guard let packet = entry(s) else { return nil }
        var start = s
        while true {
            guard let e = entry(start), e.timestamp == packet.timestamp else { return nil }
            if e.frameStart { break }
            guard start > 0, s - start < UInt32(entries.count) else { return nil }
            start -= 1
        }
        var end = s
        while true {
            guard let e = entry(end), e.timestamp == packet.timestamp else { return nil }
            if e.frameEnd { break }
            guard end - s < UInt32(entries.count) else { return nil }
            end += 1
        }
        return (start, end)
    }

    private mutating func grow() {
        guard entries.count < Self.maxCapacity else { return }
        var larger = [Entry](repeating: Entry(), count: entries.count * 2)
        for e in entries where e.sequence != .max {
            larger[Int(e.sequence) & (larger.count - 1)] = e
        }
        entries = larger
    }

    private mutating func reset() {
        for i in entries.indices { entries[i] = Entry() }
        highest = nil
        lastKeyframeStart = nil
    }
}
