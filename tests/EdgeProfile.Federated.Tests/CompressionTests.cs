using EdgeProfile.Federated.Compression;
using Xunit.Abstractions;

namespace EdgeProfile.Federated.Tests;

public class CompressionTests(ITestOutputHelper output)
{
    private static float[] GaussianVector(int length, int seed, double sigma = 0.01)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = (float)(sigma * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }
        return values;
    }

    private static double RelativeError(float[] original, float[] decoded)
    {
        double num = 0;
        double den = 0;
        for (var i = 0; i < original.Length; i++)
        {
            double d = decoded[i] - original[i];
            num += d * d;
            den += (double)original[i] * original[i];
        }
        return Math.Sqrt(num / den);
    }

    [Fact]
    public void Hand_checked_chunk_quantises_to_nearest_step()
    {
        // Chunk 1: max |x| = 1.27 → scale 0.01: 1.27 → 127, −0.5 → −50, 0.004 → 0, 0.006 → 1.
        // Chunk 2: all zero → scale 0, decoded zero.
        var encoded = Int8Delta.Encode([1.27f, -0.5f, 0.004f, 0.006f, 0f, 0f], chunkSize: 4);
        Assert.Equal(Int8Delta.HeaderSize + 8 + 6, encoded.Length);
        Assert.Equal([127, 206, 0, 1, 0, 0], encoded[^6..].Select(b => (int)b));
        var decoded = Int8Delta.Decode(encoded);
        Assert.Equal(1.27f, decoded[0], 1e-6f);
        Assert.Equal(-0.5f, decoded[1], 1e-6f);
        Assert.Equal(0f, decoded[2]);
        Assert.Equal(0.01f, decoded[3], 1e-6f);
        Assert.Equal([0f, 0f], decoded[4..]);
    }

    [Fact]
    public void Error_is_bounded_by_half_a_step_and_size_is_a_quarter_plus_scales()
    {
        const int N = 1_000_000;
        var values = GaussianVector(N, seed: 1);
        var encoded = Int8Delta.Encode(values);
        var decoded = Int8Delta.Decode(encoded);
        Assert.Equal(N, decoded.Length);
        for (var c = 0; c < N; c += Int8Delta.DefaultChunkSize)
        {
            var chunk = values.AsSpan(c, Math.Min(Int8Delta.DefaultChunkSize, N - c));
            var step = chunk.ToArray().Max(MathF.Abs) / 127f;
            for (var i = 0; i < chunk.Length; i++)
            {
                Assert.True(Math.Abs(decoded[c + i] - chunk[i]) <= (step / 2) * 1.0001, $"value {c + i}");
            }
        }
        var ratio = encoded.Length / (4.0 * N);
        var error = RelativeError(values, decoded);
        output.WriteLine($"1M N(0, 0.01²) values, chunk {Int8Delta.DefaultChunkSize}: {encoded.Length} B vs {4 * N} B float32 (ratio {ratio:F4}); relative L2 error {error:E2}");
        Assert.Equal(N + (4 * ((N + 1023) / 1024)) + Int8Delta.HeaderSize, encoded.Length);
        Assert.InRange(ratio, 0.25, 0.252);
        // Uniform rounding error of a step s = max/127 has RMS s/√12; max ≈ 4.5σ for 1024 Gaussians → ≈ 1 % at most.
        Assert.InRange(error, 0.001, 0.012);
    }

    [Fact]
    public void Per_tensor_scale_is_one_chunk()
    {
        var values = GaussianVector(5000, seed: 2);
        var encoded = Int8Delta.Encode(values, chunkSize: int.MaxValue);
        Assert.Equal(Int8Delta.HeaderSize + 4 + 5000, encoded.Length);
        Assert.InRange(RelativeError(values, Int8Delta.Decode(encoded)), 0.001, 0.02);
    }

    [Fact]
    public void Stochastic_rounding_is_seeded_and_unbiased()
    {
        // A value at 0.3 of a step rounds to 0 deterministically; stochastically to 1 with probability 0.3.
        var values = new float[100_001];
        Array.Fill(values, 0.003f);
        values[0] = 1.27f; // one chunk, scale 0.01
        var nearest = Int8Delta.Decode(Int8Delta.Encode(values, chunkSize: values.Length));
        Assert.Equal(0f, nearest[1..].Max());
        var a = Int8Delta.Encode(values, chunkSize: values.Length, stochasticRoundingSeed: 7);
        var b = Int8Delta.Encode(values, chunkSize: values.Length, stochasticRoundingSeed: 7);
        Assert.Equal(a, b);
        Assert.NotEqual(a, Int8Delta.Encode(values, chunkSize: values.Length, stochasticRoundingSeed: 8));
        var mean = Int8Delta.Decode(a)[1..].Average();
        Assert.Equal(0.003, mean, 0.0001);
    }

    [Fact]
    public void Decode_rejects_foreign_or_truncated_bytes()
    {
        var encoded = Int8Delta.Encode(GaussianVector(100, seed: 3), chunkSize: 32);
        Assert.Throws<ArgumentException>(() => Int8Delta.Decode(encoded[..^1]));
        Assert.Throws<ArgumentException>(() => Int8Delta.Decode([1, 2, 3]));
        var corrupt = (byte[])encoded.Clone();
        corrupt[0] ^= 0xFF;
        Assert.Throws<ArgumentException>(() => Int8Delta.Decode(corrupt));
        Assert.Throws<ArgumentException>(() => Int8Delta.Encode([1f, float.NaN]));
        Assert.Empty(Int8Delta.Decode(Int8Delta.Encode([])));
    }
}
