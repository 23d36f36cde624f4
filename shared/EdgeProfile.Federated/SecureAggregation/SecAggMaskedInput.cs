using System.Buffers.Binary;

namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// Round 2 message, client → server: the client's fixed-point input plus its self mask and pairwise masks, in
/// <c>Z_(2^64)</c>. Alone it is indistinguishable from uniform noise.
/// </summary>
public sealed record SecAggMaskedInput(string ClientId, ulong[] Values)
{
    /// <summary>The values as little-endian 8-byte integers (the wire form).</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Values.Length * sizeof(ulong)];
        for (var i = 0; i < Values.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * sizeof(ulong)), Values[i]);
        }
        return bytes;
    }

    /// <summary>Reads the wire form written by <see cref="ToBytes"/>.</summary>
    public static SecAggMaskedInput FromBytes(string clientId, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % sizeof(ulong) != 0)
        {
            throw new ArgumentException($"masked input of {clientId}: {bytes.Length} bytes is not a whole number of values");
        }
        var values = new ulong[bytes.Length / sizeof(ulong)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(i * sizeof(ulong))..]);
        }
        return new SecAggMaskedInput(clientId, values);
    }
}
