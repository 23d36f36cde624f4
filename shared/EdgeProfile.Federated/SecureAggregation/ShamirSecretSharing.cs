using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;

namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// Shamir secret sharing (threshold <c>t</c> of <c>n</c>) over the prime field <c>Z_q</c>, <c>q</c> the order of the
/// NIST P-256 group. That field holds a P-256 private scalar as it is, so a client's masking private key is shared
/// directly; secrets and shares are 32-byte big-endian integers below <c>q</c>. Share <c>i</c> (1-based) is
/// <c>f(i)</c> for a random polynomial <c>f</c> of degree <c>t − 1</c> with <c>f(0)</c> the secret: any <c>t</c>
/// shares give <c>f(0)</c> by Lagrange interpolation; fewer reveal nothing about it.
/// </summary>
public static class ShamirSecretSharing
{
    /// <summary>Bytes of a secret or a share.</summary>
    public const int ElementSize = 32;

    /// <summary>The field order <c>q</c> (prime): the order of the P-256 base point.</summary>
    public static BigInteger FieldOrder { get; } = BigInteger.Parse(
        "0FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", NumberStyles.HexNumber,
        CultureInfo.InvariantCulture);

    /// <summary>
    /// Splits <paramref name="secret"/> (32 bytes, big-endian, below <see cref="FieldOrder"/>) into
    /// <paramref name="shareCount"/> shares; element <c>i</c> of the result is the share with index <c>i + 1</c>.
    /// </summary>
    public static byte[][] Split(ReadOnlySpan<byte> secret, int threshold, int shareCount, RandomNumberGenerator rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfLessThan(threshold, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(shareCount, threshold);
        var s = ToElement(secret);
        var coefficients = new BigInteger[threshold];
        coefficients[0] = s;
        for (var k = 1; k < threshold; k++)
        {
            coefficients[k] = new BigInteger(RandomElement(rng), isUnsigned: true, isBigEndian: true);
        }
        var shares = new byte[shareCount][];
        for (var i = 1; i <= shareCount; i++)
        {
            // Horner's rule for f(i).
            var y = BigInteger.Zero;
            for (var k = threshold - 1; k >= 0; k--)
            {
                y = (y * i + coefficients[k]) % FieldOrder;
            }
            shares[i - 1] = ToBytes(y);
        }
        return shares;
    }

    /// <summary>
    /// Interpolates <c>f(0)</c> through all given shares. With at least <c>t</c> correct shares of one secret this is
    /// the secret; with fewer it is an unrelated field element (no error can tell).
    /// </summary>
    public static byte[] Reconstruct(IReadOnlyList<(int Index, byte[] Share)> shares)
    {
        ArgumentNullException.ThrowIfNull(shares);
        var coefficients = LagrangeAtZero(shares.Select(s => s.Index).ToArray());
        return Combine(coefficients, shares.Select(s => s.Share).ToArray());
    }

    /// <summary>A uniformly random element of <c>Z_q</c> as 32 big-endian bytes (rejection sampling).</summary>
    public static byte[] RandomElement(RandomNumberGenerator rng, bool nonZero = false)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var bytes = new byte[ElementSize];
        while (true)
        {
            rng.GetBytes(bytes);
            var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
            if (value < FieldOrder && !(nonZero && value.IsZero))
            {
                return bytes;
            }
        }
    }

    /// <summary>Lagrange coefficients <c>λ_i = Π_{j≠i} x_j / (x_j − x_i)</c> for interpolating at zero.</summary>
    internal static BigInteger[] LagrangeAtZero(IReadOnlyList<int> indices)
    {
        if (indices.Count == 0)
        {
            throw new ArgumentException("no shares to reconstruct from");
        }
        if (indices.Distinct().Count() != indices.Count || indices.Any(i => i < 1))
        {
            throw new ArgumentException("share indices must be distinct and positive");
        }
        // λ_i = Π_{j≠i} x_j / Π_{j≠i} (x_j − x_i). The t denominators are inverted together (Montgomery's trick: one
        // modular exponentiation for all of them instead of one each, which at t = 51 was most of the unmasking's
        // key reconstruction).
        var lambdas = new BigInteger[indices.Count];
        var denominators = new BigInteger[indices.Count];
        for (var i = 0; i < indices.Count; i++)
        {
            var numerator = BigInteger.One;
            var denominator = BigInteger.One;
            for (var j = 0; j < indices.Count; j++)
            {
                if (j != i)
                {
                    numerator = numerator * indices[j] % FieldOrder;
                    denominator = denominator * Mod(indices[j] - indices[i]) % FieldOrder;
                }
            }
            lambdas[i] = numerator;
            denominators[i] = denominator;
        }
        var prefix = new BigInteger[indices.Count];
        var running = BigInteger.One;
        for (var i = 0; i < indices.Count; i++)
        {
            prefix[i] = running;
            running = running * denominators[i] % FieldOrder;
        }
        var inverse = BigInteger.ModPow(running, FieldOrder - 2, FieldOrder);
        for (var i = indices.Count - 1; i >= 0; i--)
        {
            // inverse = (d_0 ⋯ d_i)^−1 here, so d_i^−1 = inverse · (d_0 ⋯ d_{i−1}).
            lambdas[i] = lambdas[i] * (inverse * prefix[i] % FieldOrder) % FieldOrder;
            inverse = inverse * denominators[i] % FieldOrder;
        }
        return lambdas;
    }

    /// <summary><c>Σ λ_i · share_i mod q</c>: the secret, given coefficients from <see cref="LagrangeAtZero"/>.</summary>
    internal static byte[] Combine(IReadOnlyList<BigInteger> lambdas, IReadOnlyList<byte[]> shares)
    {
        var sum = BigInteger.Zero;
        for (var i = 0; i < shares.Count; i++)
        {
            sum += lambdas[i] * ToElement(shares[i]);
        }
        return ToBytes(sum % FieldOrder);
    }

    private static BigInteger ToElement(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != ElementSize)
        {
            throw new ArgumentException($"a secret or share is {ElementSize} bytes, got {bytes.Length}");
        }
        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        if (value >= FieldOrder)
        {
            throw new ArgumentException("a secret or share must be below the field order");
        }
        return value;
    }

    private static BigInteger Mod(BigInteger value)
    {
        var r = value % FieldOrder;
        return r.Sign < 0 ? r + FieldOrder : r;
    }

    private static byte[] ToBytes(BigInteger value)
    {
        var bytes = new byte[ElementSize];
        var length = value.GetByteCount(isUnsigned: true);
        value.TryWriteBytes(bytes.AsSpan(ElementSize - length), out _, isUnsigned: true, isBigEndian: true);
        return bytes;
    }
}
