using System.Text.Json;
using EdgeProfile.Models.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace EdgeProfile.Models.Scoring;

/// <summary>
/// Scores rows with an ONNX model written by <see cref="OnnxExporter"/> (or any model with one float input
/// <c>features [batch, F]</c> and float outputs <c>[batch, width]</c>) through ONNX Runtime.
/// </summary>
/// <remarks>
/// Thread-safety: every public member may be called concurrently. <see cref="InferenceSession"/>'s Run is
/// thread-safe; <see cref="Score(ReadOnlySpan{float}, Span{float})"/> rents an <see cref="OnnxRowScorer"/> (its own
/// pinned buffers and binding) from a small pool under a lock, so concurrent callers never share buffers, and the
/// pool grows to the peak number of concurrent callers. For the tightest loop, give each thread its own
/// <see cref="CreateRowScorer"/>. Batch scoring allocates its input and output arrays per call.
/// Dispose only once no call is in flight (row scorers from <see cref="CreateRowScorer"/> first).
/// </remarks>
public sealed class OnnxScorer : IDisposable
{
    private readonly InferenceSession session;
    private readonly Stack<OnnxRowScorer> pool = new();
    private readonly Lock poolLock = new();
    private readonly string[] outputNames;
    private bool disposed;

    private OnnxScorer(InferenceSession session, string source, int inputs, IReadOnlyList<string>? features, IReadOnlyList<ScorerOutput> outputs)
    {
        this.session = session;
        Source = source;
        Inputs = inputs;
        Features = features;
        Outputs = outputs;
        outputNames = [.. outputs.Select(o => o.Name)];
        OutputWidth = outputs.Sum(o => o.Width);
        Metadata = new Dictionary<string, string>(session.ModelMetadata.CustomMetadataMap, StringComparer.Ordinal);
    }

    /// <summary>Where the model came from (file path or the name given for bytes); used in error messages.</summary>
    public string Source { get; }

    /// <summary>Input width F.</summary>
    public int Inputs { get; }

    /// <summary>Feature names from the model's metadata, or null when the model carries none.</summary>
    public IReadOnlyList<string>? Features { get; }

    /// <summary>Outputs in model order.</summary>
    public IReadOnlyList<ScorerOutput> Outputs { get; }

    /// <summary>Sum of the outputs' widths: the length a single-row <see cref="Score(ReadOnlySpan{float}, Span{float})"/> fills.</summary>
    public int OutputWidth { get; }

    /// <summary>The model's <c>metadata_props</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Loads a model file. When <paramref name="expectedFeatures"/> is given, the model must take exactly
    /// those features (by count, and by name and order when the model lists its features).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a usable model; the message names the file and the problem.</exception>
    public static OnnxScorer Load(string path, IReadOnlyList<string>? expectedFeatures = null, SessionOptions? sessionOptions = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = File.ReadAllBytes(path);
        return Load(bytes, expectedFeatures, path, sessionOptions);
    }

    /// <summary>Loads a model from bytes; <paramref name="source"/> names it in error messages. On a CPU where
    /// u8·s8 integer products are exact, int8 weights are re-encoded for those faster kernels first (same scores; see
    /// <see cref="Int8Kernels"/>) unless <paramref name="signedInt8Kernels"/> is false; on a CPU where they are not exact,
    /// int8 weights stored signed are re-encoded for the exact unsigned kernels.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a usable model.</exception>
    public static OnnxScorer Load(byte[] model, IReadOnlyList<string>? expectedFeatures = null, string source = "model bytes", SessionOptions? sessionOptions = null, bool signedInt8Kernels = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Length == 0)
        {
            throw new InvalidDataException($"{source}: the model is empty (0 bytes)");
        }

        model = Int8Kernels.ForThisCpu(model, preferSigned: signedInt8Kernels);

        InferenceSession session;
        var ownOptions = sessionOptions is null ? DefaultSessionOptions() : null;
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
            return Create(session, source, expectedFeatures);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>A new single-row scorer with its own buffers (not thread-safe; one per thread). The caller disposes it.</summary>
    public OnnxRowScorer CreateRowScorer()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return new OnnxRowScorer(session, OnnxExporter.InputName, Inputs, Outputs);
    }

    /// <summary>Scores one row into <paramref name="destination"/> (all outputs concatenated in output order, length
    /// <see cref="OutputWidth"/>). Allocates nothing once the pool is warm.</summary>
    public void Score(ReadOnlySpan<float> features, Span<float> destination)
    {
        if (destination.Length < OutputWidth)
        {
            throw new ArgumentException($"destination needs {OutputWidth} values, has {destination.Length}", nameof(destination));
        }

        var scorer = Rent();
        try
        {
            scorer.Score(features, destination);
        }
        finally
        {
            Return(scorer);
        }
    }

    /// <summary>Scores one row; returns all outputs concatenated in output order.</summary>
    public float[] Score(ReadOnlySpan<float> features)
    {
        var result = new float[OutputWidth];
        Score(features, result);
        return result;
    }

    /// <summary>
    /// As <see cref="ScoreBatch"/>, but one row per call: each row's scores are exactly what serving that customer
    /// alone gives. For int8 models this differs from a batch: dynamic quantization picks one activation scale per
    /// call, so in a batch the most extreme row coarsens every other row's inputs. Use this to measure a model as it
    /// serves (evaluation, canary holdouts); use <see cref="ScoreBatch"/> for throughput.
    /// </summary>
    public float[][] ScoreRows(ReadOnlySpan<float> rows)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (rows.Length % Inputs != 0)
        {
            throw new ArgumentException($"rows hold {rows.Length} values, not a multiple of the {Inputs} features", nameof(rows));
        }

        int count = rows.Length / Inputs;
        var outputs = Outputs.Select(o => new float[count * o.Width]).ToArray();
        var row = new float[OutputWidth];
        var scorer = Rent();
        try
        {
            for (int r = 0; r < count; r++)
            {
                scorer.Score(rows.Slice(r * Inputs, Inputs), row);
                int offset = 0;
                for (int o = 0; o < outputs.Length; o++)
                {
                    int width = Outputs[o].Width;
                    row.AsSpan(offset, width).CopyTo(outputs[o].AsSpan(r * width, width));
                    offset += width;
                }
            }
        }
        finally
        {
            Return(scorer);
        }

        return outputs;
    }

    /// <summary>Scores <c>rows.Length / Inputs</c> rows stored row-major in one call; returns one array per output,
    /// each <c>[rows × width]</c> row-major. For int8 models a row's scores depend slightly on the other rows of the
    /// batch (one activation scale per call); see <see cref="ScoreRows"/>.</summary>
    public float[][] ScoreBatch(ReadOnlySpan<float> rows)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (rows.Length % Inputs != 0)
        {
            throw new ArgumentException($"rows hold {rows.Length} values, not a multiple of the {Inputs} features", nameof(rows));
        }

        int count = rows.Length / Inputs;
        if (count == 0)
        {
            return [.. Outputs.Select(_ => Array.Empty<float>())];
        }

        var input = rows.ToArray();
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [count, Inputs]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [OnnxExporter.InputName], [inputValue], outputNames);
        var outputs = new float[Outputs.Count][];
        int i = 0;
        foreach (var result in results)
        {
            outputs[i++] = result.GetTensorDataAsSpan<float>().ToArray();
        }

        return outputs;
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

    private OnnxRowScorer Rent()
    {
        lock (poolLock)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (pool.Count > 0)
            {
                return pool.Pop();
            }
        }

        return CreateRowScorer();
    }

    private void Return(OnnxRowScorer scorer)
    {
        lock (poolLock)
        {
            if (!disposed)
            {
                pool.Push(scorer);
                return;
            }
        }

        scorer.Dispose();
    }

    /// <summary>One intra-op thread: single rows gain nothing from more, and an edge box runs other work.</summary>
    private static SessionOptions DefaultSessionOptions() => new()
    {
        IntraOpNumThreads = 1,
        InterOpNumThreads = 1,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    private static OnnxScorer Create(InferenceSession session, string source, IReadOnlyList<string>? expectedFeatures)
    {
        var inputNames = session.InputMetadata.Keys.ToList();
        if (inputNames.Count != 1 || inputNames[0] != OnnxExporter.InputName)
        {
            throw new InvalidDataException(
                $"{source}: expected one input named '{OnnxExporter.InputName}', found [{string.Join(", ", inputNames)}]");
        }

        var input = session.InputMetadata[OnnxExporter.InputName];
        if (!input.IsTensor || input.ElementType != typeof(float) || input.Dimensions.Length != 2 || input.Dimensions[1] <= 0)
        {
            throw new InvalidDataException(
                $"{source}: input '{OnnxExporter.InputName}' must be float [batch, F] with a fixed F, found {Describe(input)}");
        }

        int width = input.Dimensions[1];
        IReadOnlyList<string>? features = null;
        if (session.ModelMetadata.CustomMetadataMap.TryGetValue(OnnxMetadataKeys.Features, out var json))
        {
            try
            {
                features = JsonSerializer.Deserialize<string[]>(json);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{source}: metadata '{OnnxMetadataKeys.Features}' is not a JSON array of names: {ex.Message}", ex);
            }

            if (features is null || features.Count != width)
            {
                throw new InvalidDataException(
                    $"{source}: metadata lists {features?.Count ?? 0} features but input '{OnnxExporter.InputName}' has width {width}");
            }
        }

        if (expectedFeatures is not null)
        {
            if (expectedFeatures.Count != width)
            {
                throw new InvalidDataException(
                    $"{source}: input '{OnnxExporter.InputName}' has width {width}, but {expectedFeatures.Count} features are expected ({Preview(expectedFeatures)})");
            }

            for (int i = 0; features is not null && i < width; i++)
            {
                if (features[i] != expectedFeatures[i])
                {
                    throw new InvalidDataException(
                        $"{source}: feature {i} is '{features[i]}' in the model but '{expectedFeatures[i]}' is expected");
                }
            }
        }

        var outputs = new List<ScorerOutput>();
        foreach (var name in session.OutputNames)
        {
            var output = session.OutputMetadata[name];
            if (!output.IsTensor || output.ElementType != typeof(float) || output.Dimensions.Length != 2 || output.Dimensions[1] <= 0)
            {
                throw new InvalidDataException($"{source}: output '{name}' must be float [batch, width] with a fixed width, found {Describe(output)}");
            }

            outputs.Add(new ScorerOutput(name, output.Dimensions[1]));
        }

        if (outputs.Count == 0)
        {
            throw new InvalidDataException($"{source}: the model has no outputs");
        }

        return new OnnxScorer(session, source, width, features, outputs);
    }

    private static string Describe(NodeMetadata metadata) =>
        metadata.IsTensor
            ? $"{metadata.ElementType.Name} [{string.Join(", ", metadata.Dimensions.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : metadata.SymbolicDimensions[i]))}]"
            : metadata.OnnxValueType.ToString();

    private static string Preview(IReadOnlyList<string> names) =>
        names.Count <= 5 ? string.Join(", ", names) : $"{string.Join(", ", names.Take(5))}, … {names.Count - 5} more";
}
