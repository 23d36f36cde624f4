using System.Globalization;
using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Sequences;
using EdgeProfile.Semantic.Sequences;
using Microsoft.ML.OnnxRuntime;

namespace EdgeProfile.Models.Scoring;

/// <summary>
/// Runs a SASRec model written by <see cref="SasRecOnnxExporter"/> (fp32 or int8) through ONNX Runtime: next-item
/// scores, the customer embedding and the attention over the history, for one history or a batch.
/// </summary>
/// <remarks>
/// Histories are item ids oldest first (1..<see cref="ItemCount"/>; 0 counts as padding); longer ones keep their last
/// <see cref="MaxLength"/> items (<see cref="SasRecReference.LeftPad(ReadOnlySpan{int}, int)"/>).
/// <para>Thread-safety: every public member may be called concurrently. Single-history calls rent a
/// <see cref="SasRecOnnxRunner"/> (its own pinned input/output buffers bound once to the session) from a pool under a
/// lock, so concurrent callers never share buffers and nothing is allocated per call once the pool is warm; the pool
/// grows to the peak number of concurrent callers. For the tightest loop give each thread its own
/// <see cref="CreateRunner"/>. Batch calls allocate their tensors per call. Dispose only when no call is in flight
/// (runners from <see cref="CreateRunner"/> first).</para>
/// <para>Int8 models quantize activations with one scale per tensor per call: a history scored alone gets exactly
/// what serving it gives, while in <see cref="InferBatch(IReadOnlyList{int[]}, Span{float}, Span{float}, Span{float})"/>
/// its results depend slightly on the other histories of the batch.</para>
/// </remarks>
public sealed class SasRecOnnxScorer : INextItemScorer, IDisposable
{
    /// <summary>Histories per ONNX Runtime call in the batch methods (bounds the memory of one call).</summary>
    public const int BatchChunk = 128;

    private static readonly string[] OutputNames = [SasRecOnnxExporter.ScoresName, SasRecOnnxExporter.HiddenName, SasRecOnnxExporter.AttentionName];
    private static readonly string[] InputNames = [SasRecOnnxExporter.InputName];

    private readonly InferenceSession session;
    private readonly Stack<SasRecOnnxRunner> pool = new();
    private readonly Lock poolLock = new();
    private bool disposed;

    private SasRecOnnxScorer(InferenceSession session, string source, int itemCount, int maxLength, int dimensions, int heads, bool quantized)
    {
        this.session = session;
        Source = source;
        ItemCount = itemCount;
        MaxLength = maxLength;
        Dimensions = dimensions;
        Heads = heads;
        Quantized = quantized;
        Metadata = new Dictionary<string, string>(session.ModelMetadata.CustomMetadataMap, StringComparer.Ordinal);
    }

    /// <summary>Where the model came from (file path or the name given for bytes); used in error messages.</summary>
    public string Source { get; }

    /// <summary>The number of items (ids 1..ItemCount); score vectors have <c>ItemCount + 1</c> entries, entry 0 being padding.</summary>
    public int ItemCount { get; }

    /// <summary>The history length L the model reads.</summary>
    public int MaxLength { get; }

    /// <summary>The width d of the customer embedding (<c>hidden</c>).</summary>
    public int Dimensions { get; }

    /// <summary>Attention heads.</summary>
    public int Heads { get; }

    /// <summary>Whether the weights are int8 (dynamic quantization) rather than fp32.</summary>
    public bool Quantized { get; }

    /// <summary>The model's <c>metadata_props</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Loads a model file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a usable SASRec model; the message names the file and the problem.</exception>
    public static SasRecOnnxScorer Load(string path, SessionOptions? sessionOptions = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Load(File.ReadAllBytes(path), path, sessionOptions);
    }

    /// <summary>
    /// Loads a model from bytes; <paramref name="source"/> names it in error messages. On a CPU where u8·s8 integer
    /// products are exact, int8 weights are re-encoded for those faster kernels first (same scores; see
    /// <see cref="Int8Kernels"/>) unless <paramref name="signedInt8Kernels"/> is false; on a CPU where they are not exact,
    /// int8 weights stored signed are re-encoded for the exact unsigned kernels. Without
    /// <paramref name="sessionOptions"/>, the session uses one intra-op thread (an edge box runs other work, and
    /// evaluation parallelises over users instead).
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a usable SASRec model.</exception>
    public static SasRecOnnxScorer Load(byte[] model, string source = "model bytes", SessionOptions? sessionOptions = null, bool signedInt8Kernels = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        if (model.Length == 0)
        {
            throw new InvalidDataException($"{source}: the model is empty (0 bytes)");
        }

        model = Int8Kernels.ForThisCpu(model, preferSigned: signedInt8Kernels);

        InferenceSession session;
        var ownOptions = sessionOptions is null
            ? new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL }
            : null;
        try
        {
            session = new InferenceSession(model, sessionOptions ?? ownOptions!);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidDataException($"{source}: not a valid ONNX model ({model.Length} bytes): {ex.Message}", ex);
        }
        finally
        {
            ownOptions?.Dispose();
        }

        try
        {
            return Create(session, source);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>A new single-history runner with its own buffers (not thread-safe; one per thread). The caller disposes it.</summary>
    public SasRecOnnxRunner CreateRunner()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return new SasRecOnnxRunner(session, ItemCount, MaxLength, Dimensions);
    }

    /// <summary>
    /// Runs one history and copies the outputs out: <paramref name="scores"/> gets <c>ItemCount + 1</c> values (index =
    /// item id, 0 = padding), <paramref name="hidden"/> d, <paramref name="attention"/> L (one weight per model
    /// position; the history's last item is at L − 1). Pass an empty span to skip an output. Allocates nothing once
    /// the pool is warm.
    /// </summary>
    /// <exception cref="ArgumentException">A destination is non-empty but too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The history holds an id outside 0..ItemCount.</exception>
    public void Infer(ReadOnlySpan<int> history, Span<float> scores, Span<float> hidden, Span<float> attention)
    {
        CheckDestination(scores, ItemCount + 1, 1, nameof(scores));
        CheckDestination(hidden, Dimensions, 1, nameof(hidden));
        CheckDestination(attention, MaxLength, 1, nameof(attention));
        var runner = Rent();
        try
        {
            runner.Run(history);
            CopyIfWanted(runner.Scores, scores);
            CopyIfWanted(runner.Hidden, hidden);
            CopyIfWanted(runner.Attention, attention);
        }
        finally
        {
            Return(runner);
        }
    }

    /// <summary>Runs one history; returns its outputs in new arrays.</summary>
    public SasRecInference Infer(ReadOnlySpan<int> history)
    {
        var result = new SasRecInference(1, new float[ItemCount + 1], new float[Dimensions], new float[MaxLength]);
        Infer(history, result.Scores, result.Hidden, result.Attention);
        return result;
    }

    /// <summary>
    /// Runs many histories in batches of <see cref="BatchChunk"/> and writes row-major outputs: <paramref name="scores"/>
    /// <c>[count, ItemCount + 1]</c>, <paramref name="hidden"/> <c>[count, d]</c>, <paramref name="attention"/>
    /// <c>[count, L]</c>; an empty span skips that output. Faster than one call per history; for int8 models see the
    /// class remarks.
    /// </summary>
    /// <exception cref="ArgumentException">A destination is non-empty but too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A history holds an id outside 0..ItemCount.</exception>
    public void InferBatch(IReadOnlyList<int[]> histories, Span<float> scores, Span<float> hidden, Span<float> attention)
    {
        ArgumentNullException.ThrowIfNull(histories);
        ObjectDisposedException.ThrowIf(disposed, this);
        int count = histories.Count;
        int items = ItemCount + 1;
        CheckDestination(scores, items, count, nameof(scores));
        CheckDestination(hidden, Dimensions, count, nameof(hidden));
        CheckDestination(attention, MaxLength, count, nameof(attention));
        if (count == 0)
        {
            return;
        }

        using var runOptions = new RunOptions();
        var ids = new long[Math.Min(count, BatchChunk) * MaxLength];
        int[] widths = [items, Dimensions, MaxLength];
        for (int start = 0; start < count; start += BatchChunk)
        {
            int rows = Math.Min(BatchChunk, count - start);
            for (int r = 0; r < rows; r++)
            {
                var history = histories[start + r] ?? throw new ArgumentException($"history {start + r} is null", nameof(histories));
                Pad(history, ids.AsSpan(r * MaxLength, MaxLength), ItemCount);
            }

            using var input = OrtValue.CreateTensorValueFromMemory(ids, [rows, MaxLength]);
            using var results = session.Run(runOptions, InputNames, [input], OutputNames);
            int o = 0;
            foreach (var result in results)
            {
                var destination = o switch { 0 => scores, 1 => hidden, _ => attention };
                if (!destination.IsEmpty)
                {
                    result.GetTensorDataAsSpan<float>()[..(rows * widths[o])].CopyTo(destination.Slice(start * widths[o], rows * widths[o]));
                }

                o++;
            }
        }
    }

    /// <summary>Runs many histories; returns the row-major outputs in new arrays (see <see cref="InferBatch(IReadOnlyList{int[]}, Span{float}, Span{float}, Span{float})"/>).</summary>
    public SasRecInference InferBatch(IReadOnlyList<int[]> histories)
    {
        ArgumentNullException.ThrowIfNull(histories);
        int count = histories.Count;
        var result = new SasRecInference(count, new float[(long)count * (ItemCount + 1)], new float[count * Dimensions], new float[count * MaxLength]);
        InferBatch(histories, result.Scores, result.Hidden, result.Attention);
        return result;
    }

    /// <summary>Writes the score of each candidate item (1..ItemCount) for the history into <paramref name="scores"/>.
    /// Thread-safe; allocates nothing once the pool is warm.</summary>
    /// <exception cref="ArgumentException"><paramref name="scores"/> is shorter than <paramref name="candidates"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A candidate or history id is outside the model's items.</exception>
    public void Score(ReadOnlySpan<int> history, ReadOnlySpan<int> candidates, Span<float> scores)
    {
        if (scores.Length < candidates.Length)
        {
            throw new ArgumentException($"scores holds {scores.Length} values for {candidates.Length} candidates", nameof(scores));
        }

        foreach (int candidate in candidates)
        {
            if (candidate < 1 || candidate > ItemCount)
            {
                throw new ArgumentOutOfRangeException(nameof(candidates), candidate, $"candidate items run 1..{ItemCount}");
            }
        }

        var runner = Rent();
        try
        {
            runner.Run(history);
            var all = runner.Scores;
            for (int i = 0; i < candidates.Length; i++)
            {
                scores[i] = all[candidates[i]];
            }
        }
        finally
        {
            Return(runner);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (poolLock)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            while (pool.Count > 0)
            {
                pool.Pop().Dispose();
            }
        }

        session.Dispose();
    }

    /// <summary>Left-pads <paramref name="history"/> into <paramref name="destination"/>, checking every id.</summary>
    internal static void Pad(ReadOnlySpan<int> history, Span<long> destination, int itemCount)
    {
        foreach (int id in history)
        {
            if (id < 0 || id > itemCount)
            {
                throw new ArgumentOutOfRangeException(nameof(history), id, $"item ids run 1..{itemCount} (0 = padding)");
            }
        }

        SasRecReference.LeftPad(history, destination);
    }

    private static void CheckDestination(Span<float> destination, int width, int rows, string name)
    {
        if (!destination.IsEmpty && destination.Length < (long)width * rows)
        {
            throw new ArgumentException($"{name} needs {(long)width * rows} values ({rows} × {width}), has {destination.Length}", name);
        }
    }

    private static void CopyIfWanted(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (!destination.IsEmpty)
        {
            source.CopyTo(destination);
        }
    }

    private static SasRecOnnxScorer Create(InferenceSession session, string source)
    {
        var metadata = session.ModelMetadata.CustomMetadataMap;
        if (!metadata.TryGetValue(SasRecOnnxExporter.KindKey, out var kind))
        {
            throw new InvalidDataException(
                $"{source}: not a SASRec model: metadata '{SasRecOnnxExporter.KindKey}' is missing (expected '{SasRecOnnxExporter.Kind}'; write SASRec models with {nameof(SasRecOnnxExporter)})");
        }

        if (kind != SasRecOnnxExporter.Kind)
        {
            throw new InvalidDataException(
                $"{source}: not a SASRec model: metadata '{SasRecOnnxExporter.KindKey}' is '{kind}', expected '{SasRecOnnxExporter.Kind}'");
        }

        int maxLength = PositiveInt(metadata, SasRecOnnxExporter.MaxLengthKey, source);
        int dimensions = PositiveInt(metadata, SasRecOnnxExporter.DimensionsKey, source);
        int itemCount = PositiveInt(metadata, SasRecOnnxExporter.ItemCountKey, source);
        int heads = PositiveInt(metadata, SasRecOnnxExporter.HeadsKey, source);
        bool quantized = metadata.TryGetValue(SasRecOnnxExporter.QuantizedKey, out var flag) && bool.TryParse(flag, out var q)
            ? q
            : throw new InvalidDataException($"{source}: metadata '{SasRecOnnxExporter.QuantizedKey}' must be true or false, found '{flag ?? "(missing)"}'");

        if (session.InputMetadata.Count != 1 || !session.InputMetadata.TryGetValue(SasRecOnnxExporter.InputName, out var input))
        {
            throw new InvalidDataException(
                $"{source}: expected one input named '{SasRecOnnxExporter.InputName}', found [{string.Join(", ", session.InputMetadata.Keys)}]");
        }

        if (!input.IsTensor || input.ElementType != typeof(long) || input.Dimensions.Length != 2 || input.Dimensions[1] != maxLength)
        {
            throw new InvalidDataException(
                $"{source}: input '{SasRecOnnxExporter.InputName}' must be Int64 [batch, {maxLength}], found {Describe(input)}");
        }

        foreach (var (name, width) in new[] { (SasRecOnnxExporter.ScoresName, itemCount + 1), (SasRecOnnxExporter.HiddenName, dimensions), (SasRecOnnxExporter.AttentionName, maxLength) })
        {
            if (!session.OutputMetadata.TryGetValue(name, out var output))
            {
                throw new InvalidDataException($"{source}: output '{name}' is missing (outputs: [{string.Join(", ", session.OutputMetadata.Keys)}])");
            }

            if (!output.IsTensor || output.ElementType != typeof(float) || output.Dimensions.Length != 2 || output.Dimensions[1] != width)
            {
                throw new InvalidDataException($"{source}: output '{name}' must be Single [batch, {width}], found {Describe(output)}");
            }
        }

        return new SasRecOnnxScorer(session, source, itemCount, maxLength, dimensions, heads, quantized);
    }

    private static int PositiveInt(IReadOnlyDictionary<string, string> metadata, string key, string source) =>
        metadata.TryGetValue(key, out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new InvalidDataException($"{source}: metadata '{key}' must be a positive integer, found '{text ?? "(missing)"}'");

    private static string Describe(NodeMetadata metadata) =>
        metadata.IsTensor
            ? $"{metadata.ElementType.Name} [{string.Join(", ", metadata.Dimensions.Select((d, i) => d >= 0 ? d.ToString(CultureInfo.InvariantCulture) : metadata.SymbolicDimensions[i]))}]"
            : metadata.OnnxValueType.ToString();

    private SasRecOnnxRunner Rent()
    {
        lock (poolLock)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (pool.Count > 0)
            {
                return pool.Pop();
            }
        }

        return CreateRunner();
    }

    private void Return(SasRecOnnxRunner runner)
    {
        lock (poolLock)
        {
            if (!disposed)
            {
                pool.Push(runner);
                return;
            }
        }

        runner.Dispose();
    }
}

/// <summary>
/// Runs one history at a time with buffers allocated once: the padded ids and the three outputs are managed arrays
/// pinned as <see cref="OrtValue"/>s and bound through an <see cref="OrtIoBinding"/>, so ONNX Runtime reads and writes
/// them in place and <see cref="Run"/> allocates no managed memory.
/// </summary>
/// <remarks>Not thread-safe: one instance per thread. Create with <see cref="SasRecOnnxScorer.CreateRunner"/>; dispose
/// before the scorer.</remarks>
public sealed class SasRecOnnxRunner : IDisposable
{
    private readonly InferenceSession session;
    private readonly int itemCount;
    private readonly long[] ids;
    private readonly float[] scores;
    private readonly float[] hidden;
    private readonly float[] attention;
    private readonly List<OrtValue> values = [];
    private readonly OrtIoBinding binding;
    private readonly RunOptions runOptions = new();

    internal SasRecOnnxRunner(InferenceSession session, int itemCount, int maxLength, int dimensions)
    {
        this.session = session;
        this.itemCount = itemCount;
        ids = new long[maxLength];
        scores = new float[itemCount + 1];
        hidden = new float[dimensions];
        attention = new float[maxLength];
        binding = session.CreateIoBinding();
        try
        {
            var input = OrtValue.CreateTensorValueFromMemory(ids, [1, maxLength]);
            values.Add(input);
            binding.BindInput(SasRecOnnxExporter.InputName, input);
            Bind(SasRecOnnxExporter.ScoresName, scores);
            Bind(SasRecOnnxExporter.HiddenName, hidden);
            Bind(SasRecOnnxExporter.AttentionName, attention);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The last run's score of every item id (<c>ItemCount + 1</c> values; index 0 is padding).</summary>
    public ReadOnlySpan<float> Scores => scores;

    /// <summary>The last run's customer embedding (d values).</summary>
    public ReadOnlySpan<float> Hidden => hidden;

    /// <summary>The last run's attention over the L model positions (the history's last item is at L − 1).</summary>
    public ReadOnlySpan<float> Attention => attention;

    /// <summary>Runs the model on <paramref name="history"/> (oldest first; the last L items are kept).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The history holds an id outside 0..ItemCount.</exception>
    public void Run(ReadOnlySpan<int> history)
    {
        SasRecOnnxScorer.Pad(history, ids, itemCount);
        session.RunWithBinding(runOptions, binding);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        binding.Dispose();
        foreach (var value in values)
        {
            value.Dispose();
        }

        values.Clear();
        runOptions.Dispose();
    }

    private void Bind(string name, float[] buffer)
    {
        var value = OrtValue.CreateTensorValueFromMemory(buffer, [1, buffer.Length]);
        values.Add(value);
        binding.BindOutput(name, value);
    }
}

/// <summary>SASRec outputs for <see cref="Batch"/> histories, row-major.</summary>
/// <param name="Batch">The number of histories.</param>
/// <param name="Scores"><c>[Batch, ItemCount + 1]</c>: every item id's score (column 0 is padding).</param>
/// <param name="Hidden"><c>[Batch, d]</c>: the customer embeddings.</param>
/// <param name="Attention"><c>[Batch, L]</c>: the last block's attention of the last position, averaged over heads.</param>
public sealed record SasRecInference(int Batch, float[] Scores, float[] Hidden, float[] Attention);
