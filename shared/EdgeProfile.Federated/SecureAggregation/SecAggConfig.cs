namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// Parameters of one secure-aggregation round, identical on the server and on every client of the round.
/// </summary>
public sealed record SecAggConfig
{
    /// <summary>
    /// Shamir threshold <c>t</c>: the round completes only while at least <c>t</c> clients remain at every step, and
    /// <c>t</c> colluding parties (server included) are needed to learn one client's masks. Must be in
    /// <c>[2, roster size]</c>; choose more than half of the roster, since a server that could gather <c>t</c>
    /// shares of both secrets of a client would unmask it.
    /// </summary>
    public required int Threshold { get; init; }

    /// <summary>
    /// Fixed-point scale of <see cref="FixedPoint"/>; default <c>2^24</c>. The decoded sum is exact to
    /// <c>0.5 · clients / Scale</c> per coordinate and must satisfy <c>|Σ values| · Scale &lt; 2^63</c>.
    /// </summary>
    public double Scale { get; init; } = 1 << 24;

    /// <summary>
    /// Identifies the round (for example the hub's round number); bound into every key derivation and ciphertext, so
    /// messages of one round cannot be replayed in another.
    /// </summary>
    public string SessionId { get; init; } = "";

    /// <summary>
    /// Bits of the ring <c>Z_(2^RingBits)</c> the inputs are encoded and masked in: 64 (the default) or 32. A 32-bit
    /// ring halves what each client sends and the server's work (fewer bytes to add, half the mask stream), but holds
    /// only sums with <c>|Σ values| · Scale &lt; 2^31</c>; use it where the inputs are bounded, for example clipped
    /// updates (see <c>SecAggWire.ForClippedUpdates</c>).
    /// </summary>
    public int RingBits { get; init; } = 64;

    /// <summary>Bytes of one ring element (4 or 8).</summary>
    public int ElementBytes => RingBits / 8;

    /// <summary>Cores used to expand masks (<c>-1</c>, the default: all of them).</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Throws when the configuration cannot run a round over <paramref name="rosterSize"/> clients.</summary>
    public void Validate(int rosterSize)
    {
        if (Threshold < 2)
        {
            throw new ArgumentException($"SecAggConfig.Threshold must be at least 2, got {Threshold}");
        }
        if (rosterSize < Threshold)
        {
            throw new ArgumentException(
                $"the roster has {rosterSize} clients, fewer than SecAggConfig.Threshold {Threshold}", nameof(rosterSize));
        }
        if (!double.IsFinite(Scale) || Scale < 1)
        {
            throw new ArgumentException($"SecAggConfig.Scale must be finite and at least 1, got {Scale}");
        }
        if (RingBits is not (32 or 64))
        {
            throw new ArgumentException($"SecAggConfig.RingBits must be 32 or 64, got {RingBits}");
        }
        if (MaxDegreeOfParallelism == 0 || MaxDegreeOfParallelism < -1)
        {
            throw new ArgumentException(
                $"SecAggConfig.MaxDegreeOfParallelism must be -1 or positive, got {MaxDegreeOfParallelism}");
        }
    }
}
