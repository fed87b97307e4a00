/// What the forwarder needs of a VP8 payload descriptor (RFC 7741 §4.2), read once per packet and
/// used for every receiver: where a frame and a keyframe start, and where the picture ID and
/// TL0PICIDX sit so each receiver's copy can be rewritten in place. Offsets count from the start of
/// the RTP payload.
struct VP8DescriptorSummary {
    /// False when the packet is not VP8 or its descriptor does not parse.
    private(set) var isValid = false
    private(set) var isFrameStart = false
    private(set) var isKeyframeStart = false
    private(set) var pictureIDOffset: Int?
    private(set) var longPictureID = false
    private(set) var pictureID: UInt16?
    private(set) var tl0PicIdxOffset: Int?
    private(set) var tl0PicIdx: UInt8?

    init() {}

    /// Reads the descriptor of the payload from `payloadStart` to the padding.
    init(_ packet: UnsafeRawBufferPointer, payloadStart: Int, paddingLength: Int) {
        let payloadEnd = packet.count - paddingLength
        guard payloadEnd > payloadStart else { return }
        let payload = UnsafeRawBufferPointer(rebasing: packet[payloadStart..<payloadEnd])
        guard let descriptor = try? VP8PayloadDescriptorView(validating: payload.bytes) else { return }
        isValid = true
        isFrameStart = descriptor.isFrameStart
        isKeyframeStart = descriptor.isKeyframe
        pictureIDOffset = descriptor.pictureIDOffset
        longPictureID = descriptor.hasLongPictureID
        pictureID = descriptor.pictureID
        tl0PicIdxOffset = descriptor.tl0PicIdxOffset
        tl0PicIdx = descriptor.tl0PicIdx
    }

    /// Writes a rewritten picture ID (keeping the field's width) and TL0PICIDX into a copy of the
    /// packet whose payload starts at `payloadStart`.
    func write(
        _ picture: (pictureID: UInt16?, tl0PicIdx: UInt8?),
        payloadStart: Int,
        into packet: UnsafeMutableRawBufferPointer
    ) {
        if let offset = pictureIDOffset, let id = picture.pictureID {
            let at = payloadStart + offset
            if longPictureID {
                packet[at] = 0x80 | UInt8(truncatingIfNeeded: id >> 8) & 0x7F
                packet[at + 1] = UInt8(truncatingIfNeeded: id)
            } else {
                packet[at] = UInt8(truncatingIfNeeded: id) & 0x7F
            }
        }
        if let offset = tl0PicIdxOffset, let value = picture.tl0PicIdx { packet[payloadStart + offset] = value }
    }
}
