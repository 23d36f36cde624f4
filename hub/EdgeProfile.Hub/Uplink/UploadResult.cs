namespace EdgeProfile.Hub.Uplink;

/// <summary>What one upload did: the store's cursor afterwards and how many deltas were new.</summary>
internal readonly record struct UploadResult(long AckedThrough, int Applied);
