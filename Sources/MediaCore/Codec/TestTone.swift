/// A generated test tone: a sine sweep between two pitches, so a decoded stream can be recognised
/// and a stuck or silent stream stands out. Deterministic: frame n is always the same samples.
public struct TestTone: Sendable {
    public let sampleRate: Int
    public let frequencyHz: Double
    public let amplitude: Double
    private var phase: Double = 0
    private var frameIndex = 0

    public init(sampleRate: Int = 48_000, frequencyHz: Double = 440, amplitude: Double = 0.3) {
        self.sampleRate = sampleRate
        self.frequencyHz = frequencyHz
        self.amplitude = amplitude
    }

    /// The next `samples` mono samples (for example 960 for 20 ms at 48 kHz).
    public mutating func nextFrame(samples: Int) -> [Int16] {
        // Alternate between the base pitch and a fifth above every second (50 frames of 20 ms).
        let pitch = (frameIndex / 50) % 2 == 0 ? frequencyHz : frequencyHz * 1.5
        frameIndex += 1
        let step = 2 * Double.pi * pitch / Double(sampleRate)
        var out = [Int16](repeating: 0, count: samples)
        for i in 0..<samples {
            out[i] = Int16(amplitude * Double(Int16.max) * Self.sine(phase))
            phase += step
            if phase > 2 * Double.pi { phase -= 2 * Double.pi }
        }
        return out
    }

    /// sin(x) for x in [0, 2π] by a Bhaskara-style approximation, to stay free of Foundation.
    static func sine(_ x: Double) -> Double {
        let pi = Double.pi
        var angle = x
        var sign = 1.0
        if angle > pi {
            angle -= pi
            sign = -1
        }
        let numerator = 16 * angle * (pi - angle)
        let denominator = 5 * pi * pi - 4 * angle * (pi - angle)
        return sign * numerator / denominator
    }
}
