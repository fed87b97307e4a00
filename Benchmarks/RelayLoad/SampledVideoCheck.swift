import Dispatch
import MediaCore
import Synchronization

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

    /// Reassembly state for one source, on the connection's event loop.
    private final class Source {
        let ssrc: UInt32
        var frame: [UInt8] = []
        var frameTimestamp: UInt32 = 0
        var frameIntact = false
        var nextSequence: UInt16?
        var awaitingKeyframe = true

        init(ssrc: UInt32) {
            self.ssrc = ssrc
            frame.reserveCapacity(256 * 1024)
        }
    }

    private var sources: [UInt32: Source] = [:]
    /// Frames skipped on the event loop (broken by a gap, or not a keyframe after one).
    private var skipped = 0
    /// Decoding runs on its own queue: a libvpx decode takes a good part of a millisecond, and on the
    /// event loop it held up every packet behind it, which the latency figures then blamed on the SFU.
    private let decoding = FrameDecoding()

    var counts: Counts {
        var counts = decoding.counts
        counts.skipped += skipped
        return counts
    }

    func reset() {
        skipped = 0
        decoding.resetCounts()
    }

    /// One received (decrypted) VP8 packet: its header fields and payload, descriptor included.
    func receive(ssrc: UInt32, sequence: UInt16, timestamp: UInt32, marker: Bool, payload: RawSpan) {
        let source = sources[ssrc] ?? Source(ssrc: ssrc)
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
            skipped += 1
            return
        }
        let keyframe = first & 0x01 == 0
        if source.awaitingKeyframe && !keyframe {
            skipped += 1
            return
        }
        source.awaitingKeyframe = false
        decoding.decode(source.frame, keyframe: keyframe, of: ssrc)
    }
}

/// The libvpx side of `SampledVideoCheck`: one decoder per source SSRC on a serial queue, and the
/// counts behind a lock for the event loop to read.
private final class FrameDecoding: @unchecked Sendable {
    /// A source's decoder; touched only on `queue`.
    private final class Decoder {
        var decoder: Vp8Decoder
        /// After an error only a keyframe is decoded again.
        var awaitingKeyframe = false

        init() throws { decoder = try Vp8Decoder() }
    }

    private let queue = DispatchQueue(label: "relay-load.sampled-video")
    private var decoders: [UInt32: Decoder] = [:]  // on `queue`
    private let results = Mutex(SampledVideoCheck.Counts())

    var counts: SampledVideoCheck.Counts { results.withLock { $0 } }

    func resetCounts() {
        results.withLock { counts in
            let size = (counts.width, counts.height)
            counts = SampledVideoCheck.Counts()
            (counts.width, counts.height) = size
        }
    }

    func decode(_ frame: [UInt8], keyframe: Bool, of ssrc: UInt32) {
        queue.async { [self] in
            guard let source = decoders[ssrc] ?? (try? Decoder()) else { return }
            decoders[ssrc] = source
            if source.awaitingKeyframe && !keyframe {
                results.withLock { $0.skipped += 1 }
                return
            }
            do {
                if let image = try source.decoder.decode(frame) {
                    source.awaitingKeyframe = false
                    results.withLock {
                        $0.decoded += 1
                        $0.width = image.width
                        $0.height = image.height
                    }
                }
            } catch {
                source.awaitingKeyframe = true
                results.withLock { $0.errors += 1 }
            }
        }
    }
}
