namespace EdgeProfile.Models.Serving;

/// <summary>How a <see cref="ModelHost"/> judges candidates and how much history it keeps.</summary>
public sealed class ModelHostOptions
{
    /// <summary>Largest AUC drop (serving − candidate, per labelled task, on the canary holdout) a candidate may show
    /// and still deploy. Default 0.01; must be in [0, 1].</summary>
    public double MaxAucDrop { get; init; } = 0.01;

    /// <summary>How many history entries are kept (oldest dropped first). Default 100; must be &gt; 0.</summary>
    public int HistoryCapacity { get; init; } = 100;

    /// <summary>Refuse models that do not list their feature names in metadata (their inputs can then only be checked
    /// by width). Default true: every model <see cref="Onnx.OnnxExporter"/> writes lists them.</summary>
    public bool RequireFeatureNames { get; init; } = true;

    internal void Validate()
    {
        if (!(MaxAucDrop is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAucDrop), MaxAucDrop, $"{nameof(ModelHostOptions)}.{nameof(MaxAucDrop)} must be in [0, 1]");
        }

        if (HistoryCapacity <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(HistoryCapacity), HistoryCapacity, $"{nameof(ModelHostOptions)}.{nameof(HistoryCapacity)} must be > 0");
        }
    }
}
