// The entry of a transport: every datagram a media worker's socket hands `RelayCore.receive`.
// One relay core lives for the whole run with a visit of two connected clients (real ICE, DTLS and
// SRTP keys) and a third that passed ICE but is still in its DTLS handshake. The first input byte
// picks where the rest comes from and how it is wrapped:
//   0: an address no participant uses (STUN, DTLS, SRTP probes, latching attempts);
//   1: a connected participant's address, bytes as they are (forged SRTP/SRTCP, STUN, DTLS);
//   2: the address still in DTLS (the bytes reach OpenSSL's DTLS server);
//   3: a connected participant, the bytes protected as SRTP RTP with its real keys, so that the
//      relay's RTP parsing and forwarding see arbitrary plaintext (sequence number made fresh);
//   4: the same as SRTCP, so every RTCP reader sees arbitrary plaintext.
// Every so often the clock moves on and timers run. Invariants: nothing crashes, forwarding never
// exceeds what was authentically sent, and the visit still forwards real media afterwards.

import ClientPeer
import Glibc

@testable import FuzzSupport
@testable import MediaCore

final class FuzzVisit {
    /// The tests' in-process router between clients and one relay core (Tests/.../RelayHarness.swift).
    var harness: RelayHarness
    let citizen: RelayTestClient
    let staff: RelayTestClient
    let pending: RelayTestClient
    let stranger = TransportAddress(ipv4: 0xC633_6407, port: 61_000)
    var authenticRTP = 0
    var otherSequence: UInt16 = 0
    var inputs = 0

    init() throws {
        let identity = try DtlsIdentity(commonName: "relay")
        harness = RelayHarness(
            identity: identity,
            configuration: RelayCoreConfiguration(
                announcedAddress: RelayHarness.relayAddress,
                maxParticipantsPerRoom: 3,
                unknownSourceRate: 0
            ),
            seed: 7
        )
        citizen = try RelayTestClient(port: 50_001, relayFingerprint: identity.fingerprint, seed: 1)
        staff = try RelayTestClient(port: 50_002, relayFingerprint: identity.fingerprint, seed: 2)
        pending = try RelayTestClient(port: 50_003, relayFingerprint: identity.fingerprint, seed: 3)
        _ = try harness.connect(citizen, room: "fuzz", role: .citizen)
        _ = try harness.connect(staff, room: "fuzz", role: .staff)
        // The third passes ICE but never starts DTLS, and is not registered for delivery: what the
        // relay sends it is dropped, and its address keeps the relay's DTLS server waiting.
        let result = try harness.core.join(
            room: "fuzz",
            role: .interpreter,
            offer: pending.offer(slots: 2),
            now: harness.now
        )
        pending.accept(answer: result.answerSDP)
        try send(pending.bindingRequest(), from: pending.address)
        precondition(citizen.isKeyed && staff.isKeyed, "the fuzz visit must connect")
    }

    /// One datagram from any source; whatever the relay sends in response reaches the clients.
    func send(_ datagram: [UInt8], from source: TransportAddress) throws {
        harness.receive(datagram, from: source)
        try harness.deliver()
    }

    func protect(_ plain: [UInt8], rtcp: Bool, by client: RelayTestClient) -> [UInt8]? {
        try? client.protected(plain, rtcp: rtcp)
    }

    func run(_ input: UnsafeRawBufferPointer) {
        inputs += 1
        guard let selector = input.first else { return }
        var bytes = Array(input.dropFirst())
        let client = selector & 0x80 == 0 ? citizen : staff
        var datagram = bytes
        var source = client.address
        switch selector & 0x07 {
        case 0: source = stranger
        case 2: source = pending.address
        case 3:
            guard bytes.count >= 12 else { return }
            bytes[0] = 0x80 | (bytes[0] & 0x3F)  // RTP version 2 keeps it on the SRTP path
            // Sequence numbers continue the client's own for that SSRC, as a real sender's would: an
            // authentic packet far ahead on its own stream only makes SRTP's replay window drop the
            // sender's later packets, which a sender can do to itself and nobody else.
            let ssrc = UInt32(bytes[8]) << 24 | UInt32(bytes[9]) << 16 | UInt32(bytes[10]) << 8 | UInt32(bytes[11])
            let sequence: UInt16
            if ssrc == client.audioSSRC {
                client.audioSequence &+= 1
                sequence = client.audioSequence
            } else if ssrc == client.videoSSRC {
                client.videoSequence &+= 1
                sequence = client.videoSequence
            } else if ssrc == client.rtxSSRC {
                client.rtxSequence &+= 1
                sequence = client.rtxSequence
            } else {
                otherSequence &+= 1
                sequence = otherSequence
            }
            bytes[2] = UInt8(sequence >> 8)
            bytes[3] = UInt8(sequence & 0xFF)
            guard let protected = protect(bytes, rtcp: false, by: client) else { return }
            datagram = protected
            authenticRTP += 1
        case 4:
            guard bytes.count >= 8 else { return }
            bytes[0] = 0x80 | (bytes[0] & 0x3F)
            bytes[1] = 192 + bytes[1] % 32  // an RTCP packet type (RFC 5761 §4)
            guard let protected = protect(bytes, rtcp: true, by: client) else { return }
            datagram = protected
        default: break
        }
        guard !datagram.isEmpty else { return }
        let forwardedBefore = harness.core.counters.rtpForwarded
        try? send(datagram, from: source)
        // One authentic RTP packet is forwarded at most to the two others in the room; nothing else is.
        precondition(
            harness.core.counters.rtpForwarded - forwardedBefore <= (selector & 0x07 == 3 ? 2 : 0),
            "a datagram was forwarded that was not authentic media, or to more than the room"
        )
        if inputs % 64 == 0 {
            try? harness.tick(.milliseconds(20))
        }
        // Consent freshness (RFC 7675): the clients check every 2 s of virtual time, as browsers do,
        // or the relay rightly stops sending to them after 30 s.
        if inputs % (64 * 100) == 0 {
            for client in [citizen, staff] {
                try? send(client.bindingRequest(useCandidate: false), from: client.address)
            }
        }
        if inputs % 4096 == 0 { checkVisitStillWorks() }
    }

    /// Real media still flows both ways after whatever came before.
    func checkVisitStillWorks() {
        for (from, to) in [(citizen, staff), (staff, citizen)] {
            to.received.removeAll()
            guard let packet = try? from.rtp(video: false, payload: [0xF0, 0x0D]) else { continue }
            let before = harness.core.counters
            try? send(packet, from: from.address)
            if !to.received.contains(where: { $0.payload == [0xF0, 0x0D] }) {
                print("FUZZ-DIAG from \(from.address.port) seq \(from.audioSequence) inputs \(inputs)")
                print("FUZZ-DIAG before \(before)")
                print("FUZZ-DIAG after  \(harness.core.counters)")
                print("FUZZ-DIAG received by \(to.address.port): \(to.received.count) replayed \(to.replayed)")
                fflush(nil)  // every stream: `stdout` is shared mutable state to Swift 6
            }
            precondition(
                to.received.contains { $0.payload == [0xF0, 0x0D] },
                "the visit stopped forwarding after \(inputs) inputs: \(harness.core.counters)"
            )
        }
    }
}

nonisolated(unsafe) var visit: FuzzVisit?

@_cdecl("LLVMFuzzerTestOneInput") public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if visit == nil { visit = try! FuzzVisit() }
    visit!.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
