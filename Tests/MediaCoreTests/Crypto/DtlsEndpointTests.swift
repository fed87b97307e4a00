import MediaCore
import Testing

@Suite("DTLS endpoint")
struct DtlsEndpointTests {
    static let relay = try! DtlsIdentity(commonName: "relay")
    static let browser = try! DtlsIdentity(commonName: "browser")

    /// Runs deliveries and timers until both sides are connected or `rounds` is exhausted.
    static func run(_ pair: inout DtlsPair, rounds: Int = 40, drop: (Bool, Int) -> Bool = { _, _ in false }) {
        for _ in 0..<rounds where !pair.bothConnected {
            if pair.toServer.isEmpty && pair.toClient.isEmpty {
                guard pair.advanceToNextTimer() else { return }
            }
            pair.deliver(drop: drop)
        }
    }

    @Test("handshake completes and keys agree", arguments: [false, true])
    func handshake(relayIsClient: Bool) throws {
        var pair = try DtlsPair(
            clientIdentity: relayIsClient ? Self.relay : Self.browser,
            serverIdentity: relayIsClient ? Self.browser : Self.relay
        )
        pair.start()
        Self.run(&pair)
        let connected = pair.bothConnected
        #expect(connected)
        let version = pair.client.protocolVersion
        #expect(version == 0xFEFD)
        let clientKeys = try #require(pair.client.keyingMaterial as SrtpKeyingMaterial?)
        let serverKeys = try #require(pair.server.keyingMaterial as SrtpKeyingMaterial?)
        #expect(clientKeys.profile == .aeadAes128Gcm, "GCM is preferred when both offer it")
        #expect(clientKeys.local == serverKeys.remote)
        #expect(clientKeys.remote == serverKeys.local)
        #expect(clientKeys.local != clientKeys.remote)
        let timersIdle = pair.client.nextTimeout == nil && pair.server.nextTimeout == nil
        #expect(timersIdle)
        let clientEvents = pair.clientEvents
        let serverEvents = pair.serverEvents
        #expect(clientEvents == [.connected(clientKeys)])
        #expect(serverEvents == [.connected(serverKeys)])
    }

    @Test("flights stay within the MTU")
    func flightsRespectMTU() throws {
        var pair = try DtlsPair(clientIdentity: Self.browser, serverIdentity: Self.relay)
        pair.start()
        var largest = 0
        for _ in 0..<10 where !pair.bothConnected {
            largest = max(largest, (pair.toServer + pair.toClient).map(\.count).max() ?? 0)
            pair.deliver()
        }
        let connected = pair.bothConnected
        #expect(connected)
        #expect(largest <= DtlsEndpoint.defaultMTU)
    }

    /// Identifies a datagram's role in the handshake so a test can drop "the first transmission of
    /// each kind": (direction, record content type, epoch, handshake message type for clear records).
    static func kind(_ toServer: Bool, _ d: [UInt8]) -> [Int] {
        let epoch = d.count > 4 ? Int(d[3]) << 8 | Int(d[4]) : -1
        let message = d.count > 13 && d[0] == 22 && epoch == 0 ? Int(d[13]) : -1
        return [toServer ? 1 : 0, Int(d.first ?? 0), epoch, message]
    }

    @Test("every flight's first transmission dropped: retransmission on the fake clock recovers")
    func dropEachFirstFlightOnce() throws {
        var pair = try DtlsPair(clientIdentity: Self.browser, serverIdentity: Self.relay)
        pair.start()
        let start = pair.now
        var seen: Set<[Int]> = []
        var dropped = 0
        for _ in 0..<80 where !pair.bothConnected {
            if pair.toServer.isEmpty && pair.toClient.isEmpty {
                guard pair.advanceToNextTimer() else { break }
            }
            let batch = pair.toServer.map { Self.kind(true, $0) } + pair.toClient.map { Self.kind(false, $0) }
            let serverCount = pair.toServer.count
            var verdicts: [Bool] = []
            for k in batch { verdicts.append(seen.insert(k).inserted) }
            dropped += verdicts.filter { $0 }.count
            var serverIndex = 0
            var clientIndex = 0
            pair.deliver { toServer, _ in
                if toServer {
                    defer { serverIndex += 1 }
                    return verdicts[serverIndex]
                }
                defer { clientIndex += 1 }
                return verdicts[serverCount + clientIndex]
            }
        }
        let connected = pair.bothConnected
        #expect(connected)
        #expect(dropped >= 8, "ClientHello, the server's flight, the client's flight and the final flight")
        // Nothing moved without the clock: recovery needed at least two timeouts.
        let elapsed = pair.now - start
        #expect(elapsed >= DtlsEndpoint.RetransmitPolicy().initialTimeout * 2)
    }

    @Test("a small MTU fragments flights; a reordered flight and a lost flight still connect")
    func reorderAndLoss() throws {
        let mtu = 300
        var pair = try DtlsPair(clientIdentity: Self.relay, serverIdentity: Self.browser, mtu: mtu)
        pair.start()
        pair.deliver()  // ClientHello reaches the server; its flight comes back
        let serverFlight = pair.toClient
        #expect(serverFlight.count > 1, "at this MTU the server flight spans several datagrams")
        #expect(serverFlight.allSatisfy { $0.count <= mtu })
        pair.deliver(reorder: true)  // server flight arrives in reverse order
        var rounds = 0
        // Drop everything the server sends once, then let it through.
        var droppedOnce = false
        while !pair.bothConnected && rounds < 40 {
            rounds += 1
            if pair.toServer.isEmpty && pair.toClient.isEmpty {
                guard pair.advanceToNextTimer() else { break }
            }
            pair.deliver { toServer, _ in
                if !toServer && !droppedOnce {
                    droppedOnce = true
                    return true
                }
                return false
            }
        }
        let connected = pair.bothConnected
        #expect(connected)
    }

    @Test("retransmission backs off and gives up when nothing answers")
    func retransmissionLimit() throws {
        var client = try DtlsEndpoint(
            role: .client,
            identity: Self.browser,
            remoteFingerprint: Self.relay.fingerprint,
            retransmit: .init(
                initialTimeout: .milliseconds(100),
                maximumTimeout: .milliseconds(400),
                maximumRetransmissions: 3
            )
        )
        var now = ContinuousClock.now
        _ = client.start(now: now)
        let hello = client.takeOutgoing()
        #expect(hello != nil)
        var gaps: [Duration] = []
        var last = now
        var failure: DtlsEvent?
        while let deadline = client.nextTimeout {
            // Firing early does nothing.
            let early = client.handleTimeout(now: deadline - .milliseconds(1))
            #expect(early == nil)
            now = deadline
            gaps.append(now - last)
            last = now
            failure = client.handleTimeout(now: now)
            if failure == nil {
                let resent = client.takeOutgoing()
                #expect(resent != nil, "each timeout resends the ClientHello")
            }
        }
        #expect(gaps == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(400)])
        #expect(failure == .failed(.retransmissionLimitReached(attempts: 3)))
    }

    @Test("fingerprint mismatch aborts the handshake on the side that checks it", arguments: [false, true])
    func fingerprintMismatch(serverChecks: Bool) throws {
        let stranger = try DtlsIdentity(commonName: "stranger")
        var pair = try DtlsPair(
            clientIdentity: Self.browser,
            serverIdentity: Self.relay,
            clientExpects: serverChecks ? nil : stranger.fingerprint,
            serverExpects: serverChecks ? stranger.fingerprint : nil
        )
        pair.start()
        Self.run(&pair, rounds: 10)
        let connected = pair.bothConnected
        #expect(!connected)
        let checker = serverChecks ? pair.server.state : pair.client.state
        guard case .failed(.fingerprintMismatch(let expected, _)) = checker else {
            Issue.record("expected a fingerprint mismatch, got \(checker)")
            return
        }
        #expect(expected == stranger.fingerprint)
        let serverKeys = pair.server.keyingMaterial
        #expect(serverKeys == nil || !serverChecks)
        let clientKeys = pair.client.keyingMaterial
        #expect(clientKeys == nil || serverChecks)
    }

    @Test func fingerprintText() throws {
        let fp = Self.relay.fingerprint
        #expect(fp.hex.count == 32 * 3 - 1)
        #expect(DtlsFingerprint(hex: fp.hex) == fp)
        #expect(DtlsFingerprint(hex: fp.hex.lowercased()) == fp)
        #expect(fp.sdpValue.hasPrefix("sha-256 "))
        #expect(DtlsFingerprint(hex: "AB:CD") == nil)
        #expect(DtlsFingerprint(hex: String(fp.hex.dropLast())) == nil)
    }
}
