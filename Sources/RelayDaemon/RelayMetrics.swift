import MediaCore
import Metrics
import NIOConcurrencyHelpers
import Prometheus

/// The relay's Prometheus metrics (`GET /metrics`), through swift-metrics with the swift-prometheus
/// factory on a registry of our own (no global bootstrap, so tests can make their own).
///
/// The data path never touches these: each worker keeps plain integer counters (`RelayCounters`,
/// `IceTcpCounters`) that only its event loop writes. A scrape reads a snapshot from every worker on
/// its loop and adds what changed since the previous scrape, so counters stay monotonic.
final class RelayMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let state = NIOLockedValueBox(State())

    private struct State {
        /// The last snapshot per worker, and per counter name what was already added.
        var previous: [Int: [String: Int]] = [:]
    }

    init() {
        factory = PrometheusMetricsFactory(registry: registry)
    }

    /// One worker's counters at scrape time.
    struct WorkerSnapshot: Sendable {
        var worker: Int
        var relay: RelayCounters
        var iceTcp: IceTcpCounters
        /// UDP datagrams the kernel refused to send (`DatagramSender`).
        var udpRefused: Int
        var openTCP: Int
        var rooms: Int
        var participants: [ParticipantRole: Int]
        /// Receivers with a downlink estimate, the lowest estimate and their sum, bits/s.
        var downlinkEstimates: (count: Int, minimumBps: UInt64, sumBps: UInt64)
        /// Worst delay of the worker's 10 ms tick behind its schedule since the previous scrape.
        var loopLagSeconds: Double
        /// Whether the worker's thread runs under SCHED_RR (`media.realtime_priority`).
        var realtime = false
    }

    /// Counters exported as `visitrelay_<name>_total`, read from a snapshot.
    static let counters: [(name: String, help: String, read: @Sendable (WorkerSnapshot) -> Int)] = [
        ("datagrams_received", "Datagrams received on UDP and ICE-TCP", { $0.relay.datagramsIn }),
        ("bytes_received", "Bytes received", { $0.relay.bytesIn }),
        ("rtp_packets_forwarded", "RTP packets forwarded to receivers", { $0.relay.rtpForwarded }),
        ("bytes_forwarded", "RTP bytes forwarded to receivers", { $0.relay.bytesForwarded }),
        ("rtcp_packets_received", "RTCP compound packets received", { $0.relay.rtcpIn }),
        ("keyframe_requests_sent", "PLI/FIR keyframe requests sent to senders", { $0.relay.keyframeRequestsSent }),
        ("nacks_sent", "Generic NACK packets sent to senders", { $0.relay.nacksSent }),
        ("nacked_packets", "Sequence numbers asked for in NACKs to senders", { $0.relay.nackedPackets }),
        (
            "recovered_by_retransmission", "Sender retransmissions forwarded as the original packets",
            { $0.relay.recoveredByRetransmission }
        ),
        ("retransmissions_sent", "Receiver NACKs answered from the RTX cache", { $0.relay.retransmissionsSent }),
        (
            "audio_recovered_by_redundancy", "Opus packets an uplink lost that the sender's RED brought",
            { $0.relay.audioRecoveredByRedundancy }
        ),
        (
            "audio_recovered_by_retransmission", "Opus packets an uplink lost that a sender retransmitted on our NACK",
            {
                $0.relay.audioRecoveredByRetransmission
            }
        ),
        (
            "audio_redundant_blocks_sent", "Earlier Opus packets repeated in RED towards receivers",
            { $0.relay.audioRedundantBlocksSent }
        ),
        (
            "audio_inband_fec_received", "Opus packets from senders carrying in-band FEC (SILK LBRR)",
            { $0.relay.audioInbandFECReceived }
        ),
        (
            "audio_retransmissions_sent", "Receiver NACKs for audio answered from the audio cache",
            { $0.relay.audioRetransmissionsSent }
        ),
        (
            "retransmissions_unavailable",
            "Receiver NACKs for video the RTX cache could not serve (not held, or held too long)",
            {
                $0.relay.retransmissionsUnavailable
            }
        ),
        (
            "audio_retransmissions_unavailable",
            "Receiver NACKs for audio not answered: not held, or past the repair horizon",
            {
                $0.relay.audioRetransmissionsUnavailable
            }
        ),
        (
            "retransmissions_suppressed", "Receiver NACKs for a packet the relay resent within the last RTT",
            { $0.relay.retransmissionsSuppressed }
        ),
        ("packets_paced", "Video packets and retransmissions queued in a receiver's pacer", { $0.relay.packetsPaced }),
        (
            "pacer_overflowed", "Video packets sent unpaced because the receiver's pacer was full",
            { $0.relay.pacerOverflowed }
        ),
        (
            "pacer_undeliverable", "Paced packets given up because the receiver's path had gone",
            { $0.relay.pacedUndeliverable }
        ),
        (
            "video_dropped_unreachable",
            "Queued video and retransmissions dropped while the receiver's feedback was silent (an outage)",
            {
                $0.relay.videoDroppedUnreachable
            }
        ),
        (
            "audio_dropped_unreachable", "Audio packets not sent while the receiver's feedback was silent (an outage)",
            {
                $0.relay.audioDroppedUnreachable
            }
        ),
        (
            "transport_feedback_sent", "Transport-wide congestion control feedback packets sent to senders",
            { $0.relay.transportFeedbackSent }
        ),
        (
            "video_pauses", "Times video towards a receiver was paused below the floor of its downlink",
            { $0.relay.videoPauses }
        ),
        ("video_resumes", "Times paused video towards a receiver resumed", { $0.relay.videoResumes }),
        (
            "simulcast_layer_switches", "Times a receiver was moved to another simulcast encoding of a sender",
            { $0.relay.layerSwitches }
        ),
        (
            "padding_probes_sent", "Padding-only RTP probes sent towards receivers with paused video",
            { $0.relay.paddingProbesSent }
        ),
        (
            "transport_feedback_received", "Transport-wide congestion control feedback packets received from receivers",
            { $0.relay.transportFeedbackReceived }
        ),
        (
            "address_latches", "Participants moved to a new address by authenticated SRTP (handover, NAT rebinding)",
            { $0.relay.addressLatches }
        ),
        ("rembs_sent", "REMB messages sent to cap senders at the operator's bitrate limits", { $0.relay.rembsSent }),
        ("frames_assembled", "VP8 frames received complete", { $0.relay.framesAssembled }),
        (
            "dtls_failures", "DTLS handshakes or records that failed (bad fingerprint, alert, garbage)",
            { $0.relay.dropped(.dtlsFailed) }
        ),
        (
            "udp_send_refused",
            "UDP datagrams the kernel refused to send (send buffer full, destination unreachable or filtered)",
            {
                $0.udpRefused
            }
        ),
        ("ice_tcp_connections_accepted", "ICE-TCP connections accepted", { $0.iceTcp.accepted }),
        ("ice_tcp_connections_rejected", "ICE-TCP connections refused at the per-worker limit", { $0.iceTcp.rejected }),
        (
            "ice_tcp_send_dropped", "Datagrams dropped for a full ICE-TCP send queue or a closed connection",
            {
                $0.iceTcp.droppedQueueFull + $0.iceTcp.droppedNoConnection
            }
        ),
    ]

    /// Adds one scrape's snapshots and returns the exposition text.
    func render(_ snapshots: [WorkerSnapshot]) -> String {
        var rooms = 0
        var participants: [ParticipantRole: Int] = [:]
        var lag = 0.0
        var realtimeWorkers = 0
        var openTCP = 0
        var estimated = 0
        var lowestEstimate = UInt64.max
        var estimateSum: UInt64 = 0
        state.withLockedValue { state in
            for snapshot in snapshots {
                var seen = state.previous[snapshot.worker] ?? [:]
                func add(_ key: String, _ label: String, dimensions: [(String, String)] = [], value: Int) {
                    let delta = value - (seen[key] ?? 0)
                    seen[key] = value
                    let counter = Counter(label: label, dimensions: dimensions, factory: factory)
                    if delta > 0 { counter.increment(by: delta) }
                }
                for entry in Self.counters {
                    add(entry.name, "visitrelay_\(entry.name)_total", value: entry.read(snapshot))
                }
                for reason in KeyframeReason.allCases {
                    add(
                        "keyframe." + reason.description,
                        "visitrelay_keyframe_requests_total",
                        dimensions: [("reason", reason.description)],
                        value: snapshot.relay.keyframeRequestsSent(for: reason)
                    )
                }
                for reason in DropReason.allCases {
                    add(
                        "drop." + reason.description,
                        "visitrelay_dropped_total",
                        dimensions: [("reason", reason.description)],
                        value: snapshot.relay.dropped(reason)
                    )
                }
                state.previous[snapshot.worker] = seen
                rooms += snapshot.rooms
                openTCP += snapshot.openTCP
                lag = max(lag, snapshot.loopLagSeconds)
                if snapshot.realtime { realtimeWorkers += 1 }
                for (role, count) in snapshot.participants { participants[role, default: 0] += count }
                if snapshot.downlinkEstimates.count > 0 {
                    estimated += snapshot.downlinkEstimates.count
                    lowestEstimate = min(lowestEstimate, snapshot.downlinkEstimates.minimumBps)
                    estimateSum += snapshot.downlinkEstimates.sumBps
                }
            }
        }
        Gauge(label: "visitrelay_rooms", factory: factory).record(rooms)
        for role in ParticipantRole.allCases {
            Gauge(label: "visitrelay_participants", dimensions: [("role", role.rawValue)], factory: factory).record(
                participants[role] ?? 0
            )
        }
        Gauge(label: "visitrelay_ice_tcp_connections_open", factory: factory).record(openTCP)
        Gauge(label: "visitrelay_worker_loop_lag_seconds", factory: factory).record(lag)
        // Below media.workers when media.realtime_priority is set: the kernel refused SCHED_RR.
        Gauge(label: "visitrelay_workers_realtime", factory: factory).record(realtimeWorkers)
        // The relay's estimates of the paths towards receivers (0 while none has feedback).
        Gauge(label: "visitrelay_downlink_estimate_min_bps", factory: factory).record(
            estimated > 0 ? Int(lowestEstimate) : 0
        )
        Gauge(label: "visitrelay_downlink_estimate_mean_bps", factory: factory).record(
            estimated > 0 ? Int(estimateSum) / estimated : 0
        )
        return registry.emitToString()
    }

    /// A join refused or admitted, by outcome (`joined`, `room-full`, `token-expired`, ...).
    func recordJoin(outcome: String) {
        Counter(label: "visitrelay_joins_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// A session ended, by reason (`left`, `replaced`, `never-connected`, `consent-expired`,
    /// `dtls-failed`, `dtls-closed`: `SessionEndReason`).
    func recordSessionEnd(reason: SessionEndReason) {
        Counter(label: "visitrelay_sessions_ended_total", dimensions: [("reason", reason.rawValue)], factory: factory)
            .increment()
    }
}
