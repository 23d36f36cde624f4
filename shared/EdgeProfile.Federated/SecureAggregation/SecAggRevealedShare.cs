namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>One Shamir share (32-byte big-endian field element) of a secret of client <see cref="OwnerId"/>.</summary>
public sealed record SecAggRevealedShare(string OwnerId, byte[] Share);
