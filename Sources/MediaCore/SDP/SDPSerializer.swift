extension SessionDescription {
    /// Serialises the description with CRLF line ends (RFC 8866 §5), in the order the parser reads.
    public var text: String {
        var out = "v=0\r\no=\(origin)\r\ns=\(sessionName)\r\n"
        if let connection { out += "c=\(connection)\r\n" }
        for bandwidth in bandwidths { out += "b=\(bandwidth)\r\n" }
        for timing in timings { out += "t=\(timing)\r\n" }
        for attribute in attributes { out += attribute.line }
        for section in media {
            let formats = section.formats.isEmpty ? "" : " " + section.formats.joined(separator: " ")
            out += "m=\(section.kind) \(section.port) \(section.proto)\(formats)\r\n"
            if let connection = section.connection { out += "c=\(connection)\r\n" }
            for bandwidth in section.bandwidths { out += "b=\(bandwidth)\r\n" }
            for attribute in section.attributes { out += attribute.line }
        }
        return out
    }
}

extension SDPAttribute {
    var line: String { value.map { "a=\(name):\($0)\r\n" } ?? "a=\(name)\r\n" }
}
