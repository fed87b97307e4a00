import MediaCore

/// Frame sizes for the simulated video source, taken from real VP8 encodes: libvpx (as WebRTC
/// configures it: one-pass CBR, no lag, error resilient) encodes the moving test pattern at several
/// rates, and each encode's frame sizes, divided by that rate's mean frame size, become a table.
/// At a target rate the model walks the table of the nearest encoded rate, scaled to the target, so
/// the simulated source has VP8's real frame-to-frame variation and keyframe spikes.
public struct VideoFrameSizeModel: Sendable {
    public struct Table: Sendable {
        public let bitrate: Double
        /// Frame size / mean frame size at `bitrate`, in encode order (the first is a keyframe).
        public let ratios: [Double]
        public let keyframeRatio: Double
    }

    public let framesPerSecond: Int
    public let tables: [Table]
    private var position = 0

    public init(framesPerSecond: Int, tables: [Table]) {
        precondition(!tables.isEmpty, "a frame size model needs at least one table")
        self.framesPerSecond = framesPerSecond
        self.tables = tables.sorted { $0.bitrate < $1.bitrate }
    }

    /// Encodes `seconds` of the test pattern at each rate with libvpx (a few seconds of CPU in all).
    public static func vp8(
        ratesKbps: [Int] = [100, 250, 500, 1000, 2000],
        seconds: Int = 4,
        width: Int = 640,
        height: Int = 360
    ) throws
        -> VideoFrameSizeModel
    {
        let fps = 30
        var tables: [Table] = []
        for kbps in ratesKbps {
            var encoder = try Vp8Encoder(
                width: width,
                height: height,
                bitrateBps: kbps * 1000,
                framesPerSecond: fps,
                keyframeInterval: 100_000
            )
            var pattern = TestPattern(width: width, height: height)
            var sizes: [Double] = []
            for index in 0..<(seconds * fps) {
                let frames = try encoder.encode(pattern.nextFrame(), forceKeyframe: index == 0)
                sizes.append(Double(frames.reduce(0) { $0 + $1.data.count }))
            }
            // The first second settles the rate control: the table is the rest, plus the keyframe.
            let settled = Array(sizes.dropFirst(fps))
            let mean = settled.reduce(0, +) / Double(max(settled.count, 1))
            tables.append(
                Table(bitrate: Double(kbps * 1000), ratios: settled.map { $0 / mean }, keyframeRatio: sizes[0] / mean)
            )
        }
        return VideoFrameSizeModel(framesPerSecond: fps, tables: tables)
    }

    /// A model with every frame the same size and keyframes `keyframeRatio` times bigger (tests).
    public static func uniform(framesPerSecond: Int = 30, keyframeRatio: Double = 5) -> VideoFrameSizeModel {
        VideoFrameSizeModel(
            framesPerSecond: framesPerSecond,
            tables: [Table(bitrate: 1, ratios: [1], keyframeRatio: keyframeRatio)]
        )
    }

    /// The next frame's size in bytes at `bitrate` bits per second.
    public mutating func nextFrameBytes(bitrate: Double, keyframe: Bool) -> Int {
        let table = tables.min { abs(log2($0.bitrate / bitrate)) < abs(log2($1.bitrate / bitrate)) }!
        let mean = bitrate / 8 / Double(framesPerSecond)
        position += 1
        let ratio = keyframe ? table.keyframeRatio : table.ratios[position % table.ratios.count]
        return max(1, Int(mean * ratio))
    }
}

#if canImport(Glibc)
import Glibc
#endif
