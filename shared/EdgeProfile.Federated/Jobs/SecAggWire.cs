using System.Text.Json;
using EdgeProfile.Federated.SecureAggregation;

namespace EdgeProfile.Federated.Jobs;

/// <summary>
/// Secure aggregation's messages as they travel in <c>FlTask.payload</c> / <c>FlSubmission.payload</c> (JSON, binary
/// fields in base64; the masked input in its own binary form), and the round's opening: which session, threshold and
/// fixed-point scale, and the id the participant is known by.
/// </summary>
public static class SecAggWire
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Opens a secure round for one participant: session id, threshold t, scale, its own id, what it sends.</summary>
    public sealed record Opening(string Session, int Threshold, double Scale, string Client, bool Statistics);

    public static byte[] Write<T>(T message) => JsonSerializer.SerializeToUtf8Bytes(message, Json);

    public static T Read<T>(ReadOnlySpan<byte> payload, string what) =>
        (payload.Length == 0 ? default : JsonSerializer.Deserialize<T>(payload, Json))
        ?? throw new SecAggException($"{what}: empty message");

    /// <summary>Threshold for a roster of <paramref name="n"/>: a strict majority (at least 2), so no minority of
    /// colluding clients with the server can unmask anyone, and up to ⌈n/2⌉ − 1 may drop.</summary>
    public static int ThresholdFor(int n) => Math.Max(2, (n / 2) + 1);

    /// <summary>Fixed-point scale for updates (2^24: ~6e-8 resolution).</summary>
    public const double UpdateScale = 1 << 24;

    /// <summary>Fixed-point scale for feature statistics (sums of cubes reach 1e17; resolution 1/16 is plenty for them).</summary>
    public const double StatisticsScale = 16;
}
