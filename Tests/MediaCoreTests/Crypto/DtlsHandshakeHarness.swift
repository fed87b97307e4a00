import MediaCore

/// Two in-process DTLS endpoints joined by a scripted network: each datagram can be dropped or
/// held back, and time only moves when the test says so.
struct DtlsPair: ~Copyable {
    var client: DtlsEndpoint
    var server: DtlsEndpoint
    var now: ContinuousClock.Instant
    var clientEvents: [DtlsEvent] = []
    var serverEvents: [DtlsEvent] = []
    /// Datagrams in flight towards the server / client, in send order.
    var toServer: [[UInt8]] = []
    var toClient: [[UInt8]] = []
    var sentByClient = 0
    var sentByServer = 0

    init(
        clientIdentity: DtlsIdentity,
        serverIdentity: DtlsIdentity,
        clientExpects: DtlsFingerprint? = nil,
        serverExpects: DtlsFingerprint? = nil,
        mtu: Int = DtlsEndpoint.defaultMTU
    ) throws {
        let client = try DtlsEndpoint(
            role: .client,
            identity: clientIdentity,
            remoteFingerprint: clientExpects ?? serverIdentity.fingerprint,
            mtu: mtu
        )
        let server = try DtlsEndpoint(
            role: .server,
            identity: serverIdentity,
            remoteFingerprint: serverExpects ?? clientIdentity.fingerprint,
            mtu: mtu
        )
        self.client = client
        self.server = server
        now = ContinuousClock.now
    }

    mutating func collect() {
        while let d = client.takeOutgoing() {
            toServer.append(d)
            sentByClient += 1
        }
        while let d = server.takeOutgoing() {
            toClient.append(d)
            sentByServer += 1
        }
    }

    mutating func start() {
        if let e = client.start(now: now) { clientEvents.append(e) }
        _ = server.start(now: now)
        collect()
    }

    /// Delivers everything in flight, with `filter` deciding per datagram (by its global index per
    /// direction) whether it is delivered; `reorder` reverses each direction's batch.
    mutating func deliver(reorder: Bool = false, drop: (_ toServer: Bool, _ index: Int) -> Bool = { _, _ in false }) {
        var batchToServer = toServer
        var batchToClient = toClient
        let baseServer = sentByClient - toServer.count
        let baseClient = sentByServer - toClient.count
        toServer = []
        toClient = []
        if reorder {
            batchToServer.reverse()
            batchToClient.reverse()
        }
        for (offset, datagram) in batchToServer.enumerated() where !drop(true, baseServer + offset) {
            if let e = server.receive(datagram.span.bytes, now: now) { serverEvents.append(e) }
        }
        for (offset, datagram) in batchToClient.enumerated() where !drop(false, baseClient + offset) {
            if let e = client.receive(datagram.span.bytes, now: now) { clientEvents.append(e) }
        }
        collect()
    }

    /// Moves the fake clock to the earliest pending timer and fires both endpoints' timers.
    mutating func advanceToNextTimer() -> Bool {
        let deadlines = [client.nextTimeout, server.nextTimeout].compactMap { $0 }
        guard let next = deadlines.min() else { return false }
        now = max(now, next)
        if let e = client.handleTimeout(now: now) { clientEvents.append(e) }
        if let e = server.handleTimeout(now: now) { serverEvents.append(e) }
        collect()
        return true
    }

    var bothConnected: Bool { client.state == .connected && server.state == .connected }
}
