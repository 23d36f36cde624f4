using System.Buffers.Binary;

namespace EdgeProfile.Federated.Compression;

/// <summary>
/// Symmetric int8 quantisation of an update delta with one scale per chunk of <c>chunkSize</c> values
/// (<c>scale = max|x| / 127</c>, <c>q = round(x / scale)</c> in [−127, 127]). Deterministic round-to-nearest by default;
/// with a seed, stochastic rounding (<c>q = ⌊x/scale + u⌋</c>, u uniform in [0, 1)) makes the decoded value unbiased,
/// which matters when many quantised deltas are averaged. Per-tensor scaling is <c>chunkSize ≥ length</c>.
/// <para>
/// Layout (little-endian): magic "EPQ8" (4 B), version (1 B), flags (1 B, bit 0 = stochastic), length (int32),
/// chunk size (int32), then one float32 scale per chunk, then <c>length</c> signed bytes. A 1M-value delta with chunks of
/// 1024 is 1,000,000 + 3,908 + 14 bytes, about 25.1 % of the 4,000,000 float32 bytes.
/// </para>
/// </summary>
public static class Int8Delta
{
    /// <summary>Default values per scale.</summary>
    public const int DefaultChunkSize = 1024;

    /// <summary>Bytes before the scales.</summary>
    public const int HeaderSize = 14;

    private const uint Magic = 0x38515045; // "EPQ8"
    private const byte Version = 1;

    /// <summary>Encoded size in bytes of <paramref name="length"/> values with <paramref name="chunkSize"/>.</summary>
    public static long EncodedSize(int length, int chunkSize = DefaultChunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        var chunks = ((long)length + chunkSize - 1) / chunkSize;
        return HeaderSize + (4 * chunks) + length;
    }

    /// <summary>
    /// Quantises <paramref name="values"/> (all finite). With <paramref name="stochasticRoundingSeed"/> set, rounds
    /// stochastically from that seed (reproducible); otherwise to nearest.
    /// </summary>
    public static byte[] Encode(ReadOnlySpan<float> values, int chunkSize = DefaultChunkSize, int? stochasticRoundingSeed = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        var length = values.Length;
        var chunks = (int)(((long)length + chunkSize - 1) / chunkSize);
        var output = new byte[EncodedSize(length, chunkSize)];
        var o = output.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(o, Magic);
        o[4] = Version;
        o[5] = stochasticRoundingSeed is null ? (byte)0 : (byte)1;
        BinaryPrimitives.WriteInt32LittleEndian(o[6..], length);
        BinaryPrimitives.WriteInt32LittleEndian(o[10..], chunkSize);
        var scales = o.Slice(HeaderSize, 4 * chunks);
        var data = o[(HeaderSize + (4 * chunks))..];
        var random = stochasticRoundingSeed is { } seed ? new Random(seed) : null;
        for (var c = 0; c < chunks; c++)
        {
            var start = (int)((long)c * chunkSize);
            var chunk = values.Slice(start, Math.Min(chunkSize, length - start));
            float max = 0;
            foreach (var v in chunk)
            {
                if (!float.IsFinite(v))
                {
                    throw new ArgumentException($"value {start} is not finite", nameof(values));
                }
                max = Math.Max(max, Math.Abs(v));
            }
            var scale = max / 127f;
            BinaryPrimitives.WriteSingleLittleEndian(scales[(4 * c)..], scale);
            if (scale == 0)
            {
                continue; // all zero: the bytes are already 0
            }
            var inverse = 1.0 / scale;
            for (var i = 0; i < chunk.Length; i++)
            {
                var x = chunk[i] * inverse;
                var q = random is null ? Math.Round(x, MidpointRounding.ToEven) : Math.Floor(x + random.NextDouble());
                data[start + i] = (byte)(sbyte)Math.Clamp(q, -127, 127);
            }
        }
        return output;
    }

    /// <summary>Restores the float values from what <see cref="Encode"/> produced.</summary>
    /// <exception cref="ArgumentException">The bytes are not an int8 delta or are truncated.</exception>
    public static float[] Decode(byte[] encoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        var e = encoded.AsSpan();
        if (e.Length < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(e) != Magic || e[4] != Version)
        {
            throw new ArgumentException("not an int8 delta", nameof(encoded));
        }
        var length = BinaryPrimitives.ReadInt32LittleEndian(e[6..]);
        var chunkSize = BinaryPrimitives.ReadInt32LittleEndian(e[10..]);
        if (length < 0 || chunkSize < 1 || e.Length != EncodedSize(length, chunkSize))
        {
            throw new ArgumentException($"int8 delta of {e.Length} bytes does not match its header (length {length}, chunk {chunkSize})", nameof(encoded));
        }
        var chunks = (int)(((long)length + chunkSize - 1) / chunkSize);
        var scales = e.Slice(HeaderSize, 4 * chunks);
        var data = e[(HeaderSize + (4 * chunks))..];
        var values = new float[length];
        for (var c = 0; c < chunks; c++)
        {
            var scale = BinaryPrimitives.ReadSingleLittleEndian(scales[(4 * c)..]);
            if (!float.IsFinite(scale) || scale < 0)
            {
                throw new ArgumentException($"chunk {c} has an invalid scale", nameof(encoded));
            }
            var start = (int)((long)c * chunkSize);
            var end = (int)Math.Min((long)start + chunkSize, length);
            for (var i = start; i < end; i++)
            {
                values[i] = (sbyte)data[i] * scale;
            }
        }
        return values;
    }
}
