import Foundation

/// Where the recorded link traces are: the repository's `Traces/` folder (PROVENANCE.md there says
/// where each came from; SHA256SUMS holds their checksums). One locator for `bwe-sim`,
/// `link-emulator` and the tests, so none of them names a machine's path.
///
/// In order: a directory given explicitly (a command-line option), `VISITRELAY_TRACES`, the
/// `Traces/` folder of the source tree this was built from, then `Traces/` under the working directory.
public enum TraceDirectory {
    /// The environment variable that overrides the built-in locations.
    public static let environmentVariable = "VISITRELAY_TRACES"

    public struct NotFound: Error, CustomStringConvertible, Sendable {
        public let candidates: [String]
        public var description: String {
            "no traces directory found; looked in \(candidates.joined(separator: ", ")) (set \(TraceDirectory.environmentVariable) or --traces-dir)"
        }
    }

    /// The directories looked in, in order (`environment` nil: the process's).
    public static func candidates(
        explicit: String? = nil,
        environment: [String: String]? = nil
    )
        -> [String]
    {
        // This file is Sources/LinkModel/TraceDirectory.swift: three folders up is the repository.
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return [
            explicit, (environment ?? ProcessInfo.processInfo.environment)[environmentVariable],
            repository.appendingPathComponent("Traces").path,
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Traces").path,
        ].compactMap { $0 }
    }

    /// The first candidate that exists. An explicit directory that does not exist is an error, not
    /// skipped: an operator who names one means it.
    public static func locate(
        explicit: String? = nil,
        environment: [String: String]? = nil
    )
        throws(NotFound) -> String
    {
        if let explicit {
            guard isDirectory(explicit) else { throw NotFound(candidates: [explicit]) }
            return explicit
        }
        let all = candidates(environment: environment)
        guard let found = all.first(where: isDirectory) else { throw NotFound(candidates: all) }
        return found
    }

    /// Reads and parses the trace `name` (a path relative to the traces directory).
    public static func load(_ name: String, from directory: String) throws -> DeliveryTrace {
        let path = (directory as NSString).appendingPathComponent(name)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try DeliveryTrace(parsing: text)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }
}
