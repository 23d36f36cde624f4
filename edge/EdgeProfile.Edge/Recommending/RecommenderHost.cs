using EdgeProfile.Models.Recommending;
using EdgeProfile.Semantic.MiniLm;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Recommending;

/// <summary>What the edge serves recommendations with: the loaded recommender, its version and where it came from.</summary>
/// <param name="Recommender">The loaded bundle.</param>
/// <param name="Sha256">The bundle file's SHA-256.</param>
/// <param name="Source"><c>hub</c> or <c>file</c>.</param>
/// <param name="DeployedAt">When it started serving.</param>
public sealed record ServedRecommender(Recommender Recommender, string Sha256, string Source, DateTimeOffset DeployedAt);

/// <summary>
/// Holds the edge's recommender and swaps it atomically: a new bundle is loaded completely (every model inside) before
/// it replaces the serving one, and one that does not load is refused with the reason while the old one keeps serving.
/// A bundle from the hub is kept in <c>{DataDir}/recommender/current.bundle</c> so the edge serves it again after a
/// restart, before the hub answers; otherwise <c>Edge:Recommendations:Bundle</c>, if set, is served from the start.
/// </summary>
public sealed partial class RecommenderHost : IDisposable
{
    private readonly IOptions<EdgeOptions> options;
    private readonly TimeProvider clock;
    private readonly ILogger<RecommenderHost> logger;
    private ServedRecommender? current;

    /// <summary>Loads the kept or configured bundle, if any (one that does not load is logged and skipped).</summary>
    public RecommenderHost(IOptions<EdgeOptions> options, TimeProvider clock, ILogger<RecommenderHost> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options;
        this.clock = clock;
        this.logger = logger;
        var o = options.Value.Recommendations;
        foreach (var (path, source) in (ReadOnlySpan<(string, string)>)[(KeptPath, "hub"), (o.Bundle, "file")])
        {
            if (string.IsNullOrWhiteSpace(path) || !File.Exists(path))
            {
                continue;
            }

            if (Deploy(File.ReadAllBytes(path), source, keep: false) is { } error)
            {
                LogRefused(logger, path, error);
                continue;
            }

            break;
        }
    }

    /// <summary>The serving recommender, or null.</summary>
    public ServedRecommender? Current => Volatile.Read(ref current);

    private string KeptPath => Path.Combine(options.Value.DataDir, "recommender", "current.bundle");

    /// <summary>
    /// Loads <paramref name="content"/> and, when it loads, serves it from now on (kept on disk when it came from the
    /// hub). Returns null on success, else why it was refused (the serving recommender is unchanged).
    /// </summary>
    public string? Deploy(byte[] content, string source, bool keep = true)
    {
        ArgumentNullException.ThrowIfNull(content);
        Recommender loaded;
        try
        {
            var bundle = RecommenderBundle.FromBytes(content);
            var o = options.Value.Recommendations;
            loaded = new Recommender(bundle, SharedTextEmbedders.ForName(bundle.TextVectors?.Name), new RecommenderOptions
            {
                ColdSlots = o.ColdSlots,
                MinColdSimilarity = o.MinColdSimilarity is { } m ? (float)m : null,
            });
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            return ex.Message;
        }

        var sha = RecommenderBundle.Sha256(content);
        if (keep)
        {
            var path = KeptPath;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temp = path + ".tmp";
            File.WriteAllBytes(temp, content);
            File.Move(temp, path, overwrite: true);
        }

        Swap(new ServedRecommender(loaded, sha, source, clock.GetUtcNow()));
        LogDeployed(logger, loaded.Version, source, loaded.ItemCount);
        return null;
    }

    /// <summary>Stops serving (the hub unpublished everything); the configured file, if any, is not reloaded.</summary>
    public void Clear()
    {
        Swap(null);
        var path = KeptPath;
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    /// <inheritdoc />
    public void Dispose() => Interlocked.Exchange(ref current, null)?.Recommender.Dispose();

    private void Swap(ServedRecommender? next)
    {
        var previous = Interlocked.Exchange(ref current, next);
        if (previous is not null && !ReferenceEquals(previous.Recommender, next?.Recommender))
        {
            // Requests may still be using it: release its ONNX session a little later.
            _ = Task.Delay(TimeSpan.FromSeconds(30), CancellationToken.None).ContinueWith(_ => previous.Recommender.Dispose(), TaskScheduler.Default);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Recommender {Version} serving (from {Source}, {Items} products)")]
    private static partial void LogDeployed(ILogger logger, string version, string source, int items);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recommender bundle {Path} not served: {Error}")]
    private static partial void LogRefused(ILogger logger, string path, string error);
}
