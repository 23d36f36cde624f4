namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// Round 0 message, client → server → all clients: a client's two P-256 public keys, each an X.509
/// SubjectPublicKeyInfo (DER). <see cref="EncryptionPublicKey"/> (<c>c_u^PK</c>) keys the AES-GCM encryption of
/// Shamir shares between two clients; <see cref="MaskingPublicKey"/> (<c>s_u^PK</c>) seeds their pairwise mask.
/// </summary>
public sealed record SecAggAdvertisement(string ClientId, byte[] EncryptionPublicKey, byte[] MaskingPublicKey);
