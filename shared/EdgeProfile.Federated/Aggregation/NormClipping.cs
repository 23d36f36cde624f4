namespace EdgeProfile.Federated.Aggregation;

/// <summary>
/// Wraps a combiner: every update whose L2 norm exceeds <see cref="ClipNorm"/> is scaled down to it (a copy; the
/// caller's arrays are not modified) before <see cref="Inner"/> combines them. Bounds what one boosted
/// (model-replacement) update can move the aggregate. Clipped clients stay selected; the inner rule's
/// <see cref="CombinedUpdate.Rejected"/> passes through.
/// </summary>
public sealed class NormClipping : IUpdateCombiner
{
    /// <summary>Clips to <paramref name="clipNorm"/> (C &gt; 0) before <paramref name="inner"/>.</summary>
    public NormClipping(IUpdateCombiner inner, double clipNorm)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (!(clipNorm > 0) || double.IsInfinity(clipNorm))
        {
            throw new ArgumentOutOfRangeException(nameof(clipNorm), clipNorm, "clip norm must be positive and finite");
        }
        Inner = inner;
        ClipNorm = clipNorm;
    }

    /// <summary>The rule applied after clipping.</summary>
    public IUpdateCombiner Inner { get; }

    /// <summary>C: the largest L2 norm an update keeps.</summary>
    public double ClipNorm { get; }

    /// <inheritdoc/>
    public string Name => Inner.Name + "+clip";

    /// <inheritdoc/>
    public CombinedUpdate Combine(IReadOnlyList<ClientUpdate> updates)
    {
        CoordinateBlocks.CommonLength(updates);
        var norms = new double[updates.Count];
        Parallel.For(0, updates.Count, k => norms[k] = UpdateClipping.L2Norm(updates[k].Delta));
        var clipped = new ClientUpdate[updates.Count];
        for (var k = 0; k < updates.Count; k++)
        {
            var update = updates[k];
            if (norms[k] > ClipNorm)
            {
                var copy = new float[update.Delta.Length];
                CoordinateBlocks.Scale(update.Delta, (float)(ClipNorm / norms[k]), copy);
                update = update with { Delta = copy };
            }
            clipped[k] = update;
        }
        return Inner.Combine(clipped);
    }
}
