/// The 48-bit packet index of one SRTP stream (RFC 3711 §3.3.1): the rollover counter kept beside
/// the highest sequence number seen, and, for a receiver, the replay window behind it (§3.3.2).
///
/// The guess follows libsrtp (which Chromium and Firefox use) exactly, so both sides always agree on
/// the ROC: while the highest index is at most 2^15 the ROC is taken as 0, never as one before it.
struct SrtpPacketIndex: Sendable {
    static let windowWords = 16
    /// Packets the replay window covers behind the highest index (libsrtp's default is 128; a
    /// bursty 4G uplink reorders further).
    static let windowSize = Int64(windowWords * 64)

    // Declared in this order so the fields every packet reads share the first cache line.
    let ssrc: UInt32
    /// The highest index accepted (ROC << 16 | SEQ).
    private(set) var highest: Int64
    /// When this entry was last used, for eviction when the table is full.
    var lastUse: UInt64
    /// Bit `n` of the window is set when index `highest - n` was accepted.
    private var window: InlineArray<16, UInt64>

    init(ssrc: UInt32, first index: Int64, use: UInt64) {
        self.ssrc = ssrc
        highest = index
        window = InlineArray(repeating: 0)
        window[0] = 1
        lastUse = use
    }

    /// The first packet of a stream: ROC 0 and its own sequence number (§3.3.1).
    static func firstIndex(sequence: UInt16) -> Int64 { Int64(sequence) }

    /// The index of a packet carrying `sequence`, guessed from the highest so far (§3.3.1, Appendix A):
    /// the ROC stays, or moves by one when the sequence number is more than half the space away.
    func estimate(sequence: UInt16) -> Int64 {
        guard highest > 0x8000 else { return Int64(sequence) }  // libsrtp's rdbx: ROC 0 until then
        let roc = highest >> 16
        let last = UInt16(truncatingIfNeeded: highest)
        var guess = roc
        if last < 0x8000 {
            if Int(sequence) - Int(last) > 0x8000 { guess = roc - 1 }
        } else if Int(last) - 0x8000 > Int(sequence) {
            guess = roc + 1
        }
        return guess << 16 | Int64(sequence)
    }

    /// Whether `index` was accepted before or is too old for the window (checked before decrypting).
    func isReplay(_ index: Int64) -> Bool {
        guard index <= highest else { return false }
        let age = highest - index
        guard age < Self.windowSize else { return true }
        return window[Int(age / 64)] & (1 << (age % 64)) != 0
    }

    /// Records an authenticated packet's index: the window slides when it is the newest.
    mutating func accept(_ index: Int64) {
        if index > highest {
            shift(by: index - highest)
            highest = index
            window[0] |= 1
        } else {
            let age = highest - index
            if age < Self.windowSize { window[Int(age / 64)] |= 1 << (age % 64) }
        }
    }

    /// For a sender: the index becomes the highest when it is newer (a retransmission is not).
    mutating func advance(to index: Int64) {
        if index > highest { highest = index }
    }

    private mutating func shift(by distance: Int64) {
        guard distance < Self.windowSize else {
            for word in 0..<Self.windowWords { window[word] = 0 }
            return
        }
        let words = Int(distance / 64)
        let bits = distance % 64
        for word in stride(from: Self.windowWords - 1, through: 0, by: -1) {
            let from = word - words
            var value: UInt64 = from >= 0 ? window[from] << bits : 0
            if bits > 0, from - 1 >= 0 { value |= window[from - 1] >> (64 - bits) }
            window[word] = value
        }
    }
}
