import ArgumentParser
import BweSimulation
import Foundation
import LinkModel
import MediaCore

/// `bwe-sim`: the relay's send-side estimator and allocator over recorded cellular links, in
/// virtual time, with our parameters (`rural4G`) and libwebrtc's (`gcc`) side by side.
@main
struct BweSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bwe-sim",
        abstract: "Trace-driven simulation of the relay's bandwidth estimator and allocator.",
        discussion: """
            Each trace runs once per parameter set. Per run it prints goodput, utilisation of the
            link's capacity, queueing delay p50/p95, loss, seconds with video paused, and writes an
            SVG of capacity, estimate and send rate. Without --trace or --synthetic it runs the
            issue's goal traces; --seeds runs many synthetic rural links and every recorded uplink
            and summarises them.
            """
    )

    @Option(help: "A mahimahi trace, relative to --traces-dir (repeatable).")
    var trace: [String] = []

    @Option(help: "Directory of the traces (default: the repository's Traces/, or VISITRELAY_TRACES).")
    var tracesDir: String?

    @Option(
        help:
            "A synthetic trace: rural-markov (a Markov model of a rural cell, drawn from --seed; see RuralMarkovTrace). Repeatable."
    )
    var synthetic: [String] = []

    @Option(
        help:
            "Distribution mode: rural-markov traces for seeds A-B (e.g. 101-120) and every recorded uplink (*.up) in the traces directory; prints each run, then the median and worst per group and parameter set."
    )
    var seeds: String?

    @Option(help: "Seconds of each synthetic trace.")
    var syntheticSeconds: Double = 1200

    @Option(
        help:
            "Link settings: recorded (deep buffer, no added loss) or rural (rural-4g: 60 KB, jitter, 2 % loss). Default: rural for synthetic rural traces, recorded otherwise."
    )
    var link: String?

    @Option(help: "Seconds to simulate (default: the whole trace, at most 1200).")
    var seconds: Double?

    @Option(help: "Parameter sets to run, comma-separated: rural4g, gcc.")
    var parameters: String = "rural4g,gcc"

    @Option(help: "Change one of rural4g's parameters, name=value (repeatable); see --list-parameters.")
    var set: [String] = []

    @Flag(help: "List the tunable parameters with their rural4g and gcc values, and exit.")
    var listParameters = false

    @Option(help: "Seed of the link's random loss and jitter.")
    var seed: UInt64 = 7

    @Option(help: "The model encoder skips a frame when the pacer holds this much video, ms.")
    var frameDropMs: Double = 50

    @Option(
        help:
            "Pacings to run, comma-separated: relay (the relay's own, DownlinkPacing), sender (a sender that controls its encoder: audio paced, the estimator's 100 ms window)."
    )
    var pacing: String = "relay,sender"

    @Option(
        help: "How far beyond the RTT the pacer's congestion window reaches, ms (default: the relay's, DownlinkPacing)."
    )
    var windowAllowanceMs: Int?

    @Option(
        help:
            "How long the window may hold video before it goes on at the pacing rate, ms; 0: for as long as it is full (default: the relay's, DownlinkPacing)."
    )
    var holdLimitMs: Int?

    @Option(
        help:
            "Feedback silent this long takes the receiver to be unreachable (an outage), ms (default: the relay's, DownlinkPacing)."
    )
    var outageSilenceMs: Int?

    @Option(help: "Directory for the SVG plots.")
    var plotDir: String = ".build/bwe-sim"

    @Option(help: "Write the results as JSON here.")
    var json: String?

    @Flag(
        help:
            "Fail (exit 1) unless rural4g with a sender's pacing meets the goal on every trace: queueing delay p95 <= 200 ms at utilisation >= 60 %."
    )
    var checkGoal = false

    static let goalTraces = [
        "ATT-LTE-driving.up", "TMobile-UMTS-driving.up", "synthetic/rfc8867-tc5.1-0.6mbps-rural.mm",
    ]

    /// One trace to run: its name, its capacity, the seed of the link's loss and jitter, and the
    /// group it is summarised in (distribution mode).
    struct Source {
        var name: String
        var delivery: DeliveryTrace
        var linkSeed: UInt64
        var group: String
    }

    /// What to run: distribution mode's seeds and recorded uplinks, or --trace and --synthetic (the
    /// goal traces when neither is given).
    func sources(in directory: String) throws -> [Source] {
        func rural(_ seed: UInt64, group: String) -> Source {
            Source(
                name: "rural-markov-\(seed)",
                delivery: RuralMarkovTrace.generate(seed: seed, seconds: syntheticSeconds),
                linkSeed: seed,
                group: group
            )
        }
        if let seeds {
            let bounds = seeds.split(separator: "-").compactMap { UInt64($0) }
            guard bounds.count == 2, bounds[0] <= bounds[1] else {
                throw ValidationError("--seeds \(seeds): expected A-B, e.g. 101-120")
            }
            let uplinks = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".up") }
                .sorted()
            var list = try uplinks.map {
                Source(
                    name: $0,
                    delivery: try TraceDirectory.load($0, from: directory),
                    linkSeed: seed,
                    group: "recorded uplinks"
                )
            }
            list += (bounds[0]...bounds[1]).map { rural($0, group: "rural-markov \(seeds)") }
            return list
        }
        for name in synthetic where name != "rural-markov" {
            throw ValidationError("unknown synthetic trace \(name): rural-markov")
        }
        let files = trace.isEmpty && synthetic.isEmpty ? Self.goalTraces : trace
        return try files.map {
            Source(name: $0, delivery: try TraceDirectory.load($0, from: directory), linkSeed: seed, group: "traces")
        }
            + synthetic.map { _ in rural(seed, group: "rural-markov") }
    }

    func run() throws {
        if listParameters {
            for (name, _) in Self.tunables {
                print("\(name)  rural4g=\(Self.value(name, of: .rural4G))  gcc=\(Self.value(name, of: .gccDefaults))")
            }
            return
        }
        var ours = SendSideEstimatorParameters.rural4G
        for assignment in set {
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let apply = Self.tunables.first(where: { $0.0 == parts[0] })?.1,
                let value = Double(parts[1])
            else {
                throw ValidationError("--set \(assignment): expected name=number with a name from --list-parameters")
            }
            apply(&ours, value)
        }
        let directory = try TraceDirectory.locate(explicit: tracesDir)
        let sources = try self.sources(in: directory)
        let sets = try parameters.split(separator: ",").map { name -> (String, SendSideEstimatorParameters, String) in
            switch name.trimmingCharacters(in: .whitespaces) {
            case "rural4g": return ("rural4g", ours, "#1f77b4")
            case "gcc": return ("gcc", .gccDefaults, "#d62728")
            default: throw ValidationError("unknown parameter set \(name): rural4g or gcc")
            }
        }
        var relayPacing = DownlinkPacing()
        if let windowAllowanceMs { relayPacing.windowAllowance = .milliseconds(windowAllowanceMs) }
        if let holdLimitMs { relayPacing.pacer.windowHoldLimit = holdLimitMs > 0 ? .milliseconds(holdLimitMs) : nil }
        if let outageSilenceMs { relayPacing.outageSilence = .milliseconds(outageSilenceMs) }
        let pacings = try pacing.split(separator: ",").map { name -> SimulatedPacing in
            switch name.trimmingCharacters(in: .whitespaces) {
            case "relay": return .relay(relayPacing)
            case "sender": return .sender
            default: throw ValidationError("unknown pacing \(name): relay or sender")
            }
        }
        if checkGoal, !pacings.contains(.sender) {
            throw ValidationError("--check-goal judges the sender's pacing: add sender to --pacing")
        }
        let began = Date()
        let model = try VideoFrameSizeModel.vp8()
        print(
            "VP8 frame sizes from libvpx at \(model.tables.map { "\(Int($0.bitrate / 1000))" }.joined(separator: ", ")) kbit/s (\(String(format: "%.1f", Date().timeIntervalSince(began))) s)"
        )
        try FileManager.default.createDirectory(atPath: plotDir, withIntermediateDirectories: true)
        print(Self.header)
        var rows: [[String: Any]] = []
        var summary: [String: [SimulationResult]] = [:]  // "group|set" → results
        var goalMet = true
        for source in sources {
            let (name, delivery, linkSeed) = (source.name, source.delivery, source.linkSeed)
            let preset = link ?? (name.contains("rural") ? "rural" : "recorded")
            let linkConfiguration = try Self.link(preset, trace: delivery)
            let duration = min(seconds ?? Double(delivery.periodMs) / 1000, 1200)
            var series: [SimulationPlot.Series] = []
            for ((setName, setParameters, color), pacing) in sets.flatMap({ set in pacings.map { (set, $0) } }) {
                var settings = SimulationSettings(
                    link: linkConfiguration,
                    durationUs: UInt64(duration * 1_000_000),
                    feedbackDelayUs: linkConfiguration.baseDelayUs,
                    parameters: setParameters
                )
                settings.seed = linkSeed
                settings.frameDropQueueMs = frameDropMs
                settings.pacing = pacing
                let started = Date()
                let result = runSimulation(settings, video: model)
                let cpu = Date().timeIntervalSince(started)
                let label = pacings.count > 1 ? "\(setName)/\(pacing.name)" : setName
                print(Self.row(trace: name, set: label, result, cpuSeconds: cpu))
                summary["\(source.group)|\(label)", default: []].append(result)
                if pacing == pacings[0] {
                    series.append(.init(name: setName, color: color, result: result))
                }
                if setName == "rural4g", pacing == .sender,
                    !(result.queueingDelayP95Ms <= 200 && result.utilization >= 0.6)
                {
                    goalMet = false
                }
                rows.append([
                    "trace": name, "link": preset, "parameters": setName, "pacing": pacing.name, "seconds": duration,
                    "goodputKbps": result.goodputBps / 1000, "capacityKbps": result.capacityBps / 1000,
                    "utilization": result.utilization, "oracleUtilization": result.oracleUtilization,
                    "queueingDelayP50Ms": result.queueingDelayP50Ms,
                    "queueingDelayP95Ms": result.queueingDelayP95Ms, "networkDelayP95Ms": result.networkDelayP95Ms,
                    "loss": result.loss,
                    "pausedSeconds": result.pausedSeconds, "framesSkipped": result.framesSkipped,
                    "pacerOverflowed": result.pacerOverflowed,
                    "videoQueueingDelayP95Ms": result.videoQueueingDelayP95Ms,
                    "audioQueueingDelayP95Ms": result.audioQueueingDelayP95Ms,
                    "audioDroppedAtSender": result.audioDroppedAtSender,
                    "videoDroppedAtSender": result.videoDroppedAtSender, "cpuSeconds": cpu,
                ])
            }
            let base = (plotDir as NSString).appendingPathComponent(name.replacingOccurrences(of: "/", with: "_"))
            var csv = "parameters,seconds,capacity_bps,estimate_bps,send_bps,paused\n"
            for run in series {
                for s in run.result.samples {
                    csv +=
                        "\(run.name),\(s.seconds),\(Int(s.capacityBps)),\(Int(s.estimateBps)),\(Int(s.sendBps)),\(s.paused ? 1 : 0)\n"
                }
            }
            try csv.write(toFile: base + ".csv", atomically: true, encoding: .utf8)
            let file = base + ".svg"
            try SimulationPlot.svg(title: "\(name) (\(preset) link): capacity, estimate and send rate", runs: series)
                .write(toFile: file, atomically: true, encoding: .utf8)
        }
        print("plots (SVG) and time series (CSV) in \(plotDir)/")
        if seeds != nil {
            print("")
            print(
                "group                          params          runs  util median/worst  oracle median/worst  delay p95 median/worst"
            )
            for key in summary.keys.sorted() {
                let results = summary[key]!
                let parts = key.split(separator: "|").map(String.init)
                func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
                let util = results.map(\.utilization)
                let oracle = results.map(\.oracleUtilization)
                let delay = results.map(\.queueingDelayP95Ms)
                print(
                    parts[0].padding(toLength: 30, withPad: " ", startingAt: 0) + " "
                        + parts[1].padding(toLength: 15, withPad: " ", startingAt: 0)
                        + String(
                            format: " %4d   %3.0f %% / %3.0f %%       %3.0f %% / %3.0f %%        %4.0f / %4.0f ms",
                            results.count,
                            median(util) * 100,
                            util.min()! * 100,
                            median(oracle) * 100,
                            oracle.min()! * 100,
                            median(delay),
                            delay.max()!
                        )
                )
            }
        }
        if let json {
            let data = try JSONSerialization.data(
                withJSONObject: ["runs": rows],
                options: [.prettyPrinted, .sortedKeys]
            )
            try data.write(to: URL(fileURLWithPath: json))
        }
        if checkGoal && !goalMet {
            print(
                "goal not met: rural4g with a sender's pacing needs queueing delay p95 <= 200 ms at utilisation >= 60 % on every trace"
            )
            throw ExitCode(1)
        }
    }

    /// The parameters `--set` can change, by name.
    static let tunables: [(String, @Sendable (inout SendSideEstimatorParameters, Double) -> Void)] = [
        ("start_bitrate", { $0.startBitrate = $1 }), ("burst_window_ms", { $0.burstWindowMs = $1 }),
        ("group_send_span_ms", { $0.groupSendSpanMs = $1 }), ("trendline_window", { $0.trendlineWindow = Int($1) }),
        ("trendline_smoothing", { $0.trendlineSmoothing = $1 }), ("threshold_gain", { $0.trendlineThresholdGain = $1 }),
        ("threshold_up_gain", { $0.thresholdUpGain = $1 }), ("threshold_down_gain", { $0.thresholdDownGain = $1 }),
        ("overuse_time_ms", { $0.overuseTimeMs = $1 }), ("decrease_factor", { $0.decreaseFactor = $1 }),
        ("maximum_decrease_fraction", { $0.maximumDecreaseFraction = $1 }),
        ("increase_per_second", { $0.multiplicativeIncreasePerSecond = $1 }),
        ("acknowledged_headroom", { $0.acknowledgedHeadroom = $1 }), ("loss_low", { $0.lossLowThreshold = $1 }),
        ("loss_high", { $0.lossHighThreshold = $1 }), ("loss_window_ms", { $0.lossWindowMs = $1 }),
        ("outage_gap_ms", { $0.outageGapMs = $1 > 0 ? $1 : nil }),
        ("feedback_timeout_ms", { $0.feedbackTimeoutMs = $1 > 0 ? $1 : nil }),
        ("congestion_window_ms", { $0.congestionWindowMs = $1 }),
        ("standing_queue_limit_ms", { $0.standingQueueLimitMs = $1 > 0 ? $1 : nil }),
        ("base_delay_drift_ms_per_second", { $0.baseDelayDriftMsPerSecond = $1 }),
        ("pacing_factor", { $0.pacingFactor = $1 }),
    ]

    static func value(_ name: String, of p: SendSideEstimatorParameters) -> String {
        switch name {
        case "start_bitrate": "\(p.startBitrate)"
        case "burst_window_ms": "\(p.burstWindowMs)"
        case "group_send_span_ms": "\(p.groupSendSpanMs)"
        case "trendline_window": "\(p.trendlineWindow)"
        case "trendline_smoothing": "\(p.trendlineSmoothing)"
        case "threshold_gain": "\(p.trendlineThresholdGain)"
        case "threshold_up_gain": "\(p.thresholdUpGain)"
        case "threshold_down_gain": "\(p.thresholdDownGain)"
        case "overuse_time_ms": "\(p.overuseTimeMs)"
        case "decrease_factor": "\(p.decreaseFactor)"
        case "maximum_decrease_fraction": "\(p.maximumDecreaseFraction)"
        case "increase_per_second": "\(p.multiplicativeIncreasePerSecond)"
        case "acknowledged_headroom": "\(p.acknowledgedHeadroom)"
        case "loss_low": "\(p.lossLowThreshold)"
        case "loss_high": "\(p.lossHighThreshold)"
        case "loss_window_ms": "\(p.lossWindowMs)"
        case "outage_gap_ms": p.outageGapMs.map { "\($0)" } ?? "off"
        case "feedback_timeout_ms": p.feedbackTimeoutMs.map { "\($0)" } ?? "off"
        case "congestion_window_ms": "\(p.congestionWindowMs)"
        case "pacing_factor": "\(p.pacingFactor)"
        case "standing_queue_limit_ms": p.standingQueueLimitMs.map { "\($0)" } ?? "off"
        case "base_delay_drift_ms_per_second": "\(p.baseDelayDriftMsPerSecond)"
        default: "?"
        }
    }

    static let header =
        "trace                                      params          goodput  capacity  util  oracle  delay p50  delay p95  video p95  audio p95   loss  paused  cpu"

    static func row(trace: String, set: String, _ r: SimulationResult, cpuSeconds: Double) -> String {
        func padded(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
        }
        return padded(trace, 42) + " " + padded(set, 15)
            + String(
                format:
                    " %5.0f k   %5.0f k  %3.0f %%   %3.0f %%  %6.0f ms  %6.0f ms  %6.0f ms  %6.0f ms  %4.1f %%  %5.0f s  %4.1f s",
                r.goodputBps / 1000,
                r.capacityBps / 1000,
                r.utilization * 100,
                r.oracleUtilization * 100,
                r.queueingDelayP50Ms,
                r.queueingDelayP95Ms,
                r.videoQueueingDelayP95Ms,
                r.audioQueueingDelayP95Ms,
                r.loss * 100,
                r.pausedSeconds,
                cpuSeconds
            )
    }

    /// `recorded`: the trace as it is, behind a deep cellular buffer (250 KB), 40 ms each way.
    /// `rural`: link-emulator's `rural-4g` uplink (60 KB, 50 ms, 8 ms jitter, 2 % loss).
    static func link(_ preset: String, trace: DeliveryTrace) throws -> LinkConfiguration {
        switch preset {
        case "recorded":
            return LinkConfiguration(capacity: .trace(trace), queueLimit: .bytes(250_000), baseDelayUs: 40_000)
        case "rural":
            return LinkConfiguration(
                capacity: .trace(trace),
                queueLimit: .bytes(60_000),
                baseDelayUs: 50_000,
                jitterUs: 8_000,
                loss: .bernoulli(rate: 0.02)
            )
        default:
            throw ValidationError("unknown link \(preset): recorded or rural")
        }
    }
}
