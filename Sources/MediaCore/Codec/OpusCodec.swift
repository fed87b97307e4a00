internal import COpus

/// An Opus encoder (RFC 6716) over libopus, for the load harness, tests and tools.
/// Never on the forwarding path: the relay forwards Opus without decoding it.
public struct OpusEncoder: ~Copyable {
    /// Largest Opus packet we ask for: RFC 6716 §3.4 bounds a frame at 1275 bytes.
    public static let maxPacketBytes = 1275

    public let sampleRate: Int
    public let channels: Int
    private let encoder: OpaquePointer

    /// Creates a VoIP-tuned encoder. `bitrateBps` is the target bitrate in bits per second.
    public init(sampleRate: Int = 48_000, channels: Int = 1, bitrateBps: Int = 32_000) throws(CodecError) {
        var status: Int32 = 0
        guard let encoder = opus_encoder_create(Int32(sampleRate), Int32(channels), copus_application_voip, &status),
            status == copus_ok
        else { throw .opus(code: status, operation: "opus_encoder_create") }
        let bitrateStatus = copus_set_bitrate(encoder, Int32(bitrateBps))
        guard bitrateStatus == copus_ok else {
            opus_encoder_destroy(encoder)
            throw .opus(code: bitrateStatus, operation: "OPUS_SET_BITRATE")
        }
        _ = copus_set_inband_fec(encoder, 1)
        self.encoder = encoder
        self.sampleRate = sampleRate
        self.channels = channels
    }

    deinit {
        opus_encoder_destroy(encoder)
    }

    /// Tells the encoder the packet loss to expect (OPUS_SET_PACKET_LOSS_PERC) and whether it may
    /// add in-band FEC (OPUS_SET_INBAND_FEC), as a WebRTC sender does from its receiver reports.
    public mutating func expectLoss(percent: Int, inbandFEC: Bool = true) {
        _ = copus_set_inband_fec(encoder, inbandFEC ? 1 : 0)
        _ = copus_set_packet_loss_perc(encoder, Int32(min(100, max(0, percent))))
    }

    /// Encodes one frame of interleaved 16-bit PCM (2.5–60 ms: 120–2880 samples per channel at 48 kHz)
    /// and returns the Opus packet.
    public mutating func encode(_ pcm: [Int16]) throws(CodecError) -> [UInt8] {
        guard !pcm.isEmpty, pcm.count % channels == 0 else {
            throw .badInput("PCM length \(pcm.count) is not a multiple of \(channels)")
        }
        let frameSize = pcm.count / channels
        var packet = [UInt8](repeating: 0, count: Self.maxPacketBytes)
        let encoder = self.encoder
        let length = packet.withUnsafeMutableBufferPointer { out in
            pcm.withUnsafeBufferPointer { input in
                opus_encode(encoder, input.baseAddress!, Int32(frameSize), out.baseAddress!, Int32(out.count))
            }
        }
        guard length > 0 else { throw .opus(code: length, operation: "opus_encode") }
        packet.removeSubrange(Int(length)...)
        return packet
    }
}

/// An Opus decoder over libopus, for end-to-end checks of what the relay forwarded.
public struct OpusDecoder: ~Copyable {
    /// 120 ms at 48 kHz: the longest an Opus packet can decode to (RFC 6716 §3.2.5).
    public static let maxFrameSamples = 5760

    public let sampleRate: Int
    public let channels: Int
    private let decoder: OpaquePointer

    public init(sampleRate: Int = 48_000, channels: Int = 1) throws(CodecError) {
        var status: Int32 = 0
        guard let decoder = opus_decoder_create(Int32(sampleRate), Int32(channels), &status), status == copus_ok else {
            throw .opus(code: status, operation: "opus_decoder_create")
        }
        self.decoder = decoder
        self.sampleRate = sampleRate
        self.channels = channels
    }

    deinit {
        opus_decoder_destroy(decoder)
    }

    /// Decodes one packet to interleaved PCM. An empty packet asks for packet-loss concealment of
    /// `lostSamples` samples per channel (a multiple of 2.5 ms; 960 is 20 ms at 48 kHz).
    public mutating func decode(_ packet: [UInt8], lostSamples: Int = 960) throws(CodecError) -> [Int16] {
        var pcm = [Int16](repeating: 0, count: Self.maxFrameSamples * channels)
        let decoder = self.decoder
        let samples = pcm.withUnsafeMutableBufferPointer { out in
            packet.withUnsafeBufferPointer { input in
                opus_decode(
                    decoder,
                    input.isEmpty ? nil : input.baseAddress,
                    Int32(input.count),
                    out.baseAddress!,
                    Int32(input.isEmpty ? min(lostSamples, Self.maxFrameSamples) : Self.maxFrameSamples),
                    0
                )
            }
        }
        guard samples >= 0 else { throw .opus(code: samples, operation: "opus_decode") }
        pcm.removeSubrange((Int(samples) * channels)...)
        return pcm
    }
}
