/// Why a codec call failed (libopus or libvpx status with the library's own message).
public enum CodecError: Error, Equatable, Sendable {
    case opus(code: Int32, operation: String)
    case vpx(code: Int32, operation: String, detail: String)
    /// The input does not have the shape the codec was configured for.
    case badInput(String)
}
