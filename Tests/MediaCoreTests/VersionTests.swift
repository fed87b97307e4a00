import MediaCore
import Testing

@Test func versionIsSemantic() {
    #expect(MediaCore.version.split(separator: ".").count == 3)
}
