extension OfferSummary {
    /// Largest offer accepted, in bytes (signaling enforces the same bound before this).
    static let maxOfferBytes = SDPParser.defaultMaxBytes

    /// Reads the parts of an offer the relay uses, from the general SDP parser (RFC 8866 §5) and
    /// its typed accessors. Session-level ICE, fingerprint and setup apply to every section unless a
    /// section has its own (JSEP RFC 9429 §5.8); with BUNDLE the first section's win. Attribute lines
    /// the relay does not use, or that do not parse, are ignored as RFC 8866 §5 allows.
    static func parse(_ text: String) throws(JoinError) -> OfferSummary {
        let sdp: SessionDescription
        do {
            sdp = try SDPParser(maxBytes: maxOfferBytes).parse(text)
        } catch {
            throw .badOffer(Self.describe(error))
        }
        guard !sdp.media.isEmpty else { throw .badOffer("the offer has no media sections") }
        func first(_ name: String) -> String? {
            sdp.media.lazy.compactMap { $0.value(of: name) }.first ?? sdp.value(of: name)
        }
        guard let ufrag = first("ice-ufrag"), let password = first("ice-pwd") else {
            throw .badOffer("the offer has no a=ice-ufrag/a=ice-pwd")
        }
        // A section may carry several fingerprints (sha-1 and sha-256): take the first sha-256 one.
        let fingerprints =
            sdp.media.flatMap { $0.values(of: "fingerprint") }
            + sdp.attributes.filter { $0.name == "fingerprint" }.compactMap(\.value)
        guard
            let fingerprint = fingerprints.lazy.compactMap(SDPFingerprint.init(attributeValue:))
                .first(where: { $0.hashFunction == DtlsFingerprint.hashFunction }).flatMap({
                    DtlsFingerprint(bytes: $0.bytes)
                })
        else { throw .badOffer("the offer has no a=fingerprint:sha-256") }
        return OfferSummary(
            iceUfrag: ufrag,
            icePassword: password,
            fingerprint: fingerprint,
            setup: first("setup") ?? "actpass",
            sections: sdp.media.enumerated().map { index, media in Self.section(media, index: index) }
        )
    }

    private static func section(_ media: SDPMediaSection, index: Int) -> Section {
        let rtpMaps = media.rtpMaps
        let codecs = media.formats.compactMap(UInt8.init).map { pt in
            let map = rtpMaps.first { $0.payloadType == pt }
            return Codec(
                payloadType: pt,
                name: map?.codec ?? "",
                clockRate: map?.clockRate ?? 0,
                channels: map?.channels.map(Int.init),
                fmtp: media.formatParameterText(for: pt),
                feedback: media.rtcpFeedback(for: pt).map { $0.type + ($0.parameter.map { " " + $0 } ?? "") }
            )
        }
        let sendRids = Set(media.rids.filter { $0.direction == "send" }.map(\.id))
        let simulcastSendRids = (media.simulcast?.send ?? []).compactMap { $0.first?.rid }.filter {
            sendRids.contains($0)
        }
        return Section(
            kind: media.kind,
            mid: media.mid ?? String(index),
            port: Int(media.port),
            proto: media.proto,
            direction: media.direction.rawValue,
            codecs: codecs,
            ssrcs: media.ssrcs,
            fidGroups: media.ssrcGroups.filter { $0.semantics == "FID" && $0.ssrcs.count == 2 }.map {
                ($0.ssrcs[0], $0.ssrcs[1])
            },
            rtcpRsize: media.values(of: "rtcp-rsize").count > 0,
            bundleOnly: media.values(of: "bundle-only").count > 0,
            extMaps: media.extMaps,
            simulcastSendRids: simulcastSendRids
        )
    }

    static func describe(_ error: SDPParseError) -> String {
        switch error {
        case .tooLarge(let size, let limit): "offer is \(size) bytes; the limit is \(limit)"
        case .tooManyLines(let limit): "offer has more than \(limit) lines"
        case .malformedLine(let line, let text): "line \(line): expected <type>=<value>, got \"\(text.prefix(40))\""
        case .missingVersion: "line 1: an SDP offer starts with v=0"
        }
    }
}
