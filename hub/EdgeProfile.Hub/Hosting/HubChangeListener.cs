using EdgeProfile.Hub.Downlink;
using EdgeProfile.Hub.Features;
using EdgeProfile.Hub.Profiles;
using EdgeProfile.Hub.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EdgeProfile.Hub.Hosting;

/// <summary>
/// On PostgreSQL, listens for the other replicas' <see cref="HubChanges"/> and applies them here: drops cached profile
/// answers, wakes the stores' downlink streams, reloads the feature registry. A lost connection is retried; since
/// messages sent meanwhile are lost, everything is treated as changed once it is back.
/// </summary>
internal sealed partial class HubChangeListener(
    HubDatabase db, HubChanges changes, ProfileCache cache, DownlinkQueue downlink, DefinitionRegistry registry, EdgeProfile.Hub.Models.ModelRegistry models, EdgeProfile.Hub.Rules.RuleRegistry rules, EdgeProfile.Hub.Recommending.RecommenderRegistry recommenders, ILogger<HubChangeListener> logger)
    : BackgroundService
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (db.Postgres is not { } source || db.ChangeChannel is not { } channel)
        {
            return;
        }

        var first = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Its own physical connection, never returned to the pool still listening.
                await using var connection = await source.OpenConnectionAsync(stoppingToken).ConfigureAwait(false);
                await using var unlisten = new Unlisten(connection);
                connection.Notification += (_, e) => Apply(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN \"{channel}\";", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                }

                if (!first)
                {
                    LogResumed(logger);
                    await EverythingChangedAsync(stoppingToken).ConfigureAwait(false);
                }

                first = false;
                while (true)
                {
                    await connection.WaitAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException)
            {
                LogLost(logger, ex.Message);
                first = false;
                try
                {
                    await Task.Delay(Retry, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Apply(string payload)
    {
        if (changes.Parse(payload) is not var (kind, ids))
        {
            return;
        }

        switch (kind)
        {
            case HubChanges.Profiles:
                cache.Changed(ids);
                downlink.Notify();
                break;
            case HubChanges.Identities:
                cache.IdentitiesChanged();
                downlink.Notify();
                break;
            case HubChanges.Registry:
                _ = ReloadAsync(registry.RefreshAsync);
                break;
            case HubChanges.Models:
                _ = ReloadAsync(models.RefreshAsync);
                break;
            case HubChanges.Rules:
                _ = ReloadAsync(rules.RefreshAsync);
                break;
            case HubChanges.Recommenders:
                _ = ReloadAsync(recommenders.RefreshAsync);
                break;
        }
    }

    private async Task EverythingChangedAsync(CancellationToken cancellationToken)
    {
        cache.IdentitiesChanged();
        downlink.Notify();
        await registry.RefreshAsync(cancellationToken).ConfigureAwait(false);
        await models.RefreshAsync(cancellationToken).ConfigureAwait(false);
        await rules.RefreshAsync(cancellationToken).ConfigureAwait(false);
        await recommenders.RefreshAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task ReloadAsync(Func<CancellationToken, Task> refresh)
    {
        try
        {
            await refresh(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or ObjectDisposedException)
        {
            LogLost(logger, ex.Message);
        }
    }

    // UNLISTEN before the connection goes back to the pool (it is kept without a reset; see HubDatabase).
    private sealed class Unlisten(NpgsqlConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (connection.State != System.Data.ConnectionState.Open)
            {
                return;
            }

            try
            {
                await using var command = new NpgsqlCommand("UNLISTEN *;", connection);
                await command.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException)
            {
                // A broken connection is not pooled again.
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Change feed from the other hub replicas lost ({Reason}); retrying")]
    private static partial void LogLost(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Change feed from the other hub replicas resumed; cached answers dropped")]
    private static partial void LogResumed(ILogger logger);
}
