public import MediaCore

/// A Chromium-shaped offer in the relay's fixed-slot layout (docs/signaling.md): audio and video to
/// send, then `slots` receive-only audio/video pairs, one per other participant it can show. What
/// the in-process test client and the fuzz targets offer; the options are the shapes the tests need
/// (Firefox's bundle-only form, RED, audio NACK, simulcast by rid).
public struct ChromiumOffer: Sendable {
    public var ice: IceCredentials
    public var fingerprint: DtlsFingerprint
    public var audioSSRC: UInt32
    public var videoSSRC: UInt32
    public var slots: Int
    public var audioPT: UInt8 = 111
    public var videoPT: UInt8 = 96
    /// Firefox's form: every section after the first has port 0 and `a=bundle-only` (RFC 9143 §6),
    /// and the ICE and DTLS attributes sit at session level.
    public var bundleOnly = false
    /// RED around Opus (RFC 2198, `red/48000/2` with fmtp `111/111`), as Chromium offers it.
    public var red = false
    /// `rtcp-fb nack` for Opus, as our web client adds it.
    public var audioNack = false
    /// Simulcast rids to send (RFC 8853, Chromium's form) instead of one video stream.
    public var simulcastRids: [String] = []

    public init(
        ice: IceCredentials,
        fingerprint: DtlsFingerprint,
        audioSSRC: UInt32,
        videoSSRC: UInt32,
        slots: Int
    ) {
        self.ice = ice
        self.fingerprint = fingerprint
        self.audioSSRC = audioSSRC
        self.videoSSRC = videoSSRC
        self.slots = slots
    }

    /// The offer's SDP (CRLF line ends).
    public var text: String {
        var lines = [
            "v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
            "a=group:BUNDLE " + (0..<(2 + 2 * slots)).map(String.init).joined(separator: " "),
            "a=extmap-allow-mixed", "a=msid-semantic: WMS stream",
        ]
        func section(_ kind: String, mid: Int, direction: String, ssrc: UInt32?) {
            let audio = kind == "audio"
            let port = bundleOnly && mid > 0 ? 0 : 9
            lines.append(
                "m=\(kind) \(port) UDP/TLS/RTP/SAVPF \(audio ? "\(audioPT)\(red ? " 63" : "") 0" : "\(videoPT) 97 45")"
            )
            lines += ["c=IN IP4 0.0.0.0", "a=rtcp:9 IN IP4 0.0.0.0"]
            if bundleOnly && mid > 0 { lines.append("a=bundle-only") }
            if !bundleOnly {
                lines += [
                    "a=ice-ufrag:\(ice.ufrag)", "a=ice-pwd:\(ice.pwd)", "a=ice-options:trickle",
                    "a=fingerprint:\(fingerprint.sdpValue)", "a=setup:actpass",
                ]
            }
            lines += [
                "a=mid:\(mid)", "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
                "a=\(direction)", "a=rtcp-mux", "a=rtcp-rsize",
            ]
            if audio {
                lines += [
                    "a=rtpmap:\(audioPT) opus/48000/2", "a=rtcp-fb:\(audioPT) transport-cc",
                    "a=fmtp:\(audioPT) minptime=10;useinbandfec=1", "a=rtpmap:0 PCMU/8000",
                ]
                if audioNack { lines.append("a=rtcp-fb:\(audioPT) nack") }
                if red { lines += ["a=rtpmap:63 red/48000/2", "a=fmtp:63 \(audioPT)/\(audioPT)"] }
            } else {
                lines += [
                    "a=rtpmap:\(videoPT) VP8/90000", "a=rtcp-fb:\(videoPT) goog-remb",
                    "a=rtcp-fb:\(videoPT) transport-cc",
                    "a=rtcp-fb:\(videoPT) nack",
                    "a=rtcp-fb:\(videoPT) nack pli", "a=rtcp-fb:\(videoPT) ccm fir",
                    "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=\(videoPT)", "a=rtpmap:45 AV1/90000",
                ]
            }
            if !audio && direction == "sendonly" && !simulcastRids.isEmpty {
                lines += [
                    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
                    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
                    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
                ]
                lines += simulcastRids.map { "a=rid:\($0) send" }
                lines.append("a=simulcast:send " + simulcastRids.joined(separator: ";"))
            } else if let ssrc {
                lines += ["a=ssrc:\(ssrc) cname:test", "a=ssrc:\(ssrc) msid:stream \(kind)"]
            }
        }
        if bundleOnly {
            // Session-level ICE and DTLS attributes, before the first m= line.
            lines.insert(
                contentsOf: [
                    "a=ice-ufrag:\(ice.ufrag)", "a=ice-pwd:\(ice.pwd)",
                    "a=fingerprint:\(fingerprint.sdpValue)", "a=setup:actpass",
                ],
                at: 4
            )
        }
        section("audio", mid: 0, direction: "sendonly", ssrc: audioSSRC)
        section("video", mid: 1, direction: "sendonly", ssrc: videoSSRC)
        for slot in 0..<slots {
            section("audio", mid: 2 + 2 * slot, direction: "recvonly", ssrc: nil)
            section("video", mid: 3 + 2 * slot, direction: "recvonly", ssrc: nil)
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

}
