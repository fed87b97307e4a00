/// A planar I420 image (ITU-R BT.601 Y'CbCr 4:2:0): the input and output of the VP8 wrappers.
public struct I420Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// Y plane, `width × height` bytes.
    public var y: [UInt8]
    /// Cb and Cr planes, `((width + 1) / 2) × ((height + 1) / 2)` bytes each.
    public var u: [UInt8]
    public var v: [UInt8]

    public init(width: Int, height: Int, y: [UInt8], u: [UInt8], v: [UInt8]) {
        precondition(y.count == width * height, "Y plane size")
        precondition(u.count == Self.chromaSize(width, height) && v.count == u.count, "chroma plane size")
        self.width = width
        self.height = height
        self.y = y
        self.u = u
        self.v = v
    }

    static func chromaSize(_ width: Int, _ height: Int) -> Int { ((width + 1) / 2) * ((height + 1) / 2) }

    /// Mean of the Y plane: a cheap check that a decoded frame carries the pattern, not grey.
    public var meanLuma: Double {
        Double(y.reduce(0) { $0 + Int($1) }) / Double(max(1, y.count))
    }
}

/// A moving test pattern: a diagonal luma gradient with a bright square that moves a few pixels per
/// frame, and slowly changing chroma, so the encoder produces real inter frames of realistic size.
public struct TestPattern: Sendable {
    public let width: Int
    public let height: Int
    private var frameIndex = 0

    public init(width: Int = 640, height: Int = 360) {
        self.width = width
        self.height = height
    }

    /// Renders frame `frameIndex` and advances.
    public mutating func nextFrame() -> I420Image {
        let t = frameIndex
        frameIndex += 1
        var y = [UInt8](repeating: 0, count: width * height)
        for row in 0..<height {
            for column in 0..<width {
                y[row * width + column] = UInt8(truncatingIfNeeded: (row + column + t) / 3 + 16)
            }
        }
        let box = max(8, min(width, height) / 6)
        let boxX = (t * 4) % max(1, width - box)
        let boxY = (t * 2) % max(1, height - box)
        for row in boxY..<(boxY + box) {
            for column in boxX..<(boxX + box) {
                y[row * width + column] = 235
            }
        }
        let chroma = I420Image.chromaSize(width, height)
        let u = [UInt8](repeating: UInt8(truncatingIfNeeded: 128 + (t % 64) - 32), count: chroma)
        let v = [UInt8](repeating: UInt8(truncatingIfNeeded: 128 - (t % 64) + 32), count: chroma)
        return I420Image(width: width, height: height, y: y, u: u, v: v)
    }
}
