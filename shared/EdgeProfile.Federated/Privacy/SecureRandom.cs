using System.Security.Cryptography;

namespace EdgeProfile.Federated.Privacy;

/// <summary>
/// A <see cref="Random"/> backed by <see cref="RandomNumberGenerator"/>, so DP noise cannot be predicted from earlier
/// outputs (System.Random's generator can). Doubles carry 53 random bits.
/// </summary>
public sealed class SecureRandom : Random
{
    /// <inheritdoc/>
    public override double NextDouble() => Sample();

    /// <inheritdoc/>
    protected override double Sample()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        var bits = BitConverter.ToUInt64(bytes) >> 11;
        return bits * (1.0 / (1UL << 53));
    }

    /// <inheritdoc/>
    public override int Next() => RandomNumberGenerator.GetInt32(int.MaxValue);

    /// <inheritdoc/>
    public override int Next(int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return maxValue == 0 ? 0 : RandomNumberGenerator.GetInt32(maxValue);
    }

    /// <inheritdoc/>
    public override int Next(int minValue, int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        return minValue == maxValue ? minValue : RandomNumberGenerator.GetInt32(minValue, maxValue);
    }

    /// <inheritdoc/>
    public override void NextBytes(byte[] buffer) => RandomNumberGenerator.Fill(buffer);

    /// <inheritdoc/>
    public override void NextBytes(Span<byte> buffer) => RandomNumberGenerator.Fill(buffer);
}
