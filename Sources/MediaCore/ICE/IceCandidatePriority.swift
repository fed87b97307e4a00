/// Priorities of the relay's own host candidates (RFC 8445 §5.1.2.1):
/// `2^24 × type preference + 2^8 × local preference + (256 − component ID)`.
///
/// Both candidates are host candidates; UDP must win whenever it works, so the TCP candidate gets a
/// lower type preference, as RFC 6544 §4.2 recommends for TCP candidates of the same type, and its
/// local preference follows RFC 6544 §4.2's direction preference (passive: 2 of 7, shifted by 13 bits).
public enum IceCandidatePriority {
    public static func compute(typePreference: UInt32, localPreference: UInt32, component: UInt32 = 1) -> UInt32 {
        precondition(typePreference <= 126 && localPreference <= 65535 && (1...256).contains(component))
        return typePreference << 24 | localPreference << 8 | (256 - component)
    }

    /// The UDP host candidate: the highest type and local preference.
    public static let udpHost = compute(typePreference: 126, localPreference: 65535)

    /// The passive TCP host candidate: below every UDP host candidate.
    public static let tcpPassiveHost = compute(typePreference: 90, localPreference: 2 << 13 | 8191)
}
