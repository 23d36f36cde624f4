namespace EdgeProfile.Models.Serving;

/// <summary>
/// Pins one <see cref="ServedModel"/> until disposed, so several calls (a batch, a report) all use the same version
/// even if the host swaps models meanwhile. Get one from <see cref="ModelHost.Lease"/>; dispose it promptly, since a
/// replaced model's session is only freed once its last lease is gone.
/// </summary>
/// <remarks>Scoring members may be called concurrently; <see cref="Dispose"/> only once no call through the lease is
/// in flight (a second dispose is a no-op).</remarks>
public sealed class ModelLease : IDisposable
{
    private int disposed;

    internal ModelLease(ServedModel model) => Model = model;

    /// <summary>The pinned model.</summary>
    public ServedModel Model { get; }

    /// <summary>Scores one row of raw features (in the host's feature order).</summary>
    public ScoreResult Score(ReadOnlySpan<float> features)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        return new ScoreResult(Model, Model.Scorer.Score(features));
    }

    /// <summary>Scores rows stored row-major; returns one array per output, each <c>[rows × width]</c> row-major.</summary>
    public float[][] ScoreBatch(ReadOnlySpan<float> rows)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        return Model.Scorer.ScoreBatch(rows);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            Model.Release();
        }
    }
}
