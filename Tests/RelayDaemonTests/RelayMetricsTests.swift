import MediaCore
import Testing

@testable import RelayDaemon

@Suite("Prometheus metrics")
struct RelayMetricsTests {
    static func snapshot(
        worker: Int,
        forwarded: Int,
        drops: Int = 0,
        lag: Double = 0,
        realtime: Bool = false
    ) -> RelayMetrics.WorkerSnapshot {
        var relay = RelayCounters()
        relay.rtpForwarded = forwarded
        for _ in 0..<drops { relay.drop(.srtpAuthentication) }
        return .init(
            worker: worker,
            relay: relay,
            iceTcp: IceTcpCounters(),
            udpRefused: worker == 0 ? 3 : 0,
            openTCP: 0,
            rooms: 1,
            participants: [.citizen: 1, .staff: 1],
            downlinkEstimates: worker == 0 ? (2, 400_000, 1_000_000) : (1, 900_000, 900_000),
            loopLagSeconds: lag,
            realtime: realtime
        )
    }

    static func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap {
            Double($0.split(separator: " ").last!)
        }
    }

    @Test("counters sum the workers and stay monotonic across scrapes; gauges show the present")
    func scrapes() {
        let metrics = RelayMetrics()
        var text = metrics.render([
            Self.snapshot(worker: 0, forwarded: 100, drops: 2), Self.snapshot(worker: 1, forwarded: 50),
        ])
        #expect(Self.value(text, "visitrelay_rtp_packets_forwarded_total") == 150)
        #expect(Self.value(text, #"visitrelay_dropped_total{reason="srtp_authentication"}"#) == 2)
        #expect(Self.value(text, #"visitrelay_participants{role="citizen"}"#) == 2)
        #expect(Self.value(text, "visitrelay_rooms") == 2)
        #expect(Self.value(text, "visitrelay_udp_send_refused_total") == 3)
        #expect(Self.value(text, "visitrelay_downlink_estimate_min_bps") == 400_000)
        #expect(Self.value(text, "visitrelay_downlink_estimate_mean_bps") == 633_333)
        #expect(Self.value(text, "visitrelay_workers_realtime") == 0)
        text = metrics.render([
            Self.snapshot(worker: 0, forwarded: 130, drops: 2, lag: 0.004, realtime: true),
            Self.snapshot(worker: 1, forwarded: 50),
        ])
        #expect(Self.value(text, "visitrelay_workers_realtime") == 1)
        #expect(Self.value(text, "visitrelay_rtp_packets_forwarded_total") == 180)
        #expect(Self.value(text, "visitrelay_worker_loop_lag_seconds") == 0.004)
        #expect(text.contains("# TYPE visitrelay_rtp_packets_forwarded_total counter"))
    }

    @Test("joins are counted by outcome")
    func joins() {
        let metrics = RelayMetrics()
        metrics.recordJoin(outcome: "joined")
        metrics.recordJoin(outcome: "joined")
        metrics.recordJoin(outcome: "token-expired")
        let text = metrics.render([])
        #expect(Self.value(text, #"visitrelay_joins_total{outcome="joined"}"#) == 2)
        #expect(Self.value(text, #"visitrelay_joins_total{outcome="token-expired"}"#) == 1)
    }

    @Test("ended sessions are counted by reason")
    func sessionsEnded() {
        let metrics = RelayMetrics()
        metrics.recordSessionEnd(reason: .consentExpired)
        metrics.recordSessionEnd(reason: .neverConnected)
        metrics.recordSessionEnd(reason: .neverConnected)
        let text = metrics.render([])
        #expect(Self.value(text, #"visitrelay_sessions_ended_total{reason="never-connected"}"#) == 2)
        #expect(Self.value(text, #"visitrelay_sessions_ended_total{reason="consent-expired"}"#) == 1)
    }
}
