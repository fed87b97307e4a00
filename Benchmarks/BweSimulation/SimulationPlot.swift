import Foundation

/// An SVG plot of one trace's runs: the link's capacity (grey), and for each parameter set its
/// estimate (solid) and what it sent (thin), rate against time; seconds with video paused are
/// shaded under the axis. Written by hand: a few polylines need no plotting library.
public enum SimulationPlot {
    public struct Series: Sendable {
        public var name: String
        public var color: String
        public var result: SimulationResult
        public init(name: String, color: String, result: SimulationResult) {
            self.name = name
            self.color = color
            self.result = result
        }
    }

    public static func svg(title: String, runs: [Series], width: Double = 1200, height: Double = 360) -> String {
        let left = 60.0
        let right = 20.0
        let top = 46.0
        let bottom = 40.0
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let duration = runs.map { $0.result.durationSeconds }.max() ?? 1
        var peak = 1.0
        for run in runs {
            for sample in run.result.samples {
                peak = max(peak, sample.capacityBps, sample.estimateBps, sample.sendBps)
            }
        }
        peak = min(peak, 4 * (runs.first?.result.capacityBps ?? peak) + 1)  // spikes beyond 4x the mean are clipped
        func x(_ seconds: Double) -> Double { left + seconds / duration * plotWidth }
        func y(_ bps: Double) -> Double { top + plotHeight - min(bps, peak) / peak * plotHeight }
        func line(_ points: [(Double, Double)], color: String, width: Double, dash: String? = nil) -> String {
            let path = points.map { "\(format(x($0.0))),\(format(y($0.1)))" }.joined(separator: " ")
            let dashing = dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
            return
                "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(width)\"\(dashing) points=\"\(path)\"/>\n"
        }
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"\(left)\" y=\"18\" font-size=\"14\">\(escape(title))</text>\n"
        for step in 0...4 {
            let bps = peak * Double(step) / 4
            svg +=
                "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(format(y(bps)))\" y2=\"\(format(y(bps)))\" stroke=\"#eee\"/>\n"
            svg +=
                "<text x=\"\(left - 6)\" y=\"\(format(y(bps) + 4))\" text-anchor=\"end\">\(Int(bps / 1000)) k</text>\n"
        }
        for step in 0...10 {
            let seconds = duration * Double(step) / 10
            svg +=
                "<text x=\"\(format(x(seconds)))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\">\(Int(seconds)) s</text>\n"
        }
        if let first = runs.first {
            svg += line(first.result.samples.map { ($0.seconds, $0.capacityBps) }, color: "#bbb", width: 1)
        }
        for (index, run) in runs.enumerated() {
            svg += line(run.result.samples.map { ($0.seconds, $0.sendBps) }, color: run.color, width: 0.6, dash: "3,2")
            svg += line(run.result.samples.map { ($0.seconds, $0.estimateBps) }, color: run.color, width: 1.6)
            for sample in run.result.samples where sample.paused {
                let barY = height - bottom + 22 + Double(index) * 5
                svg +=
                    "<rect x=\"\(format(x(sample.seconds - 0.5)))\" y=\"\(format(barY))\" width=\"\(format(max(plotWidth / duration * 0.5, 0.5)))\" height=\"4\" fill=\"\(run.color)\"/>\n"
            }
        }
        var legendX = left
        for (name, color) in [("capacity", "#bbb")] + runs.map({ ($0.name + " estimate (sent dashed)", $0.color) }) {
            svg += "<rect x=\"\(format(legendX))\" y=\"28\" width=\"12\" height=\"3\" fill=\"\(color)\"/>"
            svg += "<text x=\"\(format(legendX + 16))\" y=\"34\">\(escape(name))</text>\n"
            legendX += 260
        }
        return svg + "</svg>\n"
    }

    private static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
