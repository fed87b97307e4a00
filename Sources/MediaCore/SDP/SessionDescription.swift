/// One `a=` line (RFC 8866 §5.13): `a=<name>` or `a=<name>:<value>`, kept verbatim.
public struct SDPAttribute: Equatable, Sendable {
    /// The attribute name, e.g. `rtpmap`.
    public var name: String
    /// The value after the first colon, or nil for a property attribute such as `rtcp-mux`.
    public var value: String?

    /// Creates an attribute.
    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }
}

/// One media description (RFC 8866 §5.14): the `m=` line and the lines that follow it.
public struct SDPMediaSection: Equatable, Sendable {
    /// Media type: `audio`, `video`, `application`, ...
    public var kind: String
    /// Transport port; 0 means the section is rejected or disabled.
    public var port: UInt16
    /// Transport protocol, e.g. `UDP/TLS/RTP/SAVPF`.
    public var proto: String
    /// Format list: payload types for RTP, `webrtc-datachannel` for SCTP.
    public var formats: [String]
    /// The `c=` line value, if any.
    public var connection: String?
    /// `b=` line values, in order.
    public var bandwidths: [String] = []
    /// Attribute lines in order, unknown ones included.
    public var attributes: [SDPAttribute] = []

    /// Creates a media section.
    public init(kind: String, port: UInt16, proto: String, formats: [String], connection: String? = nil) {
        self.kind = kind
        self.port = port
        self.proto = proto
        self.formats = formats
        self.connection = connection
    }

    /// Values of every attribute named `name`, in order.
    public func values(of name: String) -> [String] {
        attributes.compactMap { $0.name == name ? ($0.value ?? "") : nil }
    }

    /// The first value of attribute `name`, or nil.
    public func value(of name: String) -> String? {
        attributes.first { $0.name == name }.map { $0.value ?? "" }
    }

    /// The `a=mid` value (RFC 9143).
    public var mid: String? { value(of: "mid") }
}

/// A parsed session description (RFC 8866 §5) with the session-level lines and media sections.
public struct SessionDescription: Equatable, Sendable {
    /// `o=` line value (origin).
    public var origin: String
    /// `s=` line value (session name).
    public var sessionName: String
    /// `t=` line values.
    public var timings: [String] = []
    /// Session-level `c=` line value.
    public var connection: String?
    /// Session-level `b=` lines.
    public var bandwidths: [String] = []
    /// Session-level attributes in order.
    public var attributes: [SDPAttribute] = []
    /// Media sections in m-line order.
    public var media: [SDPMediaSection] = []

    /// Creates a description.
    public init(origin: String, sessionName: String = "-") {
        self.origin = origin
        self.sessionName = sessionName
    }

    /// Session-level attribute value, or nil.
    public func value(of name: String) -> String? {
        attributes.first { $0.name == name }.map { $0.value ?? "" }
    }

    /// Attribute `name` of media section `index`, falling back to session level (JSEP RFC 9429 §5.8:
    /// ice-ufrag, ice-pwd, fingerprint and setup at session level apply to every section).
    public func resolvedValue(of name: String, media index: Int) -> String? {
        media[index].value(of: name) ?? value(of: name)
    }
}
