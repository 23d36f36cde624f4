namespace EdgeProfile.Hub.Uplink;

/// <summary>What one upload did: the store's cursor afterwards, how many deltas were new and how many score rows were written.</summary>
internal readonly record struct UploadResult(long AckedThrough, int Applied, int ScoresStored = 0);
