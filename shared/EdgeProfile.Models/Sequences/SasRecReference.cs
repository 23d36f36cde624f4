namespace EdgeProfile.Models.Sequences;

/// <summary>
/// A plain C# SASRec forward pass that computes exactly the definition the TorchSharp module and the ONNX export
/// follow (pre-norm causal self-attention blocks; keys and values from the un-normalised input; the last position's
/// final-norm output is the customer embedding and its dot products with the item embeddings are the scores).
/// Slow and simple on purpose: it is the independent oracle the other implementations are compared with.
/// </summary>
/// <remarks>
/// Element-wise steps are done in <see cref="float"/> like the other implementations; dot products, layer-norm
/// statistics and the softmax accumulate in <see cref="double"/>, so this is at least as accurate as either.
/// Thread-safe (no shared state).
/// </remarks>
public static class SasRecReference
{
    /// <summary>The additive causal mask for a future key (<c>k &gt; i</c>).</summary>
    public const float FutureMask = -1e9f;

    /// <summary>
    /// The model input for one history (oldest first): its last <paramref name="maxLength"/> items, left-padded with 0
    /// so the most recent item is at position <c>maxLength − 1</c>.
    /// </summary>
    public static long[] LeftPad(ReadOnlySpan<int> history, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        var ids = new long[maxLength];
        LeftPad(history, ids);
        return ids;
    }

    /// <summary>As <see cref="LeftPad(ReadOnlySpan{int}, int)"/>, into <paramref name="destination"/> (its length is
    /// the model's maximum length); allocates nothing.</summary>
    public static void LeftPad(ReadOnlySpan<int> history, Span<long> destination)
    {
        int length = destination.Length;
        if (history.Length > length)
        {
            history = history[^length..];
        }

        int pad = length - history.Length;
        destination[..pad].Clear();
        for (int i = 0; i < history.Length; i++)
        {
            destination[pad + i] = history[i];
        }
    }

    /// <summary>Runs the model on histories (oldest first), each left-padded/truncated by <see cref="LeftPad(ReadOnlySpan{int}, int)"/>.</summary>
    /// <exception cref="InvalidDataException">The weights are inconsistent.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A history holds an id outside 0..ItemCount.</exception>
    public static SasRecReferenceOutput Forward(SasRecWeights weights, IReadOnlyList<int[]> histories)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(histories);
        int length = weights.MaxLength;
        var ids = new long[(long)histories.Count * length];
        for (int b = 0; b < histories.Count; b++)
        {
            ArgumentNullException.ThrowIfNull(histories[b]);
            LeftPad(histories[b], ids.AsSpan(b * length, length));
        }

        return Forward(weights, ids);
    }

    /// <summary>
    /// Runs the model on padded id rows: <paramref name="ids"/> is <c>[B, MaxLength]</c> row-major (0 = padding), as the
    /// ONNX input <c>item_ids</c>.
    /// </summary>
    /// <exception cref="InvalidDataException">The weights are inconsistent.</exception>
    /// <exception cref="ArgumentException">The ids are not whole rows, or hold an id outside 0..ItemCount.</exception>
    public static SasRecReferenceOutput Forward(SasRecWeights weights, ReadOnlySpan<long> ids)
    {
        ArgumentNullException.ThrowIfNull(weights);
        weights.Validate();
        int length = weights.MaxLength;
        if (ids.Length % length != 0)
        {
            throw new ArgumentException($"ids hold {ids.Length} values, not whole rows of {length}", nameof(ids));
        }

        foreach (long id in ids)
        {
            if (id < 0 || id > weights.ItemCount)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"item ids run 0..{weights.ItemCount} (0 = padding)");
            }
        }

        int batch = ids.Length / length;
        int d = weights.Dimensions;
        int h = weights.Heads;
        int items = weights.ItemCount + 1;
        var output = new SasRecReferenceOutput(
            batch,
            new float[batch * d],
            new float[(long)batch * items],
            new float[batch * length],
            new float[batch * h * length * length]);
        var row = new Row(length, d);
        for (int b = 0; b < batch; b++)
        {
            ForwardRow(weights, ids.Slice(b * length, length), row, output, b);
        }

        return output;
    }

    private static void ForwardRow(SasRecWeights w, ReadOnlySpan<long> ids, Row row, SasRecReferenceOutput output, int b)
    {
        int length = w.MaxLength;
        int d = w.Dimensions;
        int heads = w.Heads;
        int dh = d / heads;
        float sqrtD = MathF.Sqrt(d);
        double sqrtDh = Math.Sqrt(dh);
        var x = row.X;

        // x = (E[ids]·√d + P) · mask
        for (int p = 0; p < length; p++)
        {
            int id = (int)ids[p];
            float mask = id != 0 ? 1f : 0f;
            for (int c = 0; c < d; c++)
            {
                x[(p * d) + c] = ((w.ItemEmbedding[(id * d) + c] * sqrtD) + w.PositionEmbedding[(p * d) + c]) * mask;
            }
        }

        var scores = new double[length];
        for (int blockIndex = 0; blockIndex < w.Blocks.Count; blockIndex++)
        {
            var block = w.Blocks[blockIndex];
            bool last = blockIndex == w.Blocks.Count - 1;
            LayerNorm(x, length, d, block.AttentionNormScale, block.AttentionNormBias, w.NormEpsilon, row.Q);
            Linear(row.Q, length, d, d, block.Query, block.QueryBias, row.QueryProjected);
            Linear(x, length, d, d, block.Key, block.KeyBias, row.KeyProjected);
            Linear(x, length, d, d, block.Value, block.ValueBias, row.ValueProjected);

            Array.Clear(row.Heads);
            for (int j = 0; j < heads; j++)
            {
                int offset = j * dh;
                for (int i = 0; i < length; i++)
                {
                    double max = double.NegativeInfinity;
                    for (int k = 0; k < length; k++)
                    {
                        double dot = 0;
                        for (int c = 0; c < dh; c++)
                        {
                            dot += (double)row.QueryProjected[(i * d) + offset + c] * row.KeyProjected[(k * d) + offset + c];
                        }

                        double s = (dot / sqrtDh) + (k <= i ? 0.0 : FutureMask);
                        scores[k] = s;
                        max = Math.Max(max, s);
                    }

                    double sum = 0;
                    for (int k = 0; k < length; k++)
                    {
                        scores[k] = Math.Exp(scores[k] - max);
                        sum += scores[k];
                    }

                    for (int k = 0; k < length; k++)
                    {
                        float a = (float)(scores[k] / sum);
                        if (last)
                        {
                            output.AttentionMaps[(((((b * heads) + j) * length) + i) * length) + k] = a;
                        }

                        for (int c = 0; c < dh; c++)
                        {
                            row.Heads[(i * d) + offset + c] += a * row.ValueProjected[(k * d) + offset + c];
                        }
                    }
                }
            }

            Linear(row.Heads, length, d, d, block.Output, block.OutputBias, row.Attended);
            for (int n = 0; n < length * d; n++)
            {
                x[n] = row.Q[n] + row.Attended[n];
            }

            LayerNorm(x, length, d, block.FeedForwardNormScale, block.FeedForwardNormBias, w.NormEpsilon, row.Y);
            Linear(row.Y, length, d, d, block.FeedForward1, block.FeedForward1Bias, row.Inner);
            for (int n = 0; n < length * d; n++)
            {
                row.Inner[n] = Math.Max(row.Inner[n], 0f);
            }

            Linear(row.Inner, length, d, d, block.FeedForward2, block.FeedForward2Bias, row.Attended);
            for (int p = 0; p < length; p++)
            {
                float mask = ids[p] != 0 ? 1f : 0f;
                for (int c = 0; c < d; c++)
                {
                    int n = (p * d) + c;
                    x[n] = (row.Y[n] + row.Attended[n]) * mask;
                }
            }
        }

        // hidden = LayerNorm(x)[L − 1]; scores = hidden · Eᵀ; attention = mean over heads of the last query's row.
        var hidden = output.Hidden.AsSpan(b * d, d);
        LayerNorm(x.AsSpan((length - 1) * d, d), 1, d, w.FinalNormScale, w.FinalNormBias, w.NormEpsilon, hidden);
        int items = w.ItemCount + 1;
        for (int item = 0; item < items; item++)
        {
            double dot = 0;
            for (int c = 0; c < d; c++)
            {
                dot += (double)hidden[c] * w.ItemEmbedding[(item * d) + c];
            }

            output.Scores[((long)b * items) + item] = (float)dot;
        }

        for (int k = 0; k < length; k++)
        {
            double sum = 0;
            for (int j = 0; j < heads; j++)
            {
                sum += output.AttentionMaps[(((((b * heads) + j) * length) + (length - 1)) * length) + k];
            }

            output.Attention[(b * length) + k] = (float)(sum / heads);
        }
    }

    /// <summary>Per row over the last axis: <c>(v − mean) / √(biased variance + eps) · scale + bias</c>.</summary>
    private static void LayerNorm(ReadOnlySpan<float> input, int rows, int d, float[] scale, float[] bias, float epsilon, Span<float> output)
    {
        for (int r = 0; r < rows; r++)
        {
            var v = input.Slice(r * d, d);
            double mean = 0;
            foreach (float value in v)
            {
                mean += value;
            }

            mean /= d;
            double variance = 0;
            foreach (float value in v)
            {
                variance += (value - mean) * (value - mean);
            }

            variance /= d;
            double inverse = 1.0 / Math.Sqrt(variance + epsilon);
            for (int c = 0; c < d; c++)
            {
                output[(r * d) + c] = (float)(((v[c] - mean) * inverse * scale[c]) + bias[c]);
            }
        }
    }

    /// <summary><c>output = input · w + b</c> for <paramref name="rows"/> rows; <paramref name="w"/> is <c>[inputs, outputs]</c> row-major.</summary>
    private static void Linear(float[] input, int rows, int inputs, int outputs, float[] w, float[] b, float[] output)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outputs; o++)
            {
                double sum = b[o];
                for (int i = 0; i < inputs; i++)
                {
                    sum += (double)input[(r * inputs) + i] * w[(i * outputs) + o];
                }

                output[(r * outputs) + o] = (float)sum;
            }
        }
    }

    /// <summary>Scratch buffers for one row, <c>[L, d]</c> each.</summary>
    private sealed class Row(int length, int d)
    {
        public float[] X { get; } = new float[length * d];

        public float[] Q { get; } = new float[length * d];

        public float[] QueryProjected { get; } = new float[length * d];

        public float[] KeyProjected { get; } = new float[length * d];

        public float[] ValueProjected { get; } = new float[length * d];

        public float[] Heads { get; } = new float[length * d];

        public float[] Attended { get; } = new float[length * d];

        public float[] Y { get; } = new float[length * d];

        public float[] Inner { get; } = new float[length * d];
    }
}

/// <summary>What <see cref="SasRecReference.Forward(SasRecWeights, ReadOnlySpan{long})"/> computes for a batch of B rows
/// (all arrays row-major).</summary>
/// <param name="Batch">B.</param>
/// <param name="Hidden">The customer embeddings, <c>[B, d]</c>: the final norm's output at the last position.</param>
/// <param name="Scores">Scores of every item id, <c>[B, ItemCount + 1]</c> (column 0 is padding).</param>
/// <param name="Attention">The last block's attention of the last position, averaged over heads, <c>[B, L]</c>.</param>
/// <param name="AttentionMaps">The last block's full attention weights, <c>[B, heads, L (query), L (key)]</c>.</param>
public sealed record SasRecReferenceOutput(int Batch, float[] Hidden, float[] Scores, float[] Attention, float[] AttentionMaps);
