/// Who a participant is in a video visit. Roles drive bitrate limits and the web client's view.
public enum ParticipantRole: String, Sendable, CaseIterable, Codable {
    /// The citizen at home, often on a rural 4G link.
    case citizen
    /// A care worker, nurse or social worker at a municipal workstation.
    case staff
    /// An interpreter joining as a third party.
    case interpreter
}

/// A participant's identity within one relay process: unique, never reused while the process runs.
public struct ParticipantID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "p\(rawValue)" }
    public static func < (lhs: ParticipantID, rhs: ParticipantID) -> Bool { lhs.rawValue < rhs.rawValue }
}
