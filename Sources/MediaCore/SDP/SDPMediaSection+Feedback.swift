/// `a=rtcp-fb:<pt|*> <type> [<parameter>]` (RFC 4585 §4.2), e.g. `nack pli`, `transport-cc`.
public struct SDPRtcpFeedback: Equatable, Sendable {
    /// The payload type it applies to; nil for `*` (all formats of the section).
    public var payloadType: UInt8?
    public var type: String
    public var parameter: String?

    public init(payloadType: UInt8?, type: String, parameter: String? = nil) {
        self.payloadType = payloadType
        self.type = type
        self.parameter = parameter
    }
}

/// `a=ssrc-group:<semantics> <ssrc>...` (RFC 5576 §4.2): FID pairs media with its RTX, SIM lists
/// simulcast layers (Chromium's legacy form).
public struct SDPSsrcGroup: Equatable, Sendable {
    public var semantics: String
    public var ssrcs: [UInt32]

    public init(semantics: String, ssrcs: [UInt32]) {
        self.semantics = semantics
        self.ssrcs = ssrcs
    }
}

/// `a=simulcast:` (RFC 8853 §5.1): send and receive streams, each a list of alternatives (`a,b`)
/// separated by `;`; a leading `~` marks a stream paused at first.
public struct SDPSimulcast: Equatable, Sendable {
    public struct Stream: Equatable, Sendable {
        public var rid: String
        public var paused: Bool
    }

    /// Streams to send, each with its alternative rids.
    public var send: [[Stream]] = []
    public var receive: [[Stream]] = []
}

extension SDPMediaSection {
    /// Every `a=rtcp-fb` line that parses; for a payload type, its own lines and the `*` lines.
    public func rtcpFeedback(for payloadType: UInt8? = nil) -> [SDPRtcpFeedback] {
        values(of: "rtcp-fb").compactMap { value -> SDPRtcpFeedback? in
            let parts = value.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2 else { return nil }
            let pt: UInt8?
            if parts[0] == "*" {
                pt = nil
            } else if let number = UInt8(parts[0]), number < 128 {
                pt = number
            } else {
                return nil
            }
            if let payloadType, let pt, pt != payloadType { return nil }
            return SDPRtcpFeedback(
                payloadType: pt,
                type: String(parts[1]),
                parameter: parts.count > 2 ? String(parts[2]) : nil
            )
        }
    }

    /// `a=ssrc-group` lines with at least one SSRC.
    public var ssrcGroups: [SDPSsrcGroup] {
        values(of: "ssrc-group").compactMap { value in
            let parts = value.split(separator: " ")
            guard parts.count >= 2 else { return nil }
            let ssrcs = parts.dropFirst().compactMap { UInt32($0) }
            guard ssrcs.count == parts.count - 1 else { return nil }
            return SDPSsrcGroup(semantics: String(parts[0]), ssrcs: ssrcs)
        }
    }

    /// `a=simulcast`, if present and well-formed.
    public var simulcast: SDPSimulcast? {
        guard let value = value(of: "simulcast") else { return nil }
        let parts = value.split(separator: " ")
        guard parts.count == 2 || parts.count == 4 else { return nil }
        var result = SDPSimulcast()
        for index in stride(from: 0, to: parts.count, by: 2) {
            let streams = parts[index + 1].split(separator: ";").map { stream in
                stream.split(separator: ",").map { rid in
                    SDPSimulcast.Stream(rid: String(rid.drop { $0 == "~" }), paused: rid.hasPrefix("~"))
                }
            }
            switch parts[index] {
            case "send": result.send = streams
            case "recv": result.receive = streams
            default: return nil
            }
        }
        return result
    }

    /// Parsed `a=candidate` lines (RFC 8839 §5.1); lines that do not parse are skipped.
    public var candidates: [SDPCandidate] { values(of: "candidate").compactMap(SDPCandidate.init(attributeValue:)) }
}

/// One ICE candidate (RFC 8839 §5.1; `tcptype` from RFC 6544 §4.5).
public struct SDPCandidate: Equatable, Sendable {
    public var foundation: String
    public var component: UInt8
    /// `udp` or `tcp`, lowercased.
    public var transport: String
    public var priority: UInt32
    public var address: String
    public var port: UInt16
    /// host, srflx, prflx or relay.
    public var type: String
    /// active, passive or so for TCP candidates.
    public var tcpType: String?

    public init?(attributeValue value: String) {
        let parts = value.split(separator: " ")
        guard parts.count >= 8, parts[6] == "typ", let component = UInt8(parts[1]), let priority = UInt32(parts[3]),
            let port = UInt16(parts[5])
        else { return nil }
        foundation = String(parts[0])
        self.component = component
        transport = parts[2].lowercased()
        self.priority = priority
        address = String(parts[4])
        self.port = port
        type = String(parts[7])
        var index = 8
        while index + 1 < parts.count {
            if parts[index] == "tcptype" { tcpType = String(parts[index + 1]) }
            index += 2
        }
    }
}
