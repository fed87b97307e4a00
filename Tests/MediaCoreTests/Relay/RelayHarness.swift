import ClientPeer

@testable import MediaCore

/// Routes datagrams between test clients and one relay core, in process, on a fake clock.
struct RelayHarness: ~Copyable {
    var core: RelayCore
    var output = OutgoingDatagrams(capacity: 64)
    var clients: [TransportAddress: RelayTestClient] = [:]
    var now = ContinuousClock.now
    /// Datagrams to lose on their way to a client (a lossy downlink), by address.
    var dropTowards: [TransportAddress: Int] = [:]
    static let relayAddress = TransportAddress(ipv4: 0x7F00_0001, port: 40_000)

    static let relayTCPAddress = TransportAddress(ipv4: 0x7F00_0001, port: 40_100, transport: .tcp)

    init(identity: DtlsIdentity, relayNack: Bool = true, iceTCP: Bool = false) {
        self.init(
            identity: identity,
            configuration: RelayCoreConfiguration(
                announcedAddress: Self.relayAddress,
                announcedTCPAddress: iceTCP ? Self.relayTCPAddress : nil,
                maxParticipantsPerRoom: 3,
                relayNack: relayNack
            )
        )
    }

    init(identity: DtlsIdentity, configuration: RelayCoreConfiguration, seed: UInt64 = 42) {
        core = RelayCore(configuration: configuration, identity: identity, seed: seed)
    }

    /// Hands the relay one datagram from `address` (which may be no client's) without delivering.
    mutating func receive(_ datagram: [UInt8], from address: TransportAddress) {
        var copy = datagram + [UInt8](repeating: 0, count: 64)
        copy.withUnsafeMutableBytes { core.receive($0, length: datagram.count, from: address, now: now, into: &output) }
    }

    /// Sends one datagram from `client` and delivers whatever the relay sends in response.
    mutating func send(_ datagram: [UInt8], from client: RelayTestClient) throws {
        var copy = datagram + [UInt8](repeating: 0, count: 64)
        copy.withUnsafeMutableBytes {
            core.receive($0, length: datagram.count, from: client.address, now: now, into: &output)
        }
        try deliver()
    }

    mutating func tick(_ step: Duration = .milliseconds(10)) throws {
        now += step
        core.handleTimers(now: now, into: &output)
        try deliver()
    }

    mutating func deliver() throws {
        var batch: [([UInt8], TransportAddress)] = []
        for i in 0..<output.count {
            let (bytes, destination) = output.datagram(at: i)
            batch.append((Array(bytes), destination))
        }
        output.removeAll()
        for (bytes, destination) in batch {
            guard let client = clients[destination] else { continue }
            if let pending = dropTowards[destination], pending > 0 {
                dropTowards[destination] = pending - 1
                continue
            }
            try client.receive(bytes, now: now)
            // The client answers DTLS flights at once.
            while let reply = client.transport.takeDtlsOutgoing() { try send(reply, from: client) }
        }
    }

    /// A citizen and a staff member joined to `room` and connected, on the given client ports.
    mutating func visit(
        room: String,
        ports: (UInt16, UInt16)
    ) throws
        -> (RelayTestClient, RelayTestClient, ParticipantID, ParticipantID)
    {
        let fingerprint = core.identity.fingerprint
        let citizen = try RelayTestClient(port: ports.0, relayFingerprint: fingerprint, seed: 1)
        let staff = try RelayTestClient(port: ports.1, relayFingerprint: fingerprint, seed: 2)
        let citizenID = try connect(citizen, room: room, role: .citizen)
        let staffID = try connect(staff, room: room, role: .staff)
        return (citizen, staff, citizenID, staffID)
    }

    /// Joins a client: offer/answer (its own offer unless one is given), ICE check with nomination,
    /// DTLS handshake.
    mutating func connect(
        _ client: RelayTestClient,
        room: String,
        role: ParticipantRole,
        offer: String? = nil
    ) throws -> ParticipantID {
        let result = try core.join(room: room, role: role, offer: offer ?? client.offer(slots: 2), now: now)
        client.accept(answer: result.answerSDP)
        clients[client.address] = client
        try send(client.bindingRequest(), from: client)
        _ = client.transport.startDtls(now: now)
        while let hello = client.transport.takeDtlsOutgoing() { try send(hello, from: client) }
        return result.participant
    }
}
