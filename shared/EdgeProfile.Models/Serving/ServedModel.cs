using EdgeProfile.Models.Scoring;

namespace EdgeProfile.Models.Serving;

/// <summary>
/// A model loaded by a <see cref="ModelHost"/>: its version, metadata and outputs, and the ONNX Runtime session
/// behind them. Immutable; the host swaps whole instances, so everything read from one instance (including every
/// <see cref="ScoreResult"/> it produced) belongs to one version.
/// </summary>
/// <remarks>
/// Reference counted: the host holds one reference while the model is current or previous, and every in-flight
/// <see cref="ModelHost.Score"/> call or open <see cref="ModelLease"/> holds one more. The session is disposed when
/// the last reference goes, so a model being replaced finishes the calls already running on it.
/// </remarks>
public sealed class ServedModel
{
    private readonly OnnxScorer scorer;
    private readonly int[] offsets;
    private int references = 1;

    internal ServedModel(OnnxScorer scorer, string version, DateTimeOffset deployedAt, IReadOnlyList<string> features)
    {
        this.scorer = scorer;
        Version = version;
        Features = features;
        DeployedAt = deployedAt;
        offsets = new int[scorer.Outputs.Count];
        for (int i = 1; i < offsets.Length; i++)
        {
            offsets[i] = offsets[i - 1] + scorer.Outputs[i - 1].Width;
        }
    }

    /// <summary>The version the model was deployed as.</summary>
    public string Version { get; }

    /// <summary>The features it takes, in row order.</summary>
    public IReadOnlyList<string> Features { get; }

    /// <summary>When the host started serving it.</summary>
    public DateTimeOffset DeployedAt { get; }

    /// <summary>Where it was loaded from (path, or <c>model {version}</c> for bytes).</summary>
    public string Source => scorer.Source;

    /// <summary>The model's <c>metadata_props</c> (features, tasks, architecture, quantization, and whatever the
    /// trainer added). Readable after the model is disposed.</summary>
    public IReadOnlyDictionary<string, string> Metadata => scorer.Metadata;

    /// <summary>Outputs (tasks) in model order, with their widths.</summary>
    public IReadOnlyList<ScorerOutput> Outputs => scorer.Outputs;

    /// <summary>Sum of the outputs' widths.</summary>
    public int OutputWidth => scorer.OutputWidth;

    /// <summary>True once the host and every lease and in-flight call have let go of the model and its session is
    /// disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref references) == 0;

    internal OnnxScorer Scorer => scorer;

    /// <summary>Index of the output named <paramref name="task"/>, or -1.</summary>
    public int IndexOf(string task)
    {
        var outputs = scorer.Outputs;
        for (int i = 0; i < outputs.Count; i++)
        {
            if (string.Equals(outputs[i].Name, task, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <inheritdoc />
    public override string ToString() => $"model {Version}";

    internal int Offset(int index) => offsets[index];

    /// <summary>Takes a reference unless the count already reached zero (the model is disposed or being disposed).</summary>
    internal bool TryAcquire()
    {
        int count = Volatile.Read(ref references);
        while (count > 0)
        {
            int seen = Interlocked.CompareExchange(ref references, count + 1, count);
            if (seen == count)
            {
                return true;
            }

            count = seen;
        }

        return false;
    }

    internal void Release()
    {
        int count = Interlocked.Decrement(ref references);
        if (count == 0)
        {
            scorer.Dispose();
        }
        else if (count < 0)
        {
            throw new InvalidOperationException($"{this} released more often than acquired");
        }
    }
}
