/// Packs TWCC status symbols into packet chunks (draft-holmer §3.1.3–3.1.4) the way libwebrtc does:
/// runs of one symbol become run-length chunks, mixed symbols become 1-bit vectors (14 per chunk)
/// unless a large delta (symbol 2) is among them, then 2-bit vectors (7 per chunk). Holds at most 14
/// pending symbols inline; a value type, so a planner can try symbols on a copy.
struct RTCPTransportFeedbackChunkEncoder {
    /// Pending symbols, two bits each, first in the low bits.
    var pending: UInt32 = 0
    /// Number of pending symbols (a run may exceed 14; then all equal `first`).
    var size = 0
    var allSame = true
    var hasLarge = false
    /// Chunks emitted so far.
    var chunkCount = 0

    func symbol(_ i: Int) -> UInt8 { UInt8(pending >> (2 * UInt32(i)) & 3) }

    func canAdd(_ symbol: UInt8) -> Bool {
        if size < RTCPTransportFeedbackChunk.twoBitCapacity { return true }
        if size < RTCPTransportFeedbackChunk.oneBitCapacity && !hasLarge && symbol != 2 { return true }
        return allSame && self.symbol(0) == symbol && size < RTCPTransportFeedbackChunk.maxRunLength
    }

    /// Chunks still to be written by `finish`.
    var pendingChunks: Int { size == 0 ? 0 : 1 }

    mutating func add(_ symbol: UInt8, emit: (UInt16) -> Void) {
        if !canAdd(symbol) { emitOne(emit) }
        if size < RTCPTransportFeedbackChunk.oneBitCapacity { pending |= UInt32(symbol) << (2 * UInt32(size)) }
        allSame = allSame && (size == 0 || self.symbol(0) == symbol)
        hasLarge = hasLarge || symbol == 2
        size += 1
    }

    /// Emits one chunk when the pending symbols cannot take the next one.
    mutating func emitOne(_ emit: (UInt16) -> Void) {
        chunkCount += 1
        if allSame {
            emit(UInt16(symbol(0)) << 13 | UInt16(size))
            clear()
        } else if size == RTCPTransportFeedbackChunk.oneBitCapacity {
            emit(oneBitVector())
            clear()
        } else {
            emit(twoBitVector(count: RTCPTransportFeedbackChunk.twoBitCapacity))
            let rest = size - RTCPTransportFeedbackChunk.twoBitCapacity
            let bits = pending >> 14
            clear()
            for i in 0..<rest {
                let s = UInt8(bits >> (2 * UInt32(i)) & 3)
                pending |= UInt32(s) << (2 * UInt32(i))
                allSame = allSame && (i == 0 || symbol(0) == s)
                hasLarge = hasLarge || s == 2
                size += 1
            }
        }
    }

    /// Emits what is pending as the last chunk.
    mutating func finish(_ emit: (UInt16) -> Void) {
        guard size > 0 else { return }
        chunkCount += 1
        if allSame {
            emit(UInt16(symbol(0)) << 13 | UInt16(size))
        } else if size <= RTCPTransportFeedbackChunk.twoBitCapacity {
            emit(twoBitVector(count: size))
        } else {
            emit(oneBitVector())
        }
        clear()
    }

    private mutating func clear() {
        pending = 0
        size = 0
        allSame = true
        hasLarge = false
    }

    private func oneBitVector() -> UInt16 {
        var chunk: UInt16 = 0x8000
        for i in 0..<min(size, RTCPTransportFeedbackChunk.oneBitCapacity) { chunk |= UInt16(symbol(i)) << (13 - i) }
        return chunk
    }

    private func twoBitVector(count: Int) -> UInt16 {
        var chunk: UInt16 = 0xC000
        for i in 0..<count { chunk |= UInt16(symbol(i)) << (12 - 2 * i) }
        return chunk
    }
}
