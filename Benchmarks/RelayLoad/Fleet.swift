import NIOCore

/// The simulated participants of every visit against one SFU, `party` per visit.
struct Fleet {
    let target: any LoadTarget
    let factory: ConnectionFactory
    let party: Int
    private(set) var visits = 0
    private(set) var connections: [OpenConnection] = []

    init(target: any LoadTarget, factory: ConnectionFactory, party: Int) {
        self.target = target
        self.factory = factory
        self.party = party
    }

    var participants: Int { visits * party }

    /// Joins visits until there are `target`, waits for every new connection's DTLS, starts them
    /// sending and lets the starts and 2 s pass (slots assigned, first keyframes through).
    ///
    /// The new senders start spread evenly over one turn of the looped video. Each sender's loop
    /// begins with its keyframe; started together, every sender's keyframe (several delta frames'
    /// worth of packets) came in the same instant, every turn: a burst no set of real visits makes,
    /// which queued everything behind it in the SFU and was most of relay-load's p99 latency.
    mutating func grow(to visitCount: Int) async throws {
        var added: [OpenConnection] = []
        while visits < visitCount {
            added += try await target.join(
                visit: visits,
                roles: Array(["citizen", "staff", "interpreter"].prefix(party)),
                factory: factory
            )
            visits += 1
        }
        connections += added
        for open in added { try await open.waitUntilConnected(to: target.name) }
        try await startSending(added)
    }

    /// Stops every sender (their connections stay up: ICE consent, DTLS, the SFU's sessions), so
    /// another SFU can be measured alone and this one resumed later.
    func pause() async throws {
        try await onEach { $0.setSending(false) }
    }

    /// Starts every sender again, spread as when they joined, and lets the starts and 2 s pass.
    func resume() async throws {
        try await startSending(connections)
    }

    private func startSending(_ senders: [OpenConnection]) async throws {
        let turn = factory.media.loopDuration
        for (index, open) in senders.enumerated() {
            let delay = TimeAmount.nanoseconds(turn.nanoseconds * Int64(index) / Int64(senders.count))
            try await open.onLoop { $0.setSending(true, after: delay) }
        }
        try await Task.sleep(for: .nanoseconds(turn.nanoseconds) + .seconds(2))
    }

    /// Resets every counter, measures for `seconds`, and reports.
    func measure(seconds: Int, sfuPid: Int32?) async throws -> LoadReport {
        try await onEach { $0.resetCounters() }
        let before = try await target.counters()
        let cpuBefore = sfuPid.flatMap(ProcessCPU.seconds)
        let began = ContinuousClock.now
        try await Task.sleep(for: .seconds(seconds))
        let elapsed = ContinuousClock.now - began
        var snapshots: [LoadConnection.Snapshot] = []
        for open in connections { snapshots.append(try await open.onLoop { $0.snapshot }) }
        let cpuAfter = sfuPid.flatMap(ProcessCPU.seconds)
        let after = try await target.counters()
        var cpu: Double?
        if let cpuBefore, let cpuAfter { cpu = cpuAfter - cpuBefore }
        var counters: SFUCounters?
        if let before, let after { counters = after - before }
        return LoadReport(
            target: target.name,
            visits: visits,
            party: party,
            elapsed: elapsed,
            snapshots: snapshots,
            counters: counters,
            relayCPUSeconds: cpu
        )
    }

    func leave() async {
        await target.leaveAll()
        for open in connections { try? await open.channel.close() }
    }

    func onEach(_ body: @escaping @Sendable (LoadConnection) -> Void) async throws {
        for open in connections { try await open.onLoop(body) }
    }
}
