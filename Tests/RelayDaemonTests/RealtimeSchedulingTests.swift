import Foundation
import Glibc
@testable import RelayDaemon
import Testing

@Suite("real-time scheduling of media workers")
struct RealtimeSchedulingTests {
    /// Runs `body` on a thread of its own (so the test runner's threads keep their policy).
    static func onFreshThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let result = ThreadResult<T>()
        let thread = Thread { result.set(body()) }
        thread.start()
        return result.wait()
    }

    @Test("a thread asks for SCHED_RR at the priority given; as root (CI) it gets it, otherwise the refusal says why")
    func applies() {
        let outcome = Self.onFreshThread { () -> String in
            do {
                try RealtimeScheduling.applyToCurrentThread(priority: 7)
                let (policy, priority) = RealtimeScheduling.currentThread()
                return policy == SCHED_RR && priority == 7 ? "rr 7" : "policy \(policy) priority \(priority)"
            } catch {
                return "refused: \(error)"
            }
        }
        if geteuid() == 0 {
            #expect(outcome == "rr 7")
        } else {
            #expect(outcome.hasPrefix("refused: SCHED_RR at priority 7 refused:"))
        }
    }

    @Test("a priority outside 1-99 is refused with the value, and the thread keeps its policy")
    func outOfRange() {
        let outcome = Self.onFreshThread { () -> String in
            do throws(RealtimeScheduling.Refused) {
                try RealtimeScheduling.applyToCurrentThread(priority: 100)
                return "applied"
            } catch {
                let (policy, _) = RealtimeScheduling.currentThread()
                return "\(error.priority) \(error.code == EINVAL) \(policy == SCHED_OTHER)"
            }
        }
        #expect(outcome == "100 true true")
    }
}

/// A value handed from another thread, waited for with a condition.
final class ThreadResult<T: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: T?

    func set(_ newValue: T) {
        condition.lock()
        value = newValue
        condition.signal()
        condition.unlock()
    }

    func wait() -> T {
        condition.lock()
        defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}
