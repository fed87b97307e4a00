import MediaCore

/// Decodes with libvpx every VP8 frame one sampled participant receives: proof that what the relay
/// forwards is still video a decoder accepts, not only packets with the right numbers.
///
/// Frames are reassembled per source SSRC from RFC 7741 payloads (§4.2 descriptor, §4.3 frame
/// header: bit 0 of the first byte clear on a keyframe) in sequence order. A gap breaks the frame it
/// falls in and every later one until the next keyframe, as for a receiver without retransmission;
/// such frames are counted as skipped, not as errors. An error is a complete frame libvpx rejects.
final class SampledVideoCheck {
    struct Counts: Sendable {
        var decoded = 0
        var skipped = 0
        var errors = 0
        var width = 0
        var height = 0
    }

    private final class Source {
        var decoder: Vp8Decoder
        var frame: [UInt8] = []
        var frameTimestamp: UInt32 = 0
        var frameIntact = false
        var nextSequence: UInt16?
        var awaitingKeyframe = true

        init() throws {
            decoder = try Vp8Decoder()
            frame.reserveCapacity(256 * 1024)
        }
    }

    private var sources: [UInt32: Source] = [:]
    private(set) var counts = Counts()

    func reset() {
        let size = (counts.width, counts.height)
        counts = Counts()
        (counts.width, counts.height) = size
    }

    /// One received (decrypted) VP8 packet: its header fields and payload, descriptor included.
    func receive(ssrc: UInt32, sequence: UInt16, timestamp: UInt32, marker: Bool, payload: RawSpan) {
        guard let source = sources[ssrc] ?? (try? Source()) else { return }
        sources[ssrc] = source
        if let expected = source.nextSequence, sequence != expected {
            source.frameIntact = false
            source.awaitingKeyframe = true
        }
        source.nextSequence = sequence &+ 1
        guard let descriptor = try? VP8PayloadDescriptorView(validating: payload) else {
            source.frameIntact = false
            return
        }
        let bodyStart = descriptor.descriptorLength
        if descriptor.isFrameStart {
            source.frame.removeAll(keepingCapacity: true)
            source.frameTimestamp = timestamp
            source.frameIntact = true
        } else if timestamp != source.frameTimestamp {
            source.frameIntact = false
        }
        if source.frameIntact {
            payload.withUnsafeBytes { source.frame.append(contentsOf: $0[bodyStart...]) }
        }
        guard marker else { return }
        defer { source.frameIntact = false }
        guard source.frameIntact, let first = source.frame.first else {
            counts.skipped += 1
            return
        }
        let keyframe = first & 0x01 == 0
        if source.awaitingKeyframe && !keyframe {
            counts.skipped += 1
            return
        }
        do {
            if let image = try source.decoder.decode(source.frame) {
                counts.decoded += 1
                counts.width = image.width
                counts.height = image.height
                source.awaitingKeyframe = false
            }
        } catch {
            counts.errors += 1
            source.awaitingKeyframe = true
        }
    }
}
