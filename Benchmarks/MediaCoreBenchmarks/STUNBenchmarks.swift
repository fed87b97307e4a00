import Benchmark
import MediaCore

/// STUN as the relay's ICE-lite responder sees it: a browser's connectivity check (RFC 8445 §7.2.2)
/// parsed and its MESSAGE-INTEGRITY verified, and the success response written. Allocation-free.
func stunBenchmarks() {
    let password = "relay-ice-password-0123"
    var request = STUNMessage(
        type: .bindingRequest,
        transactionID: STUNTransactionID(0x0102_0304, 0x0506_0708, 0x090A_0B0C)
    )
    request.username = "relayufr:browserufrag"
    request.priority = 1_853_766_143
    request.iceControlling = 0x1122_3344_5566_7788
    request.useCandidate = true
    request.integrityPassword = password
    var bytes = [UInt8](repeating: 0, count: request.encodedSize)
    bytes.withUnsafeMutableBytes { buffer in
        var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
        request.encode(into: &out)
        _ = out.finalize(for: buffer)
    }

    Benchmark(
        "STUN verify a Binding request (parse, FINGERPRINT, MESSAGE-INTEGRITY)",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], scalingFactor: .kilo)
    ) { benchmark in
        bytes.withUnsafeBytes { raw in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                guard let view = try? STUNMessageView(validating: RawSpan(_unsafeBytes: raw)) else { continue }
                blackHole(view.verifyIntegrity(password: password) && view.useCandidate)
            }
        }
    }

    Benchmark(
        "STUN write a Binding success response",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], scalingFactor: .kilo)
    ) { benchmark in
        var response = STUNMessage(type: .bindingSuccess, transactionID: STUNTransactionID(1, 2, 3))
        response.xorMappedAddress = .ipv4(0x7F00_0001, port: 50_000)
        response.integrityPassword = password
        var output = [UInt8](repeating: 0, count: 128)
        output.withUnsafeMutableBytes { buffer in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                var out = OutputRawSpan(buffer: buffer, initializedCount: 0)
                response.encode(into: &out)
                blackHole(out.finalize(for: buffer))
            }
        }
    }
}
