namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// Round 3 reply, client → server: the responder's shares of the self-mask seed <c>b_v</c> of every survivor and of
/// the masking private key <c>s_v^SK</c> of every dropped client; never both for one client.
/// </summary>
public sealed record SecAggUnmaskResponse(
    string ClientId, SecAggRevealedShare[] SelfMaskShares, SecAggRevealedShare[] MaskingKeyShares);
