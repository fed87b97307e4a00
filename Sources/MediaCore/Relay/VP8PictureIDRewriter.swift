/// Keeps the VP8 picture ID and TL0PICIDX of one outgoing video stream continuous while its source
/// changes (RFC 7741 §4.2): a simulcast switch moves a receive slot to another encoding, each with
/// its own picture-ID counter, and a slot may show another participant after a leave.
///
/// A receiver's VP8 reference finder (libwebrtc's among them) orders frames by picture ID and
/// TL0PICIDX; a jump back makes it hold or drop frames until it gives up. So, as
/// `OutgoingStreamRewriter` does for sequence numbers and timestamps, each source epoch maps by a
/// fixed offset chosen so its first picture follows the last one sent. The arithmetic is modulo the
/// field's width (2^15 with the M bit, as browsers send, else 2^7).
public struct VP8PictureIDRewriter: Sendable, Equatable {
    private var sourceSSRC: UInt32?
    private var pictureOffset: UInt16 = 0
    private var tl0Offset: UInt8 = 0
    /// The newest picture ID and TL0PICIDX sent (15-bit space), nil before the first.
    private var lastPictureID: UInt16?
    private var lastTL0: UInt8?
    private var mask: UInt16 = 0x7FFF

    public init() {}

    /// The picture ID and TL0PICIDX to write for a packet of `sourceSSRC` carrying `pictureID` (15
    /// bits wide when `longPictureID`) and `tl0PicIdx` (either may be absent from the descriptor).
    public mutating func map(
        sourceSSRC: UInt32,
        pictureID: UInt16?,
        longPictureID: Bool = true,
        tl0PicIdx: UInt8?
    ) -> (pictureID: UInt16?, tl0PicIdx: UInt8?) {
        if self.sourceSSRC != sourceSSRC {
            self.sourceSSRC = sourceSSRC
            mask = longPictureID ? 0x7FFF : 0x7F
            pictureOffset = 0
            tl0Offset = 0
            if let pictureID, let last = lastPictureID { pictureOffset = (last &+ 1 &- pictureID) & mask }
            if let tl0PicIdx, let last = lastTL0 { tl0Offset = last &+ 1 &- tl0PicIdx }
        }
        let outPicture = pictureID.map { ($0 &+ pictureOffset) & mask }
        let outTL0 = tl0PicIdx.map { $0 &+ tl0Offset }
        if let outPicture, lastPictureID.map({ isNewer(outPicture, than: $0) }) ?? true { lastPictureID = outPicture }
        if let outTL0, lastTL0.map({ Int8(bitPattern: outTL0 &- $0) > 0 }) ?? true { lastTL0 = outTL0 }
        return (outPicture, outTL0)
    }

    /// Forgets the source: the next packet starts a new epoch even from the same SSRC.
    public mutating func detachSource() {
        sourceSSRC = nil
    }

    /// Half-range comparison in the picture-ID space of the current width.
    private func isNewer(_ a: UInt16, than b: UInt16) -> Bool {
        let difference = (a &- b) & mask
        return difference != 0 && difference <= mask / 2
    }
}
