extension OfferSummary {
    /// Largest offer accepted, in bytes (signaling enforces the same bound before this).
    static let maxOfferBytes = 64 * 1024

    /// Reads the parts of an offer the relay uses. Line syntax follows RFC 8866 §5 (`<type>=<value>`,
    /// CRLF or LF); lines the relay does not use are skipped. Session-level ICE and fingerprint
    /// attributes apply to every section unless a section has its own (JSEP RFC 9429 §5.8).
    /// Errors name the 1-based line.
    static func parse(_ text: String) throws(JoinError) -> OfferSummary {
        guard text.utf8.count <= maxOfferBytes else {
            throw .badOffer("offer is \(text.utf8.count) bytes; the limit is \(maxOfferBytes)")
        }
        var sessionUfrag: String?
        var sessionPassword: String?
        var sessionFingerprint: DtlsFingerprint?
        var sessionSetup: String?
        var mediaUfrag: String?
        var mediaPassword: String?
        var mediaFingerprint: DtlsFingerprint?
        var mediaSetup: String?
        var sections: [Section] = []
        var sawVersion = false

        func fail(_ line: Int, _ why: String) -> JoinError { .badOffer("line \(line): \(why)") }

        var lineNumber = 0
        // "\r\n" is one Character in Swift, and isNewline covers it and a bare "\n" alike.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            if line.isEmpty { continue }
            guard line.count >= 2, line.dropFirst().first == "=" else {
                throw fail(lineNumber, "expected <type>=<value>, got \"\(line.prefix(40))\"")
            }
            let type = line.first!
            let value = line.dropFirst(2)
            switch type {
            case "v":
                guard value == "0" else { throw fail(lineNumber, "unsupported version \"\(value.prefix(20))\"") }
                sawVersion = true
            case "m":
                let fields = value.split(separator: " ")
                guard fields.count >= 4, let port = Int(fields[1]) else {
                    throw fail(lineNumber, "malformed media line \"m=\(value.prefix(60))\"")
                }
                sections.append(
                    Section(
                        kind: String(fields[0]), mid: String(sections.count), port: port, proto: String(fields[2]),
                        direction: "sendrecv",
                        codecs: fields[3...].compactMap { UInt8($0) }.map {
                            Codec(payloadType: $0, name: "", clockRate: 0, channels: nil, fmtp: nil, feedback: [])
                        },
                        ssrcs: [], fidGroups: [], rtcpRsize: false))
            case "a":
                let (name, attribute) = splitAttribute(value)
                let inMedia = !sections.isEmpty
                switch name {
                case "ice-ufrag":
                    if inMedia { mediaUfrag = mediaUfrag ?? String(attribute) } else { sessionUfrag = String(attribute) }
                case "ice-pwd":
                    if inMedia { mediaPassword = mediaPassword ?? String(attribute) } else { sessionPassword = String(attribute) }
                case "fingerprint":
                    let parts = attribute.split(separator: " ")
                    guard parts.count == 2 else { throw fail(lineNumber, "malformed fingerprint") }
                    guard parts[0].lowercased() == DtlsFingerprint.hashFunction else { continue }
                    guard let fingerprint = DtlsFingerprint(hex: parts[1]) else {
                        throw fail(lineNumber, "malformed sha-256 fingerprint")
                    }
                    if inMedia { mediaFingerprint = mediaFingerprint ?? fingerprint } else { sessionFingerprint = fingerprint }
                case "setup":
                    if inMedia { mediaSetup = mediaSetup ?? String(attribute) } else { sessionSetup = String(attribute) }
                case "mid" where inMedia:
                    sections[sections.count - 1].mid = String(attribute)
                case "sendrecv", "sendonly", "recvonly", "inactive":
                    if inMedia { sections[sections.count - 1].direction = String(name) }
                case "bundle-only" where inMedia:
                    sections[sections.count - 1].bundleOnly = true
                case "rtcp-rsize" where inMedia:
                    sections[sections.count - 1].rtcpRsize = true
                case "rtpmap" where inMedia:
                    let parts = attribute.split(separator: " ", maxSplits: 1)
                    guard parts.count == 2, let pt = UInt8(parts[0]) else { throw fail(lineNumber, "malformed rtpmap") }
                    let encoding = parts[1].split(separator: "/")
                    guard encoding.count >= 2, let rate = UInt32(encoding[1]) else {
                        throw fail(lineNumber, "malformed rtpmap encoding \"\(parts[1])\"")
                    }
                    updateCodec(&sections[sections.count - 1], pt) {
                        $0.name = String(encoding[0])
                        $0.clockRate = rate
                        $0.channels = encoding.count > 2 ? Int(encoding[2]) : nil
                    }
                case "fmtp" where inMedia:
                    let parts = attribute.split(separator: " ", maxSplits: 1)
                    guard parts.count == 2, let pt = UInt8(parts[0]) else { throw fail(lineNumber, "malformed fmtp") }
                    updateCodec(&sections[sections.count - 1], pt) { $0.fmtp = String(parts[1]) }
                case "rtcp-fb" where inMedia:
                    let parts = attribute.split(separator: " ", maxSplits: 1)
                    guard parts.count == 2 else { throw fail(lineNumber, "malformed rtcp-fb") }
                    let feedback = String(parts[1])
                    if parts[0] == "*" {
                        for i in sections[sections.count - 1].codecs.indices {
                            sections[sections.count - 1].codecs[i].feedback.append(feedback)
                        }
                    } else if let pt = UInt8(parts[0]) {
                        updateCodec(&sections[sections.count - 1], pt) { $0.feedback.append(feedback) }
                    }
                case "ssrc" where inMedia:
                    if let ssrcText = attribute.split(separator: " ").first, let ssrc = UInt32(ssrcText),
                        !sections[sections.count - 1].ssrcs.contains(ssrc)
                    {
                        sections[sections.count - 1].ssrcs.append(ssrc)
                    }
                case "ssrc-group" where inMedia:
                    let parts = attribute.split(separator: " ")
                    if parts.count == 3, parts[0] == "FID", let primary = UInt32(parts[1]), let rtx = UInt32(parts[2]) {
                        sections[sections.count - 1].fidGroups.append((primary, rtx))
                    }
                default:
                    continue
                }
            default:
                continue  // o, s, t, c, b and others: not needed by the relay (RFC 8866 §5 allows skipping)
            }
        }
        guard sawVersion else { throw .badOffer("line 1: an SDP offer starts with v=0") }
        guard !sections.isEmpty else { throw .badOffer("the offer has no media sections") }
        guard let ufrag = mediaUfrag ?? sessionUfrag, let password = mediaPassword ?? sessionPassword else {
            throw .badOffer("the offer has no a=ice-ufrag/a=ice-pwd")
        }
        guard let fingerprint = mediaFingerprint ?? sessionFingerprint else {
            throw .badOffer("the offer has no a=fingerprint:sha-256")
        }
        return OfferSummary(
            iceUfrag: ufrag, icePassword: password, fingerprint: fingerprint,
            setup: mediaSetup ?? sessionSetup ?? "actpass", sections: sections)
    }

    private static func splitAttribute(_ value: Substring) -> (Substring, Substring) {
        guard let colon = value.firstIndex(of: ":") else { return (value, "") }
        return (value[..<colon], value[value.index(after: colon)...])
    }

    private static func updateCodec(_ section: inout Section, _ pt: UInt8, _ change: (inout Codec) -> Void) {
        guard let index = section.codecs.firstIndex(where: { $0.payloadType == pt }) else { return }
        change(&section.codecs[index])
    }
}
