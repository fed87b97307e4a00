import Glibc

/// Real-time round-robin scheduling (SCHED_RR, sched(7)) for a media worker's thread.
///
/// Under the normal scheduler a worker woken by a datagram can wait for another thread's time slice
/// (milliseconds) before it runs, even with a core half idle: on a shared 2-core machine at 100 visits
/// that wait was the relay-added latency's p99.9 (2-4 ms; 0.8 ms with the worker on SCHED_RR). A
/// real-time thread runs as soon as it is woken. The kernel still keeps 5 % of each second for
/// ordinary threads (`kernel.sched_rt_runtime_us`), so a saturated worker cannot lock the host out.
enum RealtimeScheduling {
    /// The priorities `media.realtime_priority` takes; 0 means the normal scheduler.
    static let priorities: ClosedRange<Int> = 1...99

    /// The kernel refused the policy: typically EPERM, without root, CAP_SYS_NICE or an RLIMIT_RTPRIO
    /// (systemd `LimitRTPRIO=`) at least `priority`.
    struct Refused: Error, CustomStringConvertible {
        let priority: Int
        let code: Int32
        var description: String {
            "SCHED_RR at priority \(priority) refused: \(String(cString: strerror(code))) (needs root, CAP_SYS_NICE or LimitRTPRIO=\(priority))"
        }
    }

    /// Puts the calling thread under SCHED_RR at `priority` (1-99).
    static func applyToCurrentThread(priority: Int) throws(Refused) {
        guard priorities.contains(priority) else { throw Refused(priority: priority, code: EINVAL) }
        var parameters = sched_param()
        parameters.sched_priority = Int32(priority)
        let result = pthread_setschedparam(pthread_self(), SCHED_RR, &parameters)
        guard result == 0 else { throw Refused(priority: priority, code: result) }
    }

    /// The calling thread's policy (SCHED_OTHER, SCHED_RR, ...) and priority.
    static func currentThread() -> (policy: Int32, priority: Int) {
        var policy: Int32 = 0
        var parameters = sched_param()
        _ = pthread_getschedparam(pthread_self(), &policy, &parameters)
        return (policy, Int(parameters.sched_priority))
    }
}
