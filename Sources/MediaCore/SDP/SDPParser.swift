/// Parser for session descriptions (RFC 8866 §5). Accepts CRLF or LF line ends, never traps,
/// keeps unknown attributes verbatim and ignores lines of unknown type (RFC 8866 §5).
public struct SDPParser: Sendable {
    /// Default maximum size of a description, in bytes.
    public static let defaultMaxBytes = 64 * 1024
    /// Default maximum number of lines.
    public static let defaultMaxLines = 2_000

    /// Maximum accepted size in bytes.
    public var maxBytes: Int
    /// Maximum accepted number of lines.
    public var maxLines: Int

    /// Creates a parser with the given limits.
    public init(maxBytes: Int = SDPParser.defaultMaxBytes, maxLines: Int = SDPParser.defaultMaxLines) {
        self.maxBytes = maxBytes
        self.maxLines = maxLines
    }

    /// Parses `text` into a `SessionDescription`.
    public func parse(_ text: String) throws(SDPParseError) -> SessionDescription {
        let size = text.utf8.count
        guard size <= maxBytes else { throw .tooLarge(size: size, limit: maxBytes) }
        // Split on bytes: Swift treats "\r\n" as one Character, so a Character split would miss CRLF.
        var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
            line -> Substring in
            Substring(line.last == UInt8(ascii: "\r") ? line.dropLast() : line)
        }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        guard lines.count <= maxLines else { throw .tooManyLines(limit: maxLines) }
        guard lines.first == "v=0" else { throw .missingVersion }

        var session = SessionDescription(origin: "")
        var current: SDPMediaSection?
        for (offset, line) in lines.enumerated().dropFirst() {
            let number = offset + 1
            let bytes = Array(line.utf8)
            guard bytes.count >= 2, bytes[1] == UInt8(ascii: "="), bytes[0] >= UInt8(ascii: "a"),
                bytes[0] <= UInt8(ascii: "z")
            else { throw .malformedLine(line: number, text: String(line)) }
            let value = String(Substring(line.utf8.dropFirst(2)))
            switch bytes[0] {
            case UInt8(ascii: "m"):
                if let section = current { session.media.append(section) }
                current = try Self.parseMediaLine(value, line: number, text: String(line))
            case UInt8(ascii: "a"):
                let attribute = Self.parseAttribute(value)
                if current != nil {
                    current!.attributes.append(attribute)
                } else {
                    session.attributes.append(attribute)
                }
            case UInt8(ascii: "c"):
                if current != nil { current!.connection = value } else { session.connection = value }
            case UInt8(ascii: "b"):
                if current != nil { current!.bandwidths.append(value) } else { session.bandwidths.append(value) }
            case UInt8(ascii: "o") where current == nil: session.origin = value
            case UInt8(ascii: "s") where current == nil: session.sessionName = value
            case UInt8(ascii: "t") where current == nil: session.timings.append(value)
            default: continue  // RFC 8866 §5: unknown or misplaced types are ignored.
            }
        }
        if let section = current { session.media.append(section) }
        return session
    }

    static func parseAttribute(_ value: String) -> SDPAttribute {
        guard let colon = value.firstIndex(of: ":") else { return SDPAttribute(name: value) }
        return SDPAttribute(name: String(value[..<colon]), value: String(value[value.index(after: colon)...]))
    }

    /// `m=<media> <port>[/<count>] <proto> <fmt> ...` (RFC 8866 §5.14).
    static func parseMediaLine(_ value: String, line: Int, text: String) throws(SDPParseError) -> SDPMediaSection {
        let fields = value.split(separator: " ")
        guard fields.count >= 3, let port = UInt16(fields[1].split(separator: "/").first ?? "") else {
            throw .malformedLine(line: line, text: text)
        }
        return SDPMediaSection(
            kind: String(fields[0]),
            port: port,
            proto: String(fields[2]),
            formats: fields.dropFirst(3).map(String.init)
        )
    }
}
