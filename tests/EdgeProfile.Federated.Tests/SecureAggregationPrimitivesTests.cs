using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using EdgeProfile.Federated.SecureAggregation;

namespace EdgeProfile.Federated.Tests;

public class SecureAggregationPrimitivesTests
{
    [Fact]
    public void Any_t_shares_reconstruct_the_secret_and_t_minus_1_do_not()
    {
        const int N = 7;
        const int T = 4;
        using var rng = RandomNumberGenerator.Create();
        for (var trial = 0; trial < 2; trial++)
        {
            var secret = ShamirSecretSharing.RandomElement(rng);
            var shares = ShamirSecretSharing.Split(secret, T, N, rng);
            Assert.Equal(N, shares.Length);
            foreach (var subset in Subsets(N, T))
            {
                var picked = subset.Select(i => (i + 1, shares[i])).ToArray();
                Assert.Equal(secret, ShamirSecretSharing.Reconstruct(picked));
            }
            foreach (var subset in Subsets(N, T - 1))
            {
                var picked = subset.Select(i => (i + 1, shares[i])).ToArray();
                Assert.NotEqual(secret, ShamirSecretSharing.Reconstruct(picked));
            }
            // All n shares (more than t) also give the secret; a wrong index does not.
            Assert.Equal(secret, ShamirSecretSharing.Reconstruct(shares.Select((s, i) => (i + 1, s)).ToArray()));
            Assert.NotEqual(secret, ShamirSecretSharing.Reconstruct(
                [(1, shares[0]), (2, shares[1]), (3, shares[2]), (5, shares[3])]));
        }
    }

    [Fact]
    public void Shamir_field_order_is_prime_and_holds_a_p256_private_key()
    {
        var q = ShamirSecretSharing.FieldOrder;
        Assert.True(IsProbablePrime(q));
        // The P-256 group order: every private scalar is below it, so a key is shared as is.
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var d = key.ExportParameters(true).D!;
        Assert.True(new BigInteger(d, isUnsigned: true, isBigEndian: true) < q);
        using var rng = RandomNumberGenerator.Create();
        var shares = ShamirSecretSharing.Split(d, 3, 5, rng);
        var back = ShamirSecretSharing.Reconstruct([(2, shares[1]), (4, shares[3]), (5, shares[4])]);
        using var rebuilt = ECDiffieHellman.Create();
        rebuilt.ImportParameters(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = back });
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), rebuilt.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public void Mask_generator_is_aes128_counter_mode_as_documented()
    {
        var key = RandomNumberGenerator.GetBytes(SecAggPrg.KeySize);
        foreach (var length in new[] { 1, 2, 15, 16, 17, 33, 1001, 4096 * 3 + 5 })
        {
            CheckAgainstAesEcb<ulong>(key, length, (k, d) => SecAggPrg.Add(k, d), (k, d) => SecAggPrg.Subtract(k, d));
        }
    }

    [Fact]
    public void Mask_generator_in_the_32_bit_ring_reads_the_same_stream_four_bytes_at_a_time()
    {
        var key = RandomNumberGenerator.GetBytes(SecAggPrg.KeySize);
        foreach (var length in new[] { 1, 3, 4, 5, 31, 32, 33, 1001, 8192 * 3 + 7 })
        {
            CheckAgainstAesEcb<uint>(key, length, (k, d) => SecAggPrg.Add(k, d), (k, d) => SecAggPrg.Subtract(k, d));
        }
    }

    /// <summary>The stream of <paramref name="length"/> ring elements equals an independent reference — the platform's
    /// AES-128-ECB over blocks <c>LE64(i) || 0^64</c>, read as little-endian elements — and adding then subtracting it
    /// gives the values back.</summary>
    private static void CheckAgainstAesEcb<T>(byte[] key, int length, Action<byte[], T[]> add, Action<byte[], T[]> subtract)
        where T : unmanaged, IBinaryInteger<T>
    {
        var size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        var blocks = ((length * size) + 15) / 16;
        var counters = new byte[blocks * 16];
        for (var i = 0; i < blocks; i++)
        {
            BitConverter.TryWriteBytes(counters.AsSpan(i * 16), (ulong)i);
        }
        using var aes = Aes.Create();
        aes.Key = key;
        var expected = MemoryMarshal.Cast<byte, T>(aes.EncryptEcb(counters, PaddingMode.None)).ToArray()[..length];

        var stream = new T[length];
        add(key, stream);
        Assert.Equal(expected, stream);

        var values = Enumerable.Range(0, length).Select(i => T.CreateTruncating(i) * T.CreateTruncating(0x9E3779B97F4A7C15UL)).ToArray();
        var masked = (T[])values.Clone();
        add(key, masked);
        Assert.Equal(values.Zip(expected, (v, m) => v + m), masked);
        subtract(key, masked);
        Assert.Equal(values, masked);
    }

    [Fact]
    public void Fixed_point_in_the_32_bit_ring_wraps_nothing_within_its_limit_and_refuses_beyond_it()
    {
        var fixedPoint = new FixedPoint(1 << 24, ringBits: 32);
        Assert.Equal(4, fixedPoint.ElementBytes);
        // 2^31 / 2^24 = 128: one value at that magnitude no longer fits.
        Assert.Throws<ArgumentOutOfRangeException>(() => fixedPoint.EncodeBytes([128f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => fixedPoint.EncodeBytes([float.PositiveInfinity]));
        Assert.Throws<InvalidOperationException>(() => fixedPoint.Encode([1f]));
        var limit = (float)fixedPoint.MaxAbsValue(100) * 0.999f;
        foreach (var sign in new[] { 1f, -1f })
        {
            var sum = 0u;
            for (var i = 0; i < 100; i++)
            {
                sum = unchecked(sum + BitConverter.ToUInt32(fixedPoint.EncodeBytes([sign * limit])));
            }
            var decoded = fixedPoint.DecodeSumBytes(BitConverter.GetBytes(sum))[0];
            Assert.InRange(decoded - (100.0 * sign * limit), -100 * 0.5 / (1 << 24), 100 * 0.5 / (1 << 24));
        }
    }

    [Fact]
    public void Fixed_point_sums_of_negative_and_positive_values_decode_within_the_rounding_bound()
    {
        var fixedPoint = new FixedPoint(1 << 20);
        var random = new Random(11);
        const int Clients = 50;
        var inputs = Enumerable.Range(0, Clients)
            .Select(_ => Enumerable.Range(0, 200).Select(_ => (float)(random.NextDouble() * 200 - 100)).ToArray())
            .ToArray();
        var ring = new ulong[200];
        var plain = new double[200];
        foreach (var input in inputs)
        {
            var encoded = fixedPoint.Encode(input);
            for (var i = 0; i < ring.Length; i++)
            {
                ring[i] = unchecked(ring[i] + encoded[i]);
                plain[i] += input[i];
            }
        }
        var decoded = fixedPoint.DecodeSum(ring);
        Assert.Contains(plain, v => v < -50);
        for (var i = 0; i < plain.Length; i++)
        {
            Assert.InRange(decoded[i] - plain[i], -Clients * 0.5 / (1 << 20), Clients * 0.5 / (1 << 20));
        }
        Assert.Equal(-1.5, fixedPoint.Decode(fixedPoint.Encode([-1.5f])[0]));
    }

    [Fact]
    public void Fixed_point_range_limit_is_enforced_before_masking()
    {
        var fixedPoint = new FixedPoint(1 << 24);
        // 2^63 / 2^24 = 2^39: one value at that magnitude no longer fits.
        Assert.Throws<ArgumentOutOfRangeException>(() => fixedPoint.Encode([MathF.Pow(2, 39)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => fixedPoint.Encode([float.NaN]));
        var limit = fixedPoint.MaxAbsValue(10);
        var ring = 0UL;
        for (var i = 0; i < 10; i++)
        {
            ring = unchecked(ring + fixedPoint.Encode([(float)limit * 0.999f])[0]);
        }
        Assert.True(fixedPoint.Decode(ring) > 0);

        // A client refuses a value that a sum over its roster could wrap.
        using var round = new SecureAggregationRound(clients: 3, threshold: 2, parameters: 2, seed: 12);
        round.Advertise();
        round.Share();
        var tooLarge = new[] { 0f, (float)(fixedPoint.MaxAbsValue(3) * 1.01) };
        Assert.Throws<ArgumentOutOfRangeException>(() => round.Clients["store-00"].MaskInput(tooLarge, round.Routed["store-00"]));
    }

    private static IEnumerable<int[]> Subsets(int n, int k)
    {
        if (k == 0)
        {
            yield return [];
            yield break;
        }
        for (var first = 0; first <= n - k; first++)
        {
            foreach (var rest in Subsets(n - first - 1, k - 1))
            {
                yield return [first, .. rest.Select(r => r + first + 1)];
            }
        }
    }

    private static bool IsProbablePrime(BigInteger n)
    {
        // Miller–Rabin with the first 20 prime bases.
        var d = n - 1;
        var s = 0;
        while (d.IsEven)
        {
            d >>= 1;
            s++;
        }
        foreach (var a in new[] { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71 })
        {
            var x = BigInteger.ModPow(a, d, n);
            if (x.IsOne || x == n - 1)
            {
                continue;
            }
            var witness = true;
            for (var r = 1; r < s && witness; r++)
            {
                x = BigInteger.ModPow(x, 2, n);
                witness = x != n - 1;
            }
            if (witness)
            {
                return false;
            }
        }
        return true;
    }
}
