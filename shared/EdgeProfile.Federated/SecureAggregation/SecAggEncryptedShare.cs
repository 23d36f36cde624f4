namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// Round 1 message, routed by the server from <see cref="SenderId"/> to <see cref="RecipientId"/>: the sender's
/// Shamir shares (at the recipient's index) of its masking private key and of its self-mask seed, encrypted with
/// AES-256-GCM under a key only the two clients can derive (ECDH of their encryption keys + HKDF). The sender id,
/// recipient id and session id are authenticated, so the server can neither read nor redirect a share.
/// </summary>
public sealed record SecAggEncryptedShare(
    string SenderId, string RecipientId, byte[] Nonce, byte[] Ciphertext, byte[] Tag);
