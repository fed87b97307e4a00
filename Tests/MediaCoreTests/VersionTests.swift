import Testing
import MediaCore

@Test func versionIsSemantic() {
    #expect(MediaCore.version.split(separator: ".").count == 3)
}
