#!/usr/bin/env python3
"""Plots a relay-load ramp (its JSON report) as SVG: forwarded packets/s and relay CPU against
visits, and relay-added latency p99 on a second axis. Standard library only.

Usage: python3 scripts/plot-ramp.py .build/load.json .build/load-ramp.svg
"""
import json
import sys


def main():
    steps = json.load(open(sys.argv[1]))
    width, height, left, right, top, bottom = 720, 400, 70, 70, 30, 50
    visits = [s["visits"] for s in steps]
    pps = [s["forwardedPerSecond"] for s in steps]
    p99 = [s["latencyMs"]["p99"] for s in steps]
    cpu = [100 * (s["relayCpuSeconds"] or 0) / s["seconds"] for s in steps]

    def x(v):
        return left + (v - min(visits)) / max(1, max(visits) - min(visits)) * (width - left - right)

    def y(v, top_value):
        return height - bottom - v / max(top_value, 1e-9) * (height - top - bottom)

    def line(values, top_value, color):
        points = " ".join(f"{x(v):.1f},{y(w, top_value):.1f}" for v, w in zip(visits, values))
        return f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>'
    top_pps, top_ms, top_cpu = max(pps) * 1.1, max(max(p99) * 1.1, 10), 100
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             line(pps, top_pps, "#1f77b4"), line(p99, top_ms, "#d62728"), line(cpu, top_cpu, "#2ca02c"),
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>',
             f'<text x="{width / 2}" y="{height - 15}" text-anchor="middle">visits (2 participants each)</text>',
             f'<text x="10" y="20" fill="#1f77b4">forwarded packets/s (max {max(pps):.0f})</text>',
             f'<text x="260" y="20" fill="#2ca02c">relay CPU % of one core</text>',
             f'<text x="470" y="20" fill="#d62728">added latency p99, ms (max {max(p99):.1f})</text>']
    for v in visits:
        parts.append(f'<text x="{x(v):.1f}" y="{height - bottom + 15}" text-anchor="middle">{v}</text>')
    parts.append("</svg>")
    open(sys.argv[2], "w").write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
