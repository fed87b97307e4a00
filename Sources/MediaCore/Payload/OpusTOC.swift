/// The Opus table-of-contents byte (RFC 6716 §3.1).
///
/// ```
///  0 1 2 3 4 5 6 7
/// +-+-+-+-+-+-+-+-+
/// | config  |s| c |
/// +-+-+-+-+-+-+-+-+
/// ```
public struct OpusTOC: Sendable, Equatable {
    /// Coding mode selected by `config` (RFC 6716 §3.1, Table 2).
    public enum Mode: Sendable, Equatable { case silk, hybrid, celt }
    /// Audio bandwidth (RFC 6716 §2, Table 1).
    public enum Bandwidth: Sendable, Equatable { case narrowband, mediumband, wideband, superWideband, fullband }

    /// The raw TOC byte.
    public let byte: UInt8
    /// Wraps a TOC byte; every value is valid.
    public init(_ byte: UInt8) { self.byte = byte }

    /// Configuration number 0...31.
    public var config: UInt8 { byte >> 3 }
    /// The s bit: stereo.
    public var isStereo: Bool { byte & 0x04 != 0 }
    /// Frame count code c: 0 one frame, 1 two equal, 2 two different, 3 arbitrary (count byte).
    public var frameCountCode: UInt8 { byte & 0x03 }
    /// The coding mode.
    public var mode: Mode { config < 12 ? .silk : config < 16 ? .hybrid : .celt }
    /// The audio bandwidth.
    public var bandwidth: Bandwidth {
        switch config {
        case 0...3: .narrowband
        case 4...7: .mediumband
        case 8...11: .wideband
        case 12...13: .superWideband
        case 14...15: .fullband
        case 16...19: .narrowband
        case 20...23: .wideband
        case 24...27: .superWideband
        default: .fullband
        }
    }
    /// Duration of one frame in 48 kHz samples (120 = 2.5 ms ... 2880 = 60 ms).
    public var frameSamples48k: Int {
        if config < 12 { return config & 3 == 3 ? 2880 : 480 << Int(config & 3) }
        if config < 16 { return 480 << Int(config & 1) }
        return 120 << Int(config & 3)
    }
    /// Frames in the packet whose first byte is this TOC; code 3 reads the count byte (low 6 bits)
    /// that follows. Returns nil when code 3 has no count byte or a zero count.
    public static func frameCount(packet: RawSpan) -> Int? {
        guard packet.byteCount >= 1 else { return nil }
        let toc = OpusTOC(packet.unsafeLoad(fromByteOffset: 0, as: UInt8.self))
        switch toc.frameCountCode {
        case 0: return 1
        case 1, 2: return 2
        default:
            guard packet.byteCount >= 2 else { return nil }
            let n = Int(packet.unsafeLoad(fromByteOffset: 1, as: UInt8.self) & 0x3F)
            return n == 0 ? nil : n
        }
    }
    /// Total packet duration in 48 kHz samples, or nil as for `frameCount`.
    public static func durationSamples48k(packet: RawSpan) -> Int? {
        guard let n = frameCount(packet: packet) else { return nil }
        return n * OpusTOC(packet.unsafeLoad(fromByteOffset: 0, as: UInt8.self)).frameSamples48k
    }
}
