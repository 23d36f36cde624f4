using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>Key handling and key derivations shared by <see cref="SecAggClient"/> and <see cref="SecAggServer"/>.</summary>
internal static class SecAggCrypto
{
    public const int NonceSize = 12;
    public const int TagSize = 16;

    private const string P256Oid = "1.2.840.10045.3.1.7";
    private static readonly byte[] ShareKeyInfo = "EdgeProfile.SecAgg/v1/share-encryption"u8.ToArray();
    private static readonly byte[] PairMaskInfo = "EdgeProfile.SecAgg/v1/pair-mask"u8.ToArray();
    private static readonly byte[] SelfMaskInfo = "EdgeProfile.SecAgg/v1/self-mask"u8.ToArray();

    /// <summary>
    /// A fresh P-256 key pair whose private scalar comes from <paramref name="rng"/> (so it can be Shamir-shared and a
    /// seeded generator makes a run reproducible).
    /// </summary>
    public static (ECDiffieHellman Key, byte[] PrivateScalar) GenerateKey(RandomNumberGenerator rng)
    {
        var d = ShamirSecretSharing.RandomElement(rng, nonZero: true);
        return (ImportPrivate(d), d);
    }

    /// <summary>The key pair of a private scalar (OpenSSL/CNG derive the public point).</summary>
    public static ECDiffieHellman ImportPrivate(byte[] privateScalar)
    {
        var key = ECDiffieHellman.Create();
        try
        {
            key.ImportParameters(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = privateScalar });
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Imports a SubjectPublicKeyInfo and checks it is a P-256 key.</summary>
    public static ECDiffieHellman ImportPublic(byte[] subjectPublicKeyInfo, string owner)
    {
        var key = ECDiffieHellman.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out var read);
            if (read != subjectPublicKeyInfo.Length || key.ExportParameters(false).Curve.Oid.Value != P256Oid)
            {
                throw new SecAggException($"the public key of {owner} is not a P-256 SubjectPublicKeyInfo");
            }
            return key;
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new SecAggException($"the public key of {owner} cannot be read", e);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>AES-256-GCM key for shares between two clients: HKDF-SHA256 over their ECDH secret.</summary>
    public static byte[] ShareEncryptionKey(ECDiffieHellman mine, ECDiffieHellman theirs, string sessionId) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, Agree(mine, theirs), 32, Salt(sessionId), ShareKeyInfo);

    /// <summary>Generator key of the pairwise mask of two clients: HKDF-SHA256 over their masking ECDH secret.</summary>
    public static SecAggPrg.PrgKey PairMaskKey(ECDiffieHellman mine, ECDiffieHellman theirs, string sessionId) =>
        new(HKDF.DeriveKey(HashAlgorithmName.SHA256, Agree(mine, theirs), SecAggPrg.KeySize, Salt(sessionId), PairMaskInfo));

    /// <summary>Generator key of a client's self mask: HKDF-SHA256 over its 32-byte seed <c>b_u</c>.</summary>
    public static SecAggPrg.PrgKey SelfMaskKey(byte[] seed, string sessionId) =>
        new(HKDF.DeriveKey(HashAlgorithmName.SHA256, seed, SecAggPrg.KeySize, Salt(sessionId), SelfMaskInfo));

    /// <summary>Authenticated data of a share: session, sender and recipient, each length-prefixed.</summary>
    public static byte[] ShareAssociatedData(string sessionId, string senderId, string recipientId)
    {
        using var stream = new MemoryStream();
        Span<byte> length = stackalloc byte[4];
        foreach (var part in new[] { sessionId, senderId, recipientId })
        {
            var bytes = Encoding.UTF8.GetBytes(part);
            BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            stream.Write(length);
            stream.Write(bytes);
        }
        return stream.ToArray();
    }

    public static bool SamePublicKey(ECDiffieHellman key, byte[] subjectPublicKeyInfo) =>
        CryptographicOperations.FixedTimeEquals(key.ExportSubjectPublicKeyInfo(), subjectPublicKeyInfo);

    private static byte[] Agree(ECDiffieHellman mine, ECDiffieHellman theirs)
    {
        using var publicKey = theirs.PublicKey;
        return mine.DeriveRawSecretAgreement(publicKey);
    }

    private static byte[] Salt(string sessionId) => Encoding.UTF8.GetBytes(sessionId);
}
