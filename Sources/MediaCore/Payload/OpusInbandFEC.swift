/// Whether an Opus packet carries in-band FEC: SILK's low-bit-rate redundancy (LBRR) of the frame
/// before it (RFC 6716 §4.2.3, §4.2.4).
///
/// An encoder that is told of loss (the fraction lost in RTCP receiver reports, RFC 3550 §6.4.1)
/// and allowed FEC (`useinbandfec=1`, RFC 7587 §6.1) adds LBRR to its SILK and hybrid frames. The
/// relay counts packets that carry it, so an operator can see whether a citizen's encoder is
/// protecting its own audio.
///
/// The header bits of a SILK layer are one VAD flag per SILK frame and then the LBRR flag, each
/// coded by the range coder with probability 1/2 (RFC 6716 §4.2.3). At the start of a frame the
/// range decoder's range is a power of two (§4.1.1), so each such bit is exactly one bit of the
/// frame's first byte, most significant first: for one 20 ms SILK frame, bit 7 is VAD and bit 6
/// is LBRR. CELT-only frames (configs 16–31) never carry it.
public enum OpusInbandFEC {
    /// True when the first frame's mid channel signals LBRR, false when it does not; nil when the
    /// packet is CELT-only, too short, or frames are framed with lengths (codes 2 and 3, whose
    /// first frame does not start at byte 1).
    public static func present(packet: RawSpan) -> Bool? {
        guard packet.byteCount >= 2 else { return nil }
        let toc = OpusTOC(packet.unsafeLoad(fromByteOffset: 0, as: UInt8.self))
        guard toc.mode != .celt, toc.frameCountCode <= 1 else { return nil }
        let first = packet.unsafeLoad(fromByteOffset: 1, as: UInt8.self)
        // SILK frames of 20 ms per Opus frame: 10 and 20 ms one, 40 ms two, 60 ms three (§4.2.2).
        let silkFrames = toc.mode == .hybrid ? 1 : max(1, toc.frameSamples48k / 960)
        return first & (0x80 >> UInt8(silkFrames)) != 0
    }
}
