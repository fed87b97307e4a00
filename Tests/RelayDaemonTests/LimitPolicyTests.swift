import Foundation
import MediaCore
import Testing

@testable import RelayDaemon

@Suite("Bitrate limit policy and its configuration")
struct LimitPolicyTests {
    let citizen = ParticipantID(rawValue: 7)

    @Test("participant beats room beats role, per direction, and the ceiling caps all")
    func precedence() {
        var policy = LimitPolicy(ceilingKbps: nil, roles: [.citizen: KbpsPair(upKbps: 800, downKbps: 1500)])
        #expect(
            policy.resolve(participant: citizen, room: "r", role: .citizen)
                == BitrateLimits(upBps: 800_000, downBps: 1_500_000)
        )
        #expect(policy.resolve(participant: citizen, room: "r", role: .staff) == BitrateLimits())

        policy.rooms["r"] = KbpsPair(upKbps: nil, downKbps: 600)
        #expect(
            policy.resolve(participant: citizen, room: "r", role: .citizen)
                == BitrateLimits(upBps: 800_000, downBps: 600_000),
            "the room sets only down; up still comes from the role"
        )
        #expect(policy.resolve(participant: citizen, room: "other", role: .citizen).downBps == 1_500_000)

        policy.participants[citizen] = KbpsPair(upKbps: 2000, downKbps: nil)
        #expect(
            policy.resolve(participant: citizen, room: "r", role: .citizen)
                == BitrateLimits(upBps: 2_000_000, downBps: 600_000),
            "a participant may be given more than its role"
        )

        policy.ceilingKbps = 1000
        #expect(
            policy.resolve(participant: citizen, room: "r", role: .citizen)
                == BitrateLimits(upBps: 1_000_000, downBps: 600_000)
        )
        #expect(
            policy.resolve(participant: citizen, room: "x", role: .staff)
                == BitrateLimits(upBps: 1_000_000, downBps: 1_000_000),
            "the ceiling alone limits both directions"
        )
    }

    @Test("values outside 32...100000 kbit/s are named")
    func ranges() {
        #expect(KbpsPair(upKbps: 32, downKbps: 100_000).problem == nil)
        #expect(KbpsPair(upKbps: 31).problem == "upKbps must be 32...100000, got 31")
        #expect(KbpsPair(downKbps: 100_001).problem == "downKbps must be 32...100000, got 100001")
    }

    @Test("forgetting a participant drops only its own limits")
    func forget() {
        let controller = LimitController(LimitPolicy(roles: [.staff: KbpsPair(upKbps: 900)]))
        controller.update { $0.participants[citizen] = KbpsPair(upKbps: 100) }
        controller.forget(citizen)
        #expect(controller.current == LimitPolicy(roles: [.staff: KbpsPair(upKbps: 900)]))
    }

    @Test("limits and the admin token come from the file; bad values name the line")
    func configuration() throws {
        var configuration = RelayConfiguration()
        try configuration.apply(
            yaml: "limits:\n  ceiling_kbps: 2500\n  citizen_up_kbps: 800\n  staff_down_kbps: 1200\n",
            path: "l.yaml"
        )
        #expect(configuration.limitCeilingKbps == 2500)
        #expect(configuration.roleLimits == [.citizen: KbpsPair(upKbps: 800), .staff: KbpsPair(downKbps: 1200)])

        var bad = RelayConfiguration()
        #expect(
            throws: ConfigurationError(
                source: .file(path: "l.yaml", line: 3),
                key: "limits.citizen_down_kbps",
                message: "expected an integer 32...100000, got \"10\""
            )
        ) {
            try bad.apply(yaml: "limits:\n  citizen_up_kbps: 800\n  citizen_down_kbps: 10\n", path: "l.yaml")
        }
    }

    @Test("the admin token file must hold 24+ characters")
    func adminToken() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vr-admin-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("token").path
        var configuration = RelayConfiguration()
        #expect(try configuration.adminToken() == nil, "no file: the API is off")
        configuration.adminTokenFile = file
        try "short\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try configuration.adminToken() }
        try "0123456789abcdef01234567\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try configuration.adminToken() == "0123456789abcdef01234567")
    }
}
