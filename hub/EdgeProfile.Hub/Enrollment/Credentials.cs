using System.Security.Cryptography;
using System.Text;

namespace EdgeProfile.Hub.Enrollment;

/// <summary>Random secrets and their stored form (SHA-256; the secret itself is never stored by the hub's database).</summary>
internal static class Credentials
{
    public const int SecretBytes = 32;

    /// <summary>32 random bytes, base64url without padding.</summary>
    public static string NewSecret() => Base64Url(RandomNumberGenerator.GetBytes(SecretBytes));

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>Compares the hash of <paramref name="presented"/> with <paramref name="storedHash"/> in constant time.</summary>
    public static bool Matches(string presented, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(presented), storedHash);

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
