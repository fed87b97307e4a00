// The signaling request bodies: what `POST /api/rooms/{room}/participants` and the ICE-restart
// `PATCH /api/sessions/{id}` hand the relay core (an SDP offer of up to 64 KiB, any bytes). A join
// either fails with a typed `JoinError` or admits the participant with an answer that parses and
// carries our ICE-lite credentials; an ICE restart with the same body behaves the same; leaving
// puts the room back as it was. One core lives for the whole run, so leaks of rooms or addresses
// from failed joins would show as growth.

@testable import MediaCore

final class FuzzSignaling {
    var core: RelayCore
    var now = ContinuousClock.now
    var inputs = 0

    init() throws {
        core = RelayCore(
            configuration: RelayCoreConfiguration(announcedAddress: TransportAddress(ipv4: 0x7F00_0001, port: 40_000)),
            identity: try DtlsIdentity(commonName: "relay"),
            seed: 11
        )
    }

    func run(_ input: UnsafeRawBufferPointer) {
        inputs += 1
        guard input.count <= 64 * 1024 else { return }  // signaling refuses larger bodies with 413
        let offer = String(decoding: input, as: UTF8.self)
        let roomsBefore = core.roomCount
        let result: JoinResult
        do {
            result = try core.join(room: "fuzz", role: .citizen, offer: offer, now: now)
        } catch {
            precondition(core.roomCount == roomsBefore, "a refused join left a room behind")
            return
        }
        let answer = try! SDPParser().parse(result.answerSDP)
        precondition(
            answer.media.count > 0 && result.answerSDP.contains("a=ice-lite"),
            "an accepted offer got an empty answer"
        )
        precondition(core.roomView(for: result.participant) != nil, "a joined participant has no room view")
        if let restarted = try? core.restartIce(result.participant, offer: offer, now: now) {
            precondition((try? SDPParser().parse(restarted)) != nil, "an ICE restart answer does not parse")
        }
        core.leave(result.participant, now: now)
        precondition(core.roomCount == roomsBefore, "leaving did not empty the room")
        now += .milliseconds(10)
        _ = core.takeEvents()
    }
}

nonisolated(unsafe) var signaling: FuzzSignaling?

@_cdecl("LLVMFuzzerTestOneInput") public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if signaling == nil { signaling = try! FuzzSignaling() }
    signaling!.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
