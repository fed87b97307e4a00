import MediaCore
import NIOCore

/// Real media for the load harness, encoded once and looped: a moving test pattern in VP8 (libvpx,
/// WebRTC's real-time settings) cut into RTP payloads with the RFC 7741 payload descriptor, and a
/// tone in Opus. Sending then costs no encoding, so the harness measures the relay, not libvpx.
struct LoopedMedia: Sendable {
    /// One video frame as RTP payloads (descriptor included); the last carries the marker.
    struct Frame: Sendable {
        var payloads: [[UInt8]]
        /// `LoopedMedia.checksum` of each payload, computed once so sending costs none.
        var checksums: [UInt32]
        var isKeyframe: Bool
    }

    let frames: [Frame]
    let audio: [[UInt8]]
    let audioChecksums: [UInt32]
    static let maxPayload = 1100

    /// One turn of the video loop at its frame rate (3 s for 90 frames).
    var loopDuration: TimeAmount { .nanoseconds(MediaSendLoop.videoInterval.nanoseconds * Int64(frames.count)) }

    init(videoKbps: Int, frameCount: Int = 90, width: Int = 640, height: Int = 360) throws {
        var encoder = try Vp8Encoder(
            width: width,
            height: height,
            bitrateBps: videoKbps * 1000,
            keyframeInterval: frameCount
        )
        var pattern = TestPattern(width: width, height: height)
        var frames: [Frame] = []
        while frames.count < frameCount {
            for encoded in try encoder.encode(pattern.nextFrame(), forceKeyframe: frames.isEmpty) {
                let payloads = Self.packetize(encoded.data)
                frames.append(
                    Frame(payloads: payloads, checksums: payloads.map(Self.checksum), isKeyframe: encoded.isKeyframe)
                )
            }
        }
        self.frames = frames
        var opus = try OpusEncoder(bitrateBps: 32_000)
        var tone = TestTone()
        audio = try (0..<50).map { _ in try opus.encode(tone.nextFrame(samples: 960)) }
        audioChecksums = audio.map(Self.checksum)
    }

    /// A 24-bit FNV-1a-style hash over 8-byte words: what the sender writes into each packet's trailer
    /// and the receiver recomputes over the payload it got, so a relay that altered a payload is caught.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        var offset = 0
        while offset + 8 <= bytes.count {
            hash = (hash ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0x100_0000_01B3
            offset += 8
        }
        while offset < bytes.count {
            hash = (hash ^ UInt64(bytes[offset])) &* 0x100_0000_01B3
            offset += 1
        }
        return UInt32(truncatingIfNeeded: hash ^ (hash >> 32)) & 0xFF_FFFF
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// RFC 7741 §4.2: a one-byte descriptor per packet, S set on the first (partition 0 starts).
    static func packetize(_ frame: [UInt8]) -> [[UInt8]] {
        var payloads: [[UInt8]] = []
        var offset = 0
        while offset < frame.count {
            let end = min(frame.count, offset + maxPayload)
            payloads.append([offset == 0 ? 0x10 : 0x00] + frame[offset..<end])
            offset = end
        }
        return payloads
    }

    /// Mean video bitrate of the loop at 30 frames per second, bits per second.
    var videoBitrate: Int { frames.reduce(0) { $0 + $1.payloads.reduce(0) { $0 + $1.count } } * 8 * 30 / frames.count }
}
