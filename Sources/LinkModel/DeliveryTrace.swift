/// A link capacity trace in mahimahi's format: one line per 1500-byte delivery opportunity, each
/// line the opportunity's time in milliseconds since the start; the trace repeats with a period of
/// its last timestamp (mahimahi `mm-link` semantics).
public struct DeliveryTrace: Sendable, Equatable {
    /// Bytes one delivery opportunity can carry.
    public static let opportunityBytes = 1500

    /// Opportunity times in milliseconds, non-decreasing.
    public let opportunitiesMs: [UInt32]
    /// Loop period in milliseconds (the last timestamp).
    public let periodMs: UInt64

    public enum ParseError: Error, Equatable, Sendable {
        case empty
        case malformedLine(line: Int, text: String)
        case decreasing(line: Int, value: UInt32, previous: UInt32)
        case zeroPeriod
    }

    public init(opportunitiesMs: [UInt32]) throws(ParseError) {
        guard let last = opportunitiesMs.last else { throw .empty }
        guard last > 0 else { throw .zeroPeriod }
        self.opportunitiesMs = opportunitiesMs
        self.periodMs = UInt64(last)
    }

    /// Parses the text of a trace file (blank lines ignored). Errors name the 1-based line.
    public init(parsing text: String) throws(ParseError) {
        var values: [UInt32] = []
        var lineNumber = 0
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let trimmed = line.trimmingPrefix(while: { $0 == " " || $0 == "\t" })
            if trimmed.isEmpty { continue }
            guard let value = UInt32(trimmed.prefix { !$0.isWhitespace }) else {
                throw .malformedLine(line: lineNumber, text: String(trimmed.prefix(40)))
            }
            if let previous = values.last, value < previous {
                throw .decreasing(line: lineNumber, value: value, previous: previous)
            }
            values.append(value)
        }
        try self.init(opportunitiesMs: values)
    }

    /// The time in microseconds of opportunity number `index` (counting across loops).
    public func opportunityTimeUs(_ index: Int) -> UInt64 {
        let count = opportunitiesMs.count
        let loop = UInt64(index / count)
        return (loop * periodMs + UInt64(opportunitiesMs[index % count])) * 1000
    }

    /// Mean capacity over one period, in bits per second.
    public var meanBitsPerSecond: Double {
        Double(opportunitiesMs.count * Self.opportunityBytes * 8) / (Double(periodMs) / 1000)
    }
}
