import MediaCore
print("visit-relay \(MediaCore.version)")
