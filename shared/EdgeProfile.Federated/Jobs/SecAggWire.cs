using System.Text.Json;
using EdgeProfile.Federated.SecureAggregation;

namespace EdgeProfile.Federated.Jobs;

/// <summary>
/// Secure aggregation's messages as they travel in <c>FlTask.payload</c> / <c>FlSubmission.payload</c> (JSON, binary
/// fields in base64; the masked input in its own binary form), and the round's opening: which session, threshold and
/// fixed-point scale and ring, and the id the participant is known by.
/// </summary>
public static class SecAggWire
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Opens a secure round for one participant: session id, threshold t, scale, its own id, what it sends, and
    /// the ring's bits (absent in openings from hubs before the 32-bit ring: 64).</summary>
    public sealed record Opening(string Session, int Threshold, double Scale, string Client, bool Statistics, int RingBits = 64);

    public static byte[] Write<T>(T message) => JsonSerializer.SerializeToUtf8Bytes(message, Json);

    public static T Read<T>(ReadOnlySpan<byte> payload, string what) =>
        (payload.Length == 0 ? default : JsonSerializer.Deserialize<T>(payload, Json))
        ?? throw new SecAggException($"{what}: empty message");

    /// <summary>Threshold for a roster of <paramref name="n"/>: a strict majority (at least 2), so no minority of
    /// colluding clients with the server can unmask anyone, and up to ⌈n/2⌉ − 1 may drop.</summary>
    public static int ThresholdFor(int n) => Math.Max(2, (n / 2) + 1);

    /// <summary>Fixed-point scale for updates (2^24: ~6e-8 resolution).</summary>
    public const double UpdateScale = 1 << 24;

    /// <summary>
    /// The ring and scale for a round of clipped, unweighted updates (the DP rounds: every participant sends its update
    /// clipped to L2 norm <paramref name="clipNorm"/>, so no coordinate exceeds it, and a weight of 1): the 32-bit ring
    /// when a scale of at least 2^16 keeps any sum of <paramref name="participants"/> such inputs inside it (the scale
    /// is then the largest power of two that does, at most <see cref="UpdateScale"/>), else the 64-bit ring at
    /// <see cref="UpdateScale"/>. Halves the bytes each participant sends and the hub's unmasking work.
    /// </summary>
    public static (int RingBits, double Scale) ForClippedUpdates(int participants, double clipNorm)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(participants, 1);
        if (!(clipNorm > 0) || !double.IsFinite(clipNorm))
        {
            throw new ArgumentOutOfRangeException(nameof(clipNorm), clipNorm, "must be positive and finite");
        }
        // Inputs are within ±max(clipNorm, 1) (the weight is 1); FixedPoint.MaxAbsValue leaves one rounding step per addend.
        var bound = Math.Max(clipNorm, 1.0) * 1.001; // slack for float rounding in the clipping
        var room = (Math.ScaleB(1.0, 31) / participants - 1) / bound;
        var scale = Math.Min(UpdateScale, Math.ScaleB(1.0, (int)Math.Floor(Math.Log2(room))));
        while (scale > 1 && new FixedPoint(scale, 32).MaxAbsValue(participants) < bound)
        {
            scale /= 2;
        }
        return scale >= 1 << 16 ? (32, scale) : (64, UpdateScale);
    }

    /// <summary>Fixed-point scale for feature statistics (sums of cubes reach 1e17; resolution 1/16 is plenty for them).</summary>
    public const double StatisticsScale = 16;
}
