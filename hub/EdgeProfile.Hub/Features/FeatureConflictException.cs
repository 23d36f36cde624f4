namespace EdgeProfile.Hub.Features;

/// <summary>A submitted version that does not follow the stored one (HTTP 409); the message names the key.</summary>
internal sealed class FeatureConflictException(string message) : Exception(message);
