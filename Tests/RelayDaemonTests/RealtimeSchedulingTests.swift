import Glibc
import NIOCore
import NIOPosix
import Testing

@testable import RelayDaemon

@Suite("real-time scheduling of media workers")
struct RealtimeSchedulingTests {
    /// Runs `body` on an event loop thread of its own, the kind a media worker runs on (so the test
    /// runner's threads keep their policy).
    static func onFreshThread<T: Sendable>(_ body: @escaping @Sendable () -> T) throws -> T {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        return try group.next().submit(body).wait()
    }

    @Test("a thread asks for SCHED_RR at the priority given; as root (CI) it gets it, otherwise the refusal says why")
    func applies() throws {
        let outcome = try Self.onFreshThread { () -> String in
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
    func outOfRange() throws {
        let outcome = try Self.onFreshThread { () -> String in
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
