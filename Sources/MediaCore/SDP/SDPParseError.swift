/// Errors from parsing a session description (RFC 8866 §5). Line numbers are 1-based.
public enum SDPParseError: Error, Equatable, Sendable {
    /// The text is larger than the configured limit (bytes).
    case tooLarge(size: Int, limit: Int)
    /// The text has more lines than the configured limit.
    case tooManyLines(limit: Int)
    /// A line is not `<type>=<value>` or a known line's value does not parse.
    case malformedLine(line: Int, text: String)
    /// The description does not start with `v=0` (RFC 8866 §5.1).
    case missingVersion
}
