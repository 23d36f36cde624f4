using System.Security.Cryptography;
using EdgeProfile.Models.Scoring;

namespace EdgeProfile.Models.Serving;

/// <summary>
/// What a model file says about itself once it has been loaded and tried: its version, hash, metadata, features and
/// outputs. The registry at the hub and the edge both inspect every file this way before they keep or serve it.
/// </summary>
/// <param name="Version">The trainer's <see cref="VersionMetadataKey"/>, else <c>sha256:</c> and 12 hex digits.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the file.</param>
/// <param name="Size">File size in bytes.</param>
/// <param name="Metadata">The ONNX <c>metadata_props</c>.</param>
/// <param name="Features">Feature names in input order.</param>
/// <param name="Outputs">Outputs (tasks) in model order.</param>
public sealed record ModelArtifact(
    string Version,
    string Sha256,
    long Size,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<string> Features,
    IReadOnlyList<ScorerOutput> Outputs)
{
    /// <summary>Metadata key whose value, when present, is the model's version (as the trainer stamps it).</summary>
    public const string VersionMetadataKey = "model_version";

    /// <summary>Longest accepted version string.</summary>
    public const int MaxVersionLength = 128;

    /// <summary>
    /// Loads <paramref name="bytes"/> as a model and checks what any server of it needs: it loads in ONNX Runtime,
    /// lists one feature name per input, and gives finite outputs for a row of zeros (a customer without features).
    /// </summary>
    /// <param name="bytes">The ONNX file.</param>
    /// <param name="source">How to name the file in messages.</param>
    /// <exception cref="InvalidDataException">Why the file cannot serve, in one line.</exception>
    public static ModelArtifact Inspect(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length == 0)
        {
            throw new InvalidDataException($"{source} is empty");
        }

        OnnxScorer scorer;
        try
        {
            scorer = OnnxScorer.Load(bytes, source: source);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException ex)
        {
            throw new InvalidDataException($"{source} is not a usable ONNX model: {FirstLine(ex.Message)}", ex);
        }

        using (scorer)
        {
            if (scorer.Features is not { } features)
            {
                throw new InvalidDataException($"{source}: its metadata does not list the features it takes (export it with OnnxExporter)");
            }

            if (features.Count != scorer.Inputs)
            {
                throw new InvalidDataException($"{source}: its metadata lists {features.Count} features for an input of width {scorer.Inputs}");
            }

            float[] output;
            try
            {
                output = scorer.Score(new float[scorer.Inputs]);
            }
            catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException ex)
            {
                throw new InvalidDataException($"{source}: scoring a row of zeros failed: {FirstLine(ex.Message)}", ex);
            }

            if (!output.All(float.IsFinite))
            {
                throw new InvalidDataException($"{source}: the model gives a non-finite score for a customer without features (all inputs 0)");
            }

            var version = VersionOf(scorer.Metadata, bytes);
            if (!IsValidVersion(version))
            {
                throw new InvalidDataException($"{source}: its version '{version[..Math.Min(version.Length, 40)]}' must be 1 to {MaxVersionLength} of A-Z a-z 0-9 . _ - : @ +");
            }

            return new ModelArtifact(version, Sha256Of(bytes), bytes.LongLength, scorer.Metadata, [.. features], scorer.Outputs);
        }
    }

    /// <summary>
    /// A model's version: its <see cref="VersionMetadataKey"/> metadata when the trainer stamped one, otherwise
    /// <c>sha256:</c> and the first 12 hex digits of the file's hash, so the same file keeps its version and a changed
    /// file gets a new one.
    /// </summary>
    public static string VersionOf(IReadOnlyDictionary<string, string> metadata, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(bytes);
        return metadata.TryGetValue(VersionMetadataKey, out var v) && !string.IsNullOrWhiteSpace(v)
            ? v.Trim()
            : "sha256:" + Sha256Of(bytes)[..12];
    }

    /// <summary>Whether <paramref name="version"/> is 1 to <see cref="MaxVersionLength"/> of <c>A-Z a-z 0-9 . _ - : @ +</c>
    /// (safe in URLs, file names and logs).</summary>
    public static bool IsValidVersion(string? version) =>
        version is { Length: > 0 and <= MaxVersionLength } && version.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':' or '@' or '+');

    /// <summary>Lower-case hex SHA-256.</summary>
    public static string Sha256Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
