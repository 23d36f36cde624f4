using EdgeProfile.Models.Sequences;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EdgeProfile.Training.Sequences;

/// <summary>
/// SASRec (Kang and McAuley 2018), the self-attentive next-item model, exactly as issue 9's specification (section B)
/// defines it, so that <see cref="ExportWeights"/> feeds the plain C# reference and the ONNX exporter unchanged:
/// <code>
/// m = (ids != 0); x = (E[ids]·√d + P) · m
/// per block: q = LN(x); Q = q·Wq + bq; K = x·Wk + bk; V = x·Wv + bv     (keys and values from x, not q)
///            A = softmax(Q·Kᵀ/√dh + causal(−1e9)) per head; x = q + concat(A·V)·Wo + bo
///            y = LN(x); x = (y + relu(y·W1 + b1)·W2 + b2) · m
/// h = LN(x); hidden = h[:, L−1]; scores = hidden·Eᵀ
/// </code>
/// Ids are <c>[B, L]</c> int64, left-padded with 0, the most recent item at position L−1. LayerNorm epsilon 1e-8.
/// Dropout (training mode only) after the embedding sum, on the attention weights and inside the feed-forward layers.
/// Row 0 of the item embedding is padding: created zero and never updated (<c>padding_idx</c>); the trainer zeroes it
/// again after every step. Attention is written out with linear layers (no fused kernel).
/// </summary>
public sealed class SasRecModule : nn.Module
{
    /// <summary>LayerNorm epsilon of the specification.</summary>
    public const double NormEpsilon = 1e-8;

    /// <summary>Additive score of a future position (causal mask).</summary>
    public const float MaskedScore = -1e9f;

    private readonly Embedding itemEmbedding;
    private readonly Embedding positionEmbedding;
    private readonly Dropout embeddingDropout;
    private readonly ModuleList<SasRecBlock> blocks;
    private readonly LayerNorm finalNorm;
    private readonly Tensor causal;

    // Before the base class's first torch call loads libtorch (a derived type's static constructor runs first).
    static SasRecModule() => TorchEnvironment.Prepare();

    /// <summary>
    /// Builds the layers with Xavier-normal initialisation of every matrix (embeddings and linear weights, as the
    /// reference PyTorch implementation), torch's default for the biases, unit/zero LayerNorms and a zero padding row.
    /// Random draws come from torch's generator (seed it with <c>torch.manual_seed</c>).
    /// </summary>
    public SasRecModule(int itemCount, int maxLength = 50, int dimensions = 64, int blockCount = 2, int heads = 1, double dropout = 0.5)
        : base(nameof(SasRecModule))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(itemCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        if (dimensions % heads != 0)
        {
            throw new ArgumentException($"dimensions ({dimensions}) must be a multiple of heads ({heads})", nameof(heads));
        }
        if (!(dropout >= 0 && dropout < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "must be in [0, 1)");
        }
        ItemCount = itemCount;
        MaxLength = maxLength;
        Dimensions = dimensions;
        Heads = heads;
        itemEmbedding = nn.Embedding(itemCount + 1, dimensions, padding_idx: 0);
        positionEmbedding = nn.Embedding(maxLength, dimensions);
        embeddingDropout = nn.Dropout(dropout);
        blocks = new ModuleList<SasRecBlock>();
        for (var b = 0; b < blockCount; b++)
        {
            blocks.Add(new SasRecBlock($"block{b}", dimensions, heads, dropout));
        }
        finalNorm = nn.LayerNorm(dimensions, NormEpsilon);
        causal = triu(full(maxLength, maxLength, MaskedScore), diagonal: 1);
        using (no_grad())
        {
            nn.init.xavier_normal_(itemEmbedding.weight!);
            nn.init.xavier_normal_(positionEmbedding.weight!);
            foreach (var block in blocks)
            {
                block.InitialiseWeights();
            }
        }
        ZeroPadding();
        RegisterComponents();
    }

    /// <summary>Items; ids are 1..ItemCount, 0 is padding.</summary>
    public int ItemCount { get; }

    /// <summary>Positions L of the input.</summary>
    public int MaxLength { get; }

    /// <summary>Width d.</summary>
    public int Dimensions { get; }

    /// <summary>Attention heads h.</summary>
    public int Heads { get; }

    /// <summary>Self-attention blocks.</summary>
    public int BlockCount => blocks.Count;

    /// <summary>The item embedding (<c>[ItemCount + 1, d]</c>, row 0 = padding), also the output layer.</summary>
    public Parameter ItemEmbedding => itemEmbedding.weight!;

    /// <summary>Sets row 0 (padding) of the item embedding to zero.</summary>
    public void ZeroPadding()
    {
        using var noGrad = no_grad();
        using var row = itemEmbedding.weight!.select(0, 0);
        row.zero_();
    }

    /// <summary>
    /// The last <see cref="MaxLength"/> items of <paramref name="history"/>, left-padded with 0, written to
    /// <paramref name="row"/> (length <paramref name="maxLength"/>). Throws on an id outside 1..<paramref name="itemCount"/>.
    /// </summary>
    public static void LeftPad(ReadOnlySpan<int> history, int maxLength, int itemCount, Span<long> row)
    {
        if (row.Length != maxLength)
        {
            throw new ArgumentException($"row has {row.Length} positions, not {maxLength}", nameof(row));
        }
        var kept = history.Length > maxLength ? history[^maxLength..] : history;
        var pad = maxLength - kept.Length;
        row[..pad].Clear();
        for (var i = 0; i < kept.Length; i++)
        {
            var item = kept[i];
            if (item < 1 || item > itemCount)
            {
                throw new ArgumentOutOfRangeException(nameof(history), item, $"item ids are 1..{itemCount}");
            }
            row[pad + i] = item;
        }
    }

    /// <summary>The <c>[B, L]</c> int64 input of <paramref name="histories"/> (each left-padded/truncated to L).</summary>
    public Tensor Ids(IReadOnlyList<int[]> histories)
    {
        ArgumentNullException.ThrowIfNull(histories);
        var flat = new long[histories.Count * MaxLength];
        for (var b = 0; b < histories.Count; b++)
        {
            LeftPad(histories[b], MaxLength, ItemCount, flat.AsSpan(b * MaxLength, MaxLength));
        }
        return tensor(flat, [histories.Count, MaxLength]);
    }

    /// <summary>
    /// The final representations <c>h</c> (<c>[B, L, d]</c>, after the final LayerNorm) of <paramref name="ids"/>
    /// (<c>[B, L]</c> int64), and, when <paramref name="withAttention"/>, the last block's attention of the last position
    /// averaged over heads (<c>[B, L]</c>; otherwise null).
    /// </summary>
    public (Tensor Hidden, Tensor? Attention) Encode(Tensor ids, bool withAttention = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.dim() != 2 || ids.shape[1] != MaxLength)
        {
            throw new ArgumentException($"ids must be [batch, {MaxLength}], not [{string.Join(", ", ids.shape)}]", nameof(ids));
        }
        using var scope = NewDisposeScope();
        var (h, attention) = EncodeWindow(ids, MaxLength, withAttention);
        return (scope.MoveToOuter(h), attention is null ? null : scope.MoveToOuter(attention));
    }

    /// <summary>
    /// The forward on the last <paramref name="window"/> columns of <paramref name="ids"/> only, exactly equal to the
    /// full forward at those columns when every dropped column and the window's first column are padding. Padding
    /// positions are zero at the input of every block, so all padding keys of a row are identical (K = bk, V = bv) and
    /// the P padding keys a real query sees act as one key whose score is raised by ln(P): the window's first column
    /// stands for itself and the dropped columns, with ln(MaxLength − window + 1) added to its attention score.
    /// (In training, dropout on that column's attention weight then drops the dropped columns together.)
    /// </summary>
    private (Tensor Hidden, Tensor? Attention) EncodeWindow(Tensor ids, int window, bool withAttention)
    {
        using var scope = NewDisposeScope();
        var offset = MaxLength - window;
        var windowIds = window == MaxLength ? ids : ids.narrow(1, offset, window);
        var positions = window == MaxLength ? positionEmbedding.weight! : positionEmbedding.weight!.narrow(0, offset, window);
        var mask = windowIds.ne(0).unsqueeze(-1).to_type(ScalarType.Float32);
        var x = itemEmbedding.call(windowIds) * Math.Sqrt(Dimensions) + positions;
        x = embeddingDropout.call(x) * mask;
        var bias = causal;
        if (window < MaxLength)
        {
            var column = new float[window];
            column[0] = (float)Math.Log(offset + 1);
            using var multiplicity = tensor(column);
            bias = causal.narrow(0, offset, window).narrow(1, offset, window) + multiplicity;
        }
        Tensor? attention = null;
        for (var b = 0; b < blocks.Count; b++)
        {
            var last = b == blocks.Count - 1;
            (x, var weights) = blocks[b].Forward(x, mask, bias);
            if (last && withAttention)
            {
                attention = weights.select(2, window - 1).mean([1]);
            }
        }
        var h = finalNorm.call(x);
        return (scope.MoveToOuter(h), attention is null ? null : scope.MoveToOuter(attention));
    }

    /// <summary>
    /// Training logits: the representations at the positions whose target is not padding only (gathered first, so no
    /// <c>[B, L, items]</c> tensor is ever built) times the item embedding without its padding row. Returns
    /// <c>Logits [N, ItemCount]</c> (column j is item j + 1) and <c>Labels [N]</c> (target item − 1), N = non-padded targets.
    /// </summary>
    public (Tensor Logits, Tensor Labels) TrainingLogits(Tensor ids, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var (hidden, labels) = TrainingHidden(ids, targets);
        var logits = ItemLogits(hidden);
        return (scope.MoveToOuter(logits), scope.MoveToOuter(labels));
    }

    /// <summary>
    /// The representations at the positions whose target is not padding (<c>Hidden [N, d]</c>, gathered from
    /// <c>h [B, L, d]</c> in row-major order) and their labels (<c>Labels [N]</c>, target item − 1); see
    /// <see cref="ItemLogits"/>. Targets must be non-zero only where ids are (as the trainer builds them). Leading
    /// columns that are padding in every row are not computed (an exact shortcut; short histories train much faster).
    /// </summary>
    public (Tensor Hidden, Tensor Labels) TrainingHidden(Tensor ids, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(targets);
        if (!targets.shape.SequenceEqual(ids.shape))
        {
            throw new ArgumentException("targets must have the shape of ids", nameof(targets));
        }
        using var scope = NewDisposeScope();
        // Only the columns from the last one before the longest row onward are computed (exact, see EncodeWindow).
        var longest = ids.ne(0).sum(1, type: ScalarType.Int64).max().item<long>();
        var window = (int)Math.Min(MaxLength, longest + 1);
        var (h, _) = EncodeWindow(ids, window, withAttention: false);
        var flatTargets = targets.narrow(1, MaxLength - window, window).reshape(-1);
        var positions = flatTargets.ne(0).nonzero().reshape(-1);
        var selected = h.reshape(-1, Dimensions).index_select(0, positions);
        var labels = flatTargets.index_select(0, positions) - 1;
        return (scope.MoveToOuter(selected), scope.MoveToOuter(labels));
    }

    /// <summary>Logits over the items of representations <paramref name="hidden"/> (<c>[N, d]</c>): <c>[N, ItemCount]</c>,
    /// column j = hidden · E[j + 1] (the padding row is left out).</summary>
    public Tensor ItemLogits(Tensor hidden)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        using var items = itemEmbedding.weight!.narrow(0, 1, ItemCount);
        using var transposed = items.t();
        return hidden.matmul(transposed);
    }

    /// <summary>
    /// Inference on <paramref name="ids"/> (<c>[B, L]</c>): <c>Hidden [B, d]</c> (the last position's representation, the
    /// customer embedding), <c>Scores [B, ItemCount + 1]</c> (column 0 is padding, never recommend it) and
    /// <c>Attention [B, L]</c> (last block, last position, mean over heads). Call in evaluation mode for the
    /// specification's deterministic forward.
    /// </summary>
    public (Tensor Hidden, Tensor Scores, Tensor Attention) Infer(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var (h, attention) = Encode(ids, withAttention: true);
        var hidden = h.select(1, MaxLength - 1);
        var scores = hidden.matmul(itemEmbedding.weight!.t());
        return (scope.MoveToOuter(hidden), scope.MoveToOuter(scores), scope.MoveToOuter(attention!));
    }

    /// <summary>
    /// The weights in the specification's layout (<see cref="SasRecWeights"/>): linear matrices transposed to
    /// <c>[in, out]</c>, row-major; the padding row of the item embedding is written as zeros.
    /// </summary>
    public SasRecWeights ExportWeights()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var items = Read(itemEmbedding.weight!);
        Array.Clear(items, 0, Dimensions);
        var weights = new SasRecWeights
        {
            ItemCount = ItemCount,
            MaxLength = MaxLength,
            Dimensions = Dimensions,
            Heads = Heads,
            NormEpsilon = (float)NormEpsilon,
            ItemEmbedding = items,
            PositionEmbedding = Read(positionEmbedding.weight!),
            Blocks = [.. blocks.Select(b => b.Export())],
            FinalNormScale = Read(finalNorm.weight!),
            FinalNormBias = Read(finalNorm.bias!),
        };
        weights.Validate();
        return weights;
    }

    /// <summary>Copies <paramref name="weights"/> (the specification's layout) into this module; shapes must match.</summary>
    public void LoadWeights(SasRecWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        weights.Validate();
        if (weights.ItemCount != ItemCount || weights.MaxLength != MaxLength || weights.Dimensions != Dimensions
            || weights.Heads != Heads || weights.Blocks.Count != blocks.Count)
        {
            throw new ArgumentException(
                $"weights are items {weights.ItemCount}, L {weights.MaxLength}, d {weights.Dimensions}, h {weights.Heads}, {weights.Blocks.Count} blocks; "
                + $"module is {ItemCount}, {MaxLength}, {Dimensions}, {Heads}, {blocks.Count}", nameof(weights));
        }
        if (Math.Abs(weights.NormEpsilon - NormEpsilon) > 1e-12)
        {
            throw new ArgumentException($"norm epsilon {weights.NormEpsilon} is not {NormEpsilon}", nameof(weights));
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Write(itemEmbedding.weight!, weights.ItemEmbedding, transpose: false);
        Write(positionEmbedding.weight!, weights.PositionEmbedding, transpose: false);
        for (var b = 0; b < blocks.Count; b++)
        {
            blocks[b].Load(weights.Blocks[b]);
        }
        Write(finalNorm.weight!, weights.FinalNormScale, transpose: false);
        Write(finalNorm.bias!, weights.FinalNormBias, transpose: false);
        ZeroPadding();
    }

    /// <summary>A module holding <paramref name="weights"/> (evaluation mode; <paramref name="dropout"/> for further training).</summary>
    public static SasRecModule FromWeights(SasRecWeights weights, double dropout = 0)
    {
        ArgumentNullException.ThrowIfNull(weights);
        weights.Validate();
        var module = new SasRecModule(weights.ItemCount, weights.MaxLength, weights.Dimensions, weights.Blocks.Count, weights.Heads, dropout);
        try
        {
            module.LoadWeights(weights);
            module.eval();
            return module;
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>Copies of every parameter's values (detached), in <c>parameters()</c> order: a snapshot for early stopping.</summary>
    public Tensor[] Snapshot()
    {
        using var noGrad = no_grad();
        return [.. parameters().Select(p => p.detach().clone())];
    }

    /// <summary>Restores a <see cref="Snapshot"/> (same module).</summary>
    public void Restore(IReadOnlyList<Tensor> snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var parameterList = parameters().ToArray();
        if (snapshot.Count != parameterList.Length)
        {
            throw new ArgumentException($"{snapshot.Count} tensors for {parameterList.Length} parameters", nameof(snapshot));
        }
        using var noGrad = no_grad();
        for (var i = 0; i < parameterList.Length; i++)
        {
            parameterList[i].copy_(snapshot[i]);
        }
    }

    internal static float[] Read(Tensor t, bool transpose = false)
    {
        using var scope = NewDisposeScope();
        var source = transpose ? t.detach().t() : t.detach();
        return source.contiguous().data<float>().ToArray();
    }

    internal static void Write(Tensor target, float[] values, bool transpose)
    {
        using var scope = NewDisposeScope();
        var shape = transpose ? new[] { target.shape[1], target.shape[0] } : target.shape;
        var source = tensor(values).reshape(shape);
        target.copy_(transpose ? source.t() : source);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            causal.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>One self-attention block of <see cref="SasRecModule"/> (see there for the computation).</summary>
    private sealed class SasRecBlock : nn.Module
    {
        private readonly LayerNorm attentionNorm;
        private readonly Linear query;
        private readonly Linear key;
        private readonly Linear value;
        private readonly Linear output;
        private readonly Dropout attentionDropout;
        private readonly LayerNorm feedForwardNorm;
        private readonly Linear feedForward1;
        private readonly Linear feedForward2;
        private readonly Dropout feedForwardDropout1;
        private readonly Dropout feedForwardDropout2;
        private readonly int heads;
        private readonly int dimensions;

        public SasRecBlock(string name, int dimensions, int heads, double dropout)
            : base(name)
        {
            this.dimensions = dimensions;
            this.heads = heads;
            attentionNorm = nn.LayerNorm(dimensions, NormEpsilon);
            query = nn.Linear(dimensions, dimensions);
            key = nn.Linear(dimensions, dimensions);
            value = nn.Linear(dimensions, dimensions);
            output = nn.Linear(dimensions, dimensions);
            attentionDropout = nn.Dropout(dropout);
            feedForwardNorm = nn.LayerNorm(dimensions, NormEpsilon);
            feedForward1 = nn.Linear(dimensions, dimensions);
            feedForward2 = nn.Linear(dimensions, dimensions);
            feedForwardDropout1 = nn.Dropout(dropout);
            feedForwardDropout2 = nn.Dropout(dropout);
            RegisterComponents();
        }

        public void InitialiseWeights()
        {
            foreach (var linear in new[] { query, key, value, output, feedForward1, feedForward2 })
            {
                nn.init.xavier_normal_(linear.weight!);
            }
        }

        /// <summary>Returns the block's output <c>[B, L, d]</c> and its attention weights <c>[B, h, L, L]</c> (before dropout).</summary>
        public (Tensor X, Tensor Attention) Forward(Tensor x, Tensor mask, Tensor causal)
        {
            using var scope = NewDisposeScope();
            var batch = x.shape[0];
            var length = x.shape[1];
            var headWidth = dimensions / heads;
            var q = attentionNorm.call(x);
            var qh = query.call(q).view(batch, length, heads, headWidth).transpose(1, 2);
            var kh = key.call(x).view(batch, length, heads, headWidth).transpose(1, 2);
            var vh = value.call(x).view(batch, length, heads, headWidth).transpose(1, 2);
            var scores = qh.matmul(kh.transpose(-2, -1)) / Math.Sqrt(headWidth) + causal;
            var attention = scores.softmax(-1);
            var context = attentionDropout.call(attention).matmul(vh).transpose(1, 2).reshape(batch, length, dimensions);
            var attended = q + output.call(context);
            var y = feedForwardNorm.call(attended);
            var inner = feedForwardDropout1.call(nn.functional.relu(feedForward1.call(y)));
            var result = (y + feedForwardDropout2.call(feedForward2.call(inner))) * mask;
            return (scope.MoveToOuter(result), scope.MoveToOuter(attention));
        }

        public SasRecBlockWeights Export() => new()
        {
            AttentionNormScale = Read(attentionNorm.weight!),
            AttentionNormBias = Read(attentionNorm.bias!),
            Query = Read(query.weight!, transpose: true),
            QueryBias = Read(query.bias!),
            Key = Read(key.weight!, transpose: true),
            KeyBias = Read(key.bias!),
            Value = Read(value.weight!, transpose: true),
            ValueBias = Read(value.bias!),
            Output = Read(output.weight!, transpose: true),
            OutputBias = Read(output.bias!),
            FeedForwardNormScale = Read(feedForwardNorm.weight!),
            FeedForwardNormBias = Read(feedForwardNorm.bias!),
            FeedForward1 = Read(feedForward1.weight!, transpose: true),
            FeedForward1Bias = Read(feedForward1.bias!),
            FeedForward2 = Read(feedForward2.weight!, transpose: true),
            FeedForward2Bias = Read(feedForward2.bias!),
        };

        public void Load(SasRecBlockWeights w)
        {
            Write(attentionNorm.weight!, w.AttentionNormScale, transpose: false);
            Write(attentionNorm.bias!, w.AttentionNormBias, transpose: false);
            Write(query.weight!, w.Query, transpose: true);
            Write(query.bias!, w.QueryBias, transpose: false);
            Write(key.weight!, w.Key, transpose: true);
            Write(key.bias!, w.KeyBias, transpose: false);
            Write(value.weight!, w.Value, transpose: true);
            Write(value.bias!, w.ValueBias, transpose: false);
            Write(output.weight!, w.Output, transpose: true);
            Write(output.bias!, w.OutputBias, transpose: false);
            Write(feedForwardNorm.weight!, w.FeedForwardNormScale, transpose: false);
            Write(feedForwardNorm.bias!, w.FeedForwardNormBias, transpose: false);
            Write(feedForward1.weight!, w.FeedForward1, transpose: true);
            Write(feedForward1.bias!, w.FeedForward1Bias, transpose: false);
            Write(feedForward2.weight!, w.FeedForward2, transpose: true);
            Write(feedForward2.bias!, w.FeedForward2Bias, transpose: false);
        }
    }
}
