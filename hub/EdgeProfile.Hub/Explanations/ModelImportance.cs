using System.Text.Json.Nodes;
using EdgeProfile.Explanations;
using EdgeProfile.Hub.Features;
using EdgeProfile.Hub.Models;
using EdgeProfile.Hub.Storage;

namespace EdgeProfile.Hub.Explanations;

/// <summary>
/// Global importance of each registered model version: mean |φ| per feature group over the background rows the model
/// ships, per output, computed with the same explainer the edges use (exact Shapley up to 16 groups). Computed when a
/// version is deployed (and on first request for any other), stored in <c>model_importance</c>.
/// </summary>
internal sealed partial class ModelImportance(HubDatabase db, ModelRegistry registry, DefinitionRegistry definitions, TimeProvider time,
    Microsoft.Extensions.Logging.ILogger<ModelImportance> logger) : Microsoft.Extensions.Hosting.BackgroundService
{
    private readonly SemaphoreSlim _compute = new(1, 1);
    private readonly System.Threading.Channels.Channel<string> _deployed = System.Threading.Channels.Channel.CreateUnbounded<string>();

    /// <summary>Queues <paramref name="version"/> (just deployed) for its importance to be recomputed in the background;
    /// the queue stops with the hub, before its database closes.</summary>
    public void Recompute(string version) => _deployed.Writer.TryWrite(version);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var version in _deployed.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await ComputeAsync(version, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException or System.Data.Common.DbException)
                {
                    LogFailed(logger, version, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what was not computed yet is computed when first asked for.
        }
    }

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "Model {Version}: global importance not computed: {Reason}")]
    private static partial void LogFailed(Microsoft.Extensions.Logging.ILogger logger, string version, string reason);

    /// <summary>The stored importance of <paramref name="version"/>, computed now when missing; null for an unknown version.</summary>
    /// <exception cref="InvalidDataException">The model cannot be explained (names why).</exception>
    public async Task<JsonObject?> GetAsync(string version, CancellationToken cancellationToken)
    {
        var stored = await db.ReadAsync(connection =>
        {
            using var command = Sql.Command(connection, null, "SELECT importance FROM model_importance WHERE version = @v;", ("@v", version));
            return command.ExecuteScalar() as string;
        }, cancellationToken).ConfigureAwait(false);
        return stored is not null ? JsonNode.Parse(stored)!.AsObject() : await ComputeAsync(version, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>(Re)computes and stores the importance of <paramref name="version"/>; null for an unknown version.</summary>
    /// <exception cref="InvalidDataException">The model cannot be explained.</exception>
    public async Task<JsonObject?> ComputeAsync(string version, CancellationToken cancellationToken)
    {
        if (await registry.ContentAsync(version, cancellationToken).ConfigureAwait(false) is not { } found)
        {
            return null;
        }

        await _compute.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var set = definitions.Current.Set;
            var json = await Task.Run(() =>
            {
                using var explainer = ModelExplainer.Create(found.Content, version, set.Definitions);
                var document = ExplanationView.Importance(explainer);
                document["computedAt"] = time.GetUtcNow();
                document["featureSetRevision"] = set.Revision;
                return document;
            }, cancellationToken).ConfigureAwait(false);
            var text = json.ToJsonString();
            await db.WriteAsync((connection, tx) => Sql.Exec(connection, tx, """
                INSERT INTO model_importance (version, computed_at, importance) VALUES (@v, @t, @j)
                ON CONFLICT (version) DO UPDATE SET computed_at = excluded.computed_at, importance = excluded.importance;
                """, ("@v", version), ("@t", time.GetUtcNow().ToUnixTimeMilliseconds()), ("@j", text)), cancellationToken).ConfigureAwait(false);
            return json;
        }
        finally
        {
            _compute.Release();
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _compute.Dispose();
        base.Dispose();
    }
}
