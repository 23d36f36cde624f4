namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// Round 2 message, client → server: the client's fixed-point input plus its self mask and pairwise masks, as ring
/// elements of the round's ring (<see cref="SecAggConfig.RingBits"/>) in little-endian bytes, 4 or 8 per value — also
/// the wire form. Alone it is indistinguishable from uniform noise.
/// </summary>
public sealed record SecAggMaskedInput(string ClientId, byte[] Elements)
{
    /// <summary>The wire form: the elements' bytes.</summary>
    public byte[] ToBytes() => (byte[])Elements.Clone();

    /// <summary>Reads the wire form written by <see cref="ToBytes"/> (the server checks its length against the round).</summary>
    public static SecAggMaskedInput FromBytes(string clientId, ReadOnlySpan<byte> bytes) => new(clientId, bytes.ToArray());
}
