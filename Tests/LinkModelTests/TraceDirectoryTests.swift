import Foundation
import LinkModel
import Testing

@Suite struct TraceDirectoryTests {
    @Test func findsTheRepositoryTracesWithNothingBesideTheClone() throws {
        let directory = try TraceDirectory.locate(environment: [:])
        #expect(directory.hasSuffix("/Traces"))
        // Every trace the checksums list is there and parses.
        let sums = try String(contentsOfFile: directory + "/SHA256SUMS", encoding: .utf8)
        let names = sums.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
            .filter { !$0.hasSuffix(".csv") && !$0.hasSuffix(".md") && !$0.hasSuffix(".py") && !$0.hasSuffix(".tsv") }
        #expect(names.count >= 20)
        for name in names.prefix(3) {
            #expect(try TraceDirectory.load(name, from: directory).periodMs > 0, "\(name)")
        }
    }

    @Test func anExplicitDirectoryThatDoesNotExistIsAnError() {
        #expect(throws: TraceDirectory.NotFound.self) { try TraceDirectory.locate(explicit: "/nonexistent/traces") }
    }

    @Test func theEnvironmentVariableComesBeforeTheRepository() throws {
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("traces-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        #expect(
            try TraceDirectory.locate(environment: [TraceDirectory.environmentVariable: temporary.path])
                == temporary.path
        )
        // One that does not exist is passed over.
        let fallback = try TraceDirectory.locate(environment: [TraceDirectory.environmentVariable: "/nonexistent"])
        #expect(fallback.hasSuffix("/Traces"))
    }
}
