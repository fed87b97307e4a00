/// Direction attribute of a media section (RFC 8866 §6.7). Default is `sendrecv`.
public enum SDPDirection: String, Sendable {
    case sendrecv, sendonly, recvonly, inactive
}

/// `a=rtpmap:<pt> <name>/<clock>[/<channels>]` (RFC 8866 §6.6).
public struct SDPRtpMap: Equatable, Sendable {
    /// RTP payload type (0–127).
    public var payloadType: UInt8
    /// Codec name as written, e.g. `VP8`, `opus`, `rtx`.
    public var codec: String
    /// Clock rate in Hz.
    public var clockRate: UInt32
    /// Channel count for audio, or nil.
    public var channels: UInt8?

    public init(payloadType: UInt8, codec: String, clockRate: UInt32, channels: UInt8? = nil) {
        self.payloadType = payloadType
        self.codec = codec
        self.clockRate = clockRate
        self.channels = channels
    }
}

/// `a=extmap:<id>[/<direction>] <uri>` (RFC 8285 §8).
public struct SDPExtMap: Equatable, Sendable {
    /// Extension id (1–14 one-byte, up to 255 two-byte).
    public var id: UInt8
    /// Optional direction.
    public var direction: SDPDirection?
    /// Extension URI.
    public var uri: String
}

extension SDPMediaSection {
    /// The section's direction (RFC 8866 §6.7); `sendrecv` when absent.
    public var direction: SDPDirection {
        attributes.lazy.compactMap { $0.value == nil ? SDPDirection(rawValue: $0.name) : nil }.first ?? .sendrecv
    }

    /// Parsed `a=rtpmap` lines; malformed ones are skipped.
    public var rtpMaps: [SDPRtpMap] {
        values(of: "rtpmap").compactMap { value in
            let parts = value.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let pt = UInt8(parts[0]), pt < 128 else { return nil }
            let codec = parts[1].split(separator: "/")
            guard codec.count >= 2, let clock = UInt32(codec[1]) else { return nil }
            return SDPRtpMap(
                payloadType: pt,
                codec: String(codec[0]),
                clockRate: clock,
                channels: codec.count > 2 ? UInt8(codec[2]) : nil
            )
        }
    }

    /// The text of payload type `pt`'s `a=fmtp` line after the payload type, as written.
    public func formatParameterText(for pt: UInt8) -> String? {
        for value in values(of: "fmtp") {
            let parts = value.split(separator: " ", maxSplits: 1)
            if parts.count == 2, UInt8(parts[0]) == pt { return String(parts[1]) }
        }
        return nil
    }

    /// `a=fmtp` parameters of payload type `pt` as key/value pairs in order (RFC 8866 §6.15).
    public func formatParameters(for pt: UInt8) -> [(key: String, value: String)] {
        for value in values(of: "fmtp") {
            let parts = value.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, UInt8(parts[0]) == pt else { continue }
            return parts[1].split(separator: ";").map { pair in
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(kv.first ?? "").trimmingSpaces
                return (key, kv.count > 1 ? String(kv[1]) : "")
            }
        }
        return []
    }

    /// Parsed `a=extmap` lines (RFC 8285 §8).
    public var extMaps: [SDPExtMap] {
        values(of: "extmap").compactMap { value in
            let parts = value.split(separator: " ")
            guard parts.count >= 2 else { return nil }
            let head = parts[0].split(separator: "/")
            guard let id = UInt8(head[0]) else { return nil }
            return SDPExtMap(
                id: id,
                direction: head.count > 1 ? SDPDirection(rawValue: String(head[1])) : nil,
                uri: String(parts[1])
            )
        }
    }

    /// `a=rid:<id> <send|recv>` identifiers (RFC 8851 §4).
    public var rids: [(id: String, direction: String)] {
        values(of: "rid").compactMap { value in
            let parts = value.split(separator: " ")
            return parts.count >= 2 ? (String(parts[0]), String(parts[1])) : nil
        }
    }

    /// SSRCs named by `a=ssrc:` lines, in first-seen order (RFC 5576 §4.1).
    public var ssrcs: [UInt32] {
        var seen: [UInt32] = []
        for value in values(of: "ssrc") {
            if let ssrc = UInt32(value.split(separator: " ").first ?? ""), !seen.contains(ssrc) { seen.append(ssrc) }
        }
        return seen
    }
}

extension SessionDescription {
    /// Mids of the `a=group:BUNDLE` group (RFC 9143 §7.1), or empty.
    public var bundleMids: [String] {
        guard let group = attributes.first(where: { $0.name == "group" && ($0.value ?? "").hasPrefix("BUNDLE") })
        else { return [] }
        return (group.value ?? "").split(separator: " ").dropFirst().map(String.init)
    }
}

extension String {
    var trimmingSpaces: String { String(self.drop { $0 == " " }) }
}
