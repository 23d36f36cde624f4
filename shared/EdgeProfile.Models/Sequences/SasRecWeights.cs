namespace EdgeProfile.Models.Sequences;

/// <summary>
/// The weights of a SASRec next-item model (Kang &amp; McAuley, 2018) in plain arrays, so the ONNX exporter and the
/// reference forward pass need no TorchSharp. Matrices are stored <c>[in, out]</c> row-major (<c>y = x·W + b</c>, a
/// torch <c>Linear</c> weight transposed). Item ids run 1..<see cref="ItemCount"/>; row 0 of the item embedding is
/// padding and stays zero.
/// </summary>
public sealed class SasRecWeights
{
    /// <summary>The number of items; the item embedding has <c>ItemCount + 1</c> rows.</summary>
    public required int ItemCount { get; init; }

    /// <summary>The history length the model reads (longer histories keep their last items).</summary>
    public required int MaxLength { get; init; }

    /// <summary>The hidden size d.</summary>
    public required int Dimensions { get; init; }

    /// <summary>Attention heads; <see cref="Dimensions"/> is a multiple of it.</summary>
    public required int Heads { get; init; }

    /// <summary>The layer normalisations' epsilon.</summary>
    public float NormEpsilon { get; init; } = 1e-8f;

    /// <summary>(ItemCount + 1) × d, row 0 = padding (zeros); also the output projection (scores = hidden · Eᵀ).</summary>
    public required float[] ItemEmbedding { get; init; }

    /// <summary>MaxLength × d learned positions.</summary>
    public required float[] PositionEmbedding { get; init; }

    /// <summary>The self-attention blocks in order.</summary>
    public required IReadOnlyList<SasRecBlockWeights> Blocks { get; init; }

    /// <summary>The final layer normalisation's scale (d).</summary>
    public required float[] FinalNormScale { get; init; }

    /// <summary>The final layer normalisation's bias (d).</summary>
    public required float[] FinalNormBias { get; init; }

    /// <summary>Checks every size; throws <see cref="InvalidDataException"/> naming the first wrong array.</summary>
    public void Validate()
    {
        if (ItemCount < 1 || MaxLength < 1 || Dimensions < 1 || Heads < 1 || Dimensions % Heads != 0)
        {
            throw new InvalidDataException(
                $"SASRec shape is invalid: item_count {ItemCount}, max_length {MaxLength}, dimensions {Dimensions}, heads {Heads} (all ≥ 1, dimensions a multiple of heads)");
        }

        if (!(NormEpsilon > 0) || float.IsInfinity(NormEpsilon))
        {
            throw new InvalidDataException($"SASRec norm epsilon must be positive, got {NormEpsilon}");
        }

        var d = Dimensions;
        Check(nameof(ItemEmbedding), ItemEmbedding, (long)(ItemCount + 1) * d);
        Check(nameof(PositionEmbedding), PositionEmbedding, (long)MaxLength * d);
        Check(nameof(FinalNormScale), FinalNormScale, d);
        Check(nameof(FinalNormBias), FinalNormBias, d);
        if (Blocks is null || Blocks.Count == 0)
        {
            throw new InvalidDataException("SASRec needs at least one block");
        }

        for (var b = 0; b < Blocks.Count; b++)
        {
            Blocks[b].Validate(d, $"block {b}");
        }
    }

    internal static void Check(string name, float[]? values, long expected)
    {
        if (values is null || values.LongLength != expected)
        {
            throw new InvalidDataException($"SASRec weight {name} has {values?.LongLength ?? 0} values, expected {expected}");
        }

        foreach (var v in values)
        {
            if (!float.IsFinite(v))
            {
                throw new InvalidDataException($"SASRec weight {name} holds a non-finite value ({v})");
            }
        }
    }
}

/// <summary>One SASRec block: pre-norm causal self-attention, then a pre-norm point-wise feed-forward, both residual.</summary>
public sealed class SasRecBlockWeights
{
    /// <summary>Scale of the norm applied before attention (d).</summary>
    public required float[] AttentionNormScale { get; init; }

    /// <summary>Bias of the norm applied before attention (d).</summary>
    public required float[] AttentionNormBias { get; init; }

    /// <summary>Query projection, d × d ([in, out]).</summary>
    public required float[] Query { get; init; }

    /// <summary>Query bias (d).</summary>
    public required float[] QueryBias { get; init; }

    /// <summary>Key projection, d × d ([in, out]).</summary>
    public required float[] Key { get; init; }

    /// <summary>Key bias (d).</summary>
    public required float[] KeyBias { get; init; }

    /// <summary>Value projection, d × d ([in, out]).</summary>
    public required float[] Value { get; init; }

    /// <summary>Value bias (d).</summary>
    public required float[] ValueBias { get; init; }

    /// <summary>Output projection of the concatenated heads, d × d ([in, out]).</summary>
    public required float[] Output { get; init; }

    /// <summary>Output bias (d).</summary>
    public required float[] OutputBias { get; init; }

    /// <summary>Scale of the norm applied before the feed-forward (d).</summary>
    public required float[] FeedForwardNormScale { get; init; }

    /// <summary>Bias of the norm applied before the feed-forward (d).</summary>
    public required float[] FeedForwardNormBias { get; init; }

    /// <summary>First feed-forward layer, d × d ([in, out]), followed by ReLU.</summary>
    public required float[] FeedForward1 { get; init; }

    /// <summary>First feed-forward bias (d).</summary>
    public required float[] FeedForward1Bias { get; init; }

    /// <summary>Second feed-forward layer, d × d ([in, out]).</summary>
    public required float[] FeedForward2 { get; init; }

    /// <summary>Second feed-forward bias (d).</summary>
    public required float[] FeedForward2Bias { get; init; }

    internal void Validate(int d, string where)
    {
        long dd = (long)d * d;
        SasRecWeights.Check($"{where} {nameof(AttentionNormScale)}", AttentionNormScale, d);
        SasRecWeights.Check($"{where} {nameof(AttentionNormBias)}", AttentionNormBias, d);
        SasRecWeights.Check($"{where} {nameof(Query)}", Query, dd);
        SasRecWeights.Check($"{where} {nameof(QueryBias)}", QueryBias, d);
        SasRecWeights.Check($"{where} {nameof(Key)}", Key, dd);
        SasRecWeights.Check($"{where} {nameof(KeyBias)}", KeyBias, d);
        SasRecWeights.Check($"{where} {nameof(Value)}", Value, dd);
        SasRecWeights.Check($"{where} {nameof(ValueBias)}", ValueBias, d);
        SasRecWeights.Check($"{where} {nameof(Output)}", Output, dd);
        SasRecWeights.Check($"{where} {nameof(OutputBias)}", OutputBias, d);
        SasRecWeights.Check($"{where} {nameof(FeedForwardNormScale)}", FeedForwardNormScale, d);
        SasRecWeights.Check($"{where} {nameof(FeedForwardNormBias)}", FeedForwardNormBias, d);
        SasRecWeights.Check($"{where} {nameof(FeedForward1)}", FeedForward1, dd);
        SasRecWeights.Check($"{where} {nameof(FeedForward1Bias)}", FeedForward1Bias, d);
        SasRecWeights.Check($"{where} {nameof(FeedForward2)}", FeedForward2, dd);
        SasRecWeights.Check($"{where} {nameof(FeedForward2Bias)}", FeedForward2Bias, d);
    }
}
