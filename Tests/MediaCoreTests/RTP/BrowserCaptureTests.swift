import Testing

@testable import MediaCore

/// RTP and SRTCP datagrams Chromium sent visit-relay, captured off `lo` by
/// `scripts/capture-fixtures.py`. SRTP leaves the RTP header in the clear and SRTCP its first 8 bytes.
@Suite("Datagrams captured from Chromium")
struct BrowserCaptureTests {
    @Test("every RTP datagram parses, and each stream's sequence numbers and timestamps advance")
    func rtp() throws {
        let datagrams = try BrowserFixtures.datagrams("chromium-srtp.hex")
        #expect(datagrams.count >= 100)
        var last: [UInt32: (sequence: UInt16, timestamp: UInt32)] = [:]
        var lastTransport: [UInt32: UInt16] = [:]
        var payloadTypes: Set<UInt8> = []
        for captured in datagrams {
            #expect(DatagramKind(firstByte: captured[0], secondByte: captured[1]) == .rtp)
            // Padding probes set P, but under SRTP the padding count sits at the end of the encrypted
            // payload (RFC 3711 §3.1), before the tag; the relay reads it after unprotecting. Here,
            // on the encrypted capture, only the header is read.
            var datagram = captured
            datagram[0] &= ~0x20
            let view = try RTPPacketView(validating: datagram.span.bytes)
            let ssrc = view.ssrc
            let sequence = view.sequenceNumber
            let timestamp = view.timestamp
            payloadTypes.insert(view.payloadType)
            #expect(view.csrcCount == 0)
            // The relay's answer negotiated transport-wide-cc as id 3 (Chromium's offer): every packet
            // carries it, in RFC 8285 one-byte form, rising per stream.
            #expect(view.extensionProfile == 0xBEDE)
            let transportSequence = view.transportWideSequenceNumber(id: 3)
            let transport = try #require(transportSequence)
            if let previous = lastTransport[ssrc] { #expect((1..<1024).contains(transport &- previous)) }
            lastTransport[ssrc] = transport
            // RTX padding probes reuse old timestamps; the media streams advance.
            if view.payloadType != 97, let previous = last[ssrc] {
                // In order on loopback; the capture socket may miss a few in a burst.
                #expect((1..<64).contains(sequence &- previous.sequence))
                #expect(Int32(bitPattern: timestamp &- previous.timestamp) >= 0)
            }
            last[ssrc] = (sequence, timestamp)
            #expect(view.payloadLength >= 10, "SRTP: encrypted payload and a tag")
        }
        #expect(
            payloadTypes.isSuperset(of: [96, 111]) && payloadTypes.isSubset(of: [96, 97, 111]),
            "VP8, Opus and VP8's RTX (padding probes) as the relay's answer negotiated them"
        )
        #expect(last.count >= 2, "an audio and a video SSRC from each Chromium")
    }

    @Test("Chromium's connectivity checks parse as ICE Binding requests with a valid FINGERPRINT")
    func stun() throws {
        let datagrams = try BrowserFixtures.datagrams("chromium-stun.hex")
        #expect(!datagrams.isEmpty)
        var nominated = false
        for datagram in datagrams {
            #expect(DatagramKind(firstByte: datagram[0], secondByte: datagram[1]) == .stun)
            let message = try STUNMessageView(validating: datagram.span.bytes)  // checks FINGERPRINT
            let type = message.messageType
            let priority = message.priority
            let controlling = message.iceControlling
            let names = message.iceUsername
            let integrity = message.integrityOffset
            let fingerprint = message.fingerprintOffset
            #expect(type == .bindingRequest)
            #expect(
                priority != nil && controlling != nil,
                "Chromium is the controlling agent against an ICE-lite relay"
            )
            #expect(names.map { !$0.receiver.isEmpty && !$0.sender.isEmpty } == true)
            #expect(integrity != nil && fingerprint == datagram.count - 8)
            if message.useCandidate { nominated = true }
        }
        #expect(nominated, "aggressive or regular nomination: some check carries USE-CANDIDATE")
    }

    @Test("SRTCP headers read as sender and receiver reports")
    func rtcp() throws {
        let headers = try BrowserFixtures.datagrams("chromium-srtcp-headers.hex")
        #expect(!headers.isEmpty)
        for header in headers {
            #expect(DatagramKind(firstByte: header[0], secondByte: header[1]) == .rtcp)
            // Full compounds start with SR or RR (RFC 3550 §6.1); with rtcp-rsize (RFC 5506) feedback
            // such as transport-cc and NACK comes alone.
            #expect(header[0] >> 6 == 2 && (200...206).contains(header[1]))
        }
    }
}
