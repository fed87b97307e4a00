/// Writing typed attributes back: each `attributeValue` is what follows `a=<name>:` and parses back
/// to an equal value through the section's typed accessors. With `SessionDescription.text` this is
/// how offers and answers are built (the relay's answer, the test and load clients' offers).
extension SDPRtpMap {
    /// `<pt> <name>/<clock>[/<channels>]` (RFC 8866 §6.6).
    public var attributeValue: String { "\(payloadType) \(codec)/\(clockRate)" + (channels.map { "/\($0)" } ?? "") }
}

extension SDPRtcpFeedback {
    /// `<pt|*> <type>[ <parameter>]` (RFC 4585 §4.2).
    public var attributeValue: String {
        (payloadType.map(String.init) ?? "*") + " " + type + (parameter.map { " " + $0 } ?? "")
    }
}

extension SDPSsrcGroup {
    /// `<semantics> <ssrc> ...` (RFC 5576 §4.2).
    public var attributeValue: String { ([semantics] + ssrcs.map(String.init)).joined(separator: " ") }
}

extension SDPCandidate {
    public init(
        foundation: String,
        component: UInt8 = 1,
        transport: String,
        priority: UInt32,
        address: String,
        port: UInt16,
        type: String = "host",
        tcpType: String? = nil
    ) {
        self.foundation = foundation
        self.component = component
        self.transport = transport
        self.priority = priority
        self.address = address
        self.port = port
        self.type = type
        self.tcpType = tcpType
    }

    /// `<foundation> <component> <transport> <priority> <address> <port> typ <type>[ tcptype <t>]`
    /// (RFC 8839 §5.1, RFC 6544 §4.5).
    public var attributeValue: String {
        "\(foundation) \(component) \(transport) \(priority) \(address) \(port) typ \(type)"
            + (tcpType.map { " tcptype \($0)" } ?? "")
    }
}

extension SDPFingerprint {
    public init(hashFunction: String, bytes: [UInt8]) {
        self.hashFunction = hashFunction
        self.bytes = bytes
    }

    /// `<hash-func> <XX:XX:...>` with upper-case hex (RFC 8122 §5).
    public var attributeValue: String {
        hashFunction + " "
            + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) }.joined(separator: ":")
    }
}

extension SDPMediaSection {
    /// Appends `a=<name>[:<value>]`.
    public mutating func add(_ name: String, _ value: String? = nil) {
        attributes.append(SDPAttribute(name: name, value: value))
    }
}

extension SessionDescription {
    /// Appends a session-level `a=<name>[:<value>]`.
    public mutating func add(_ name: String, _ value: String? = nil) {
        attributes.append(SDPAttribute(name: name, value: value))
    }
}
