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
    /// sending and lets 2 s pass (slots assigned, first keyframes through).
    mutating func grow(to visitCount: Int) async throws {
        var added: [OpenConnection] = []
        while visits < visitCount {
            added += try await target.join(visit: visits, roles: Array(["citizen", "staff", "interpreter"].prefix(party)), factory: factory)
            visits += 1
        }
        connections += added
        for open in added {
            try await open.waitUntilConnected(to: target.name)
            try await open.onLoop { $0.setSending(true) }
        }
        try await Task.sleep(for: .seconds(2))
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
        return LoadReport(target: target.name, visits: visits, participants: participants, elapsed: elapsed, snapshots: snapshots,
                          counters: counters, relayCPUSeconds: cpu)
    }

    func leave() async {
        await target.leaveAll()
        for open in connections { try? await open.channel.close() }
    }

    func onEach(_ body: @escaping @Sendable (LoadConnection) -> Void) async throws {
        for open in connections { try await open.onLoop(body) }
    }
}
