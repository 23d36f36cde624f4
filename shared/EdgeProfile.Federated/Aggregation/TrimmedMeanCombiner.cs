using System.Numerics;

namespace EdgeProfile.Federated.Aggregation;

/// <summary>
/// Coordinate-wise trimmed mean (Yin et al., ICML 2018): per parameter, drop the <c>⌊β·n⌋</c> smallest and the
/// <c>⌊β·n⌋</c> largest client values and average the rest (unweighted, in float). β = 0 is the plain unweighted mean.
/// Tolerates up to <c>⌊β·n⌋</c> arbitrary clients. No client is rejected as a whole.
/// </summary>
public sealed class TrimmedMeanCombiner : IUpdateCombiner
{
    /// <summary>Creates the rule with trim fraction <paramref name="trimFraction"/> (β, in [0, 0.5)).</summary>
    public TrimmedMeanCombiner(double trimFraction = 0.1)
    {
        if (!(trimFraction >= 0 && trimFraction < 0.5))
        {
            throw new ArgumentOutOfRangeException(nameof(trimFraction), trimFraction, "trim fraction must be in [0, 0.5)");
        }
        TrimFraction = trimFraction;
    }

    /// <summary>β: the fraction trimmed from each end of every coordinate.</summary>
    public double TrimFraction { get; }

    /// <inheritdoc/>
    public string Name => "trimmed-mean";

    /// <summary>How many values are dropped from each end for <paramref name="clients"/> updates.</summary>
    public int Trimmed(int clients) => (int)Math.Floor(TrimFraction * clients);

    /// <inheritdoc/>
    public CombinedUpdate Combine(IReadOnlyList<ClientUpdate> updates)
    {
        CoordinateBlocks.CommonLength(updates);
        var n = updates.Count;
        var t = Trimmed(n);
        if (n - (2 * t) < 1)
        {
            throw new ArgumentException($"trimming {t} from each end of {n} updates leaves nothing", nameof(updates));
        }
        var kept = n - (2 * t);
        var delta = CoordinateBlocks.PerCoordinateSorted(updates, sorted =>
        {
            var sum = Vector<float>.Zero;
            for (var k = t; k < n - t; k++)
            {
                sum += sorted[k];
            }
            return sum / kept;
        });
        return new CombinedUpdate(delta, updates.Select(u => u.ClientId).ToArray(), []);
    }
}
