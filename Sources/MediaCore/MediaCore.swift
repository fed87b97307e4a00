/// MediaCore: the relay's brain, sans-I/O. See `DESIGN.md`.
public enum MediaCore {
    /// The version reported by the daemon and the tools.
    public static let version = "0.1.0"
}
