using EdgeProfile.Edge.Log;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Scoring;

/// <summary>
/// Scores customers whose features changed, after the log writer committed them, off the writer's thread.
/// </summary>
/// <remarks>
/// <para>Why asynchronous rather than in the writer or on read: the writer's batch holds the feature state's write
/// lock and its PUBACKs wait for the commit, so an ONNX call per touched customer there would slow every publisher;
/// scoring on read would make each profile read pay for a model run and keep nothing to persist. Here the writer only
/// adds keys to a set (<see cref="ModelScoring.Changed"/>); this service takes the whole set at once, so a customer
/// with a burst of events is scored once, reads the features as committed, and writes the scores of a pass in one
/// transaction on its own connection (synchronous=NORMAL: scores are derived, and one lost to a power cut is redone
/// at the next start, see below).</para>
/// <para>Explanations come after: once no customer waits to be scored, it explains stored scores that have none yet,
/// a small page per turn (<see cref="ModelScoring.ExplainPending"/>), so explaining (milliseconds per customer) never
/// delays a score (microseconds); under a sustained load explanations lag and catch up when it eases, and one asked for
/// meanwhile is computed on request from the stored row — the same numbers.</para>
/// <para>At start, and whenever it is idle, it also works through customers whose stored scores are missing, come
/// from another model version, or are older than their profile (a crash between a commit and its scoring), a page at
/// a time, so a new model covers everyone and nothing stays stale after a crash; and every quarter of
/// <c>Edge:Models:RescoreAfter</c> through customers scored longer ago than that, since features change with time alone
/// (a purchase leaves a 30-day window, a value outlives its TTL) and a score must follow them.</para>
/// </remarks>
public sealed partial class ScoringService(ModelScoring scoring, EdgeDatabase db, TimeProvider clock, IOptions<EdgeOptions> options, ILogger<ScoringService> logger) : BackgroundService
{
    private const int PassSize = 1000;

    // Explanations per idle turn: a few milliseconds each, so scoring waits at most a short while for the page to end.
    private const int ExplainPage = 16;

    // Features age without events (windows slide, values go stale): scores older than this are redone by the sweep.
    private readonly TimeSpan _rescoreAfter = options.Value.Models.RescoreAfter;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        using var connection = db.Open();
        EdgeDatabase.Exec(connection, "PRAGMA synchronous=NORMAL;");
        string? sweepAfter = "";
        long generation = -1;
        var sweepStarted = clock.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            if (sweepAfter is null && _rescoreAfter > TimeSpan.Zero && clock.GetUtcNow() - sweepStarted >= SweepEvery)
            {
                // Time to look for scores the passing time has made old.
                sweepAfter = "";
                sweepStarted = clock.GetUtcNow();
            }

            if (scoring.Generation != generation)
            {
                // A model was deployed or rolled back (or this is the start): go through everyone again.
                generation = scoring.Generation;
                sweepAfter = scoring.Version is null ? null : "";
                sweepStarted = clock.GetUtcNow();
                if (scoring.Version is { } version)
                {
                    LogServing(logger, version, scoring.Features.Count, scoring.Host.Current?.Outputs.Count ?? 0);
                }
            }

            var changed = scoring.TakeChanged();
            if (changed.Count == 0 && sweepAfter is not null)
            {
                // Idle: the next page of customers whose stored scores are behind.
                var page = Behind(connection, sweepAfter);
                sweepAfter = page.Count == PassSize ? page[^1] : null;
                changed.UnionWith(page);
            }

            if (changed.Count == 0)
            {
                // No score waiting: explain stored scores that have no explanation yet, a small page at a time, so a
                // customer whose features change meanwhile is re-scored without waiting for explanations.
                try
                {
                    if (scoring.ExplainPending(connection, ExplainPage) > 0)
                    {
                        continue;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogExplainFailed(logger, ex);
                }
            }

            if (changed.Count == 0)
            {
                try
                {
                    // Woken by marked customers or a new model; otherwise at the next aging sweep.
                    await scoring.WaitAsync(_rescoreAfter > TimeSpan.Zero ? SweepEvery : Timeout.InfiniteTimeSpan, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            try
            {
                Pass(connection, changed);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The customers keep their previous scores; they are re-scored at their next change or the next start.
                LogPassFailed(logger, ex, changed.Count);
            }
        }
    }

    private void Pass(SqliteConnection connection, IEnumerable<string> customers)
    {
        var scored = new List<(string Key, CustomerScores Scores)>(PassSize);
        foreach (var key in customers)
        {
            if (scoring.Score(key, clock.GetUtcNow().ToUnixTimeMilliseconds()) is not { } scores)
            {
                return;
            }

            scored.Add((key, scores));
            if (scored.Count == PassSize)
            {
                scoring.Store(connection, scored);
                scored.Clear();
            }
        }

        if (scored.Count > 0)
        {
            scoring.Store(connection, scored);
        }
    }

    /// <summary>Up to a page of customers (after <paramref name="after"/>, in key order) without current scores.</summary>
    private List<string> Behind(SqliteConnection connection, string after)
    {
        if (scoring.Version is not { } version)
        {
            return [];
        }

        using var cmd = connection.CreateCommand();
        cmd.CommandText = """
            SELECT p.customer_key FROM profiles p
            LEFT JOIN model_scores s ON s.customer_key = p.customer_key
            WHERE p.customer_key > $after
              AND (s.customer_key IS NULL OR s.model_version <> $v OR s.scored_at_ms < p.updated_at_ms OR s.scored_at_ms < $old)
            ORDER BY p.customer_key LIMIT $n
            """;
        cmd.Parameters.AddWithValue("$after", after);
        cmd.Parameters.AddWithValue("$v", version);
        cmd.Parameters.AddWithValue("$n", PassSize);
        cmd.Parameters.AddWithValue("$old", _rescoreAfter > TimeSpan.Zero ? (clock.GetUtcNow() - _rescoreAfter).ToUnixTimeMilliseconds() : long.MinValue);
        using var r = cmd.ExecuteReader();
        var keys = new List<string>();
        while (r.Read())
        {
            keys.Add(r.GetString(0));
        }

        return keys;
    }

    /// <summary>How often the aging sweep runs: a quarter of <c>Edge:Models:RescoreAfter</c>, so no score gets much older than that.</summary>
    private TimeSpan SweepEvery => _rescoreAfter / 4;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Explaining stored scores failed; they are retried at the next idle turn")]
    private static partial void LogExplainFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scoring customers with model {Version} ({Features} features, {Tasks} tasks)")]
    private static partial void LogServing(ILogger logger, string version, int features, int tasks);

    [LoggerMessage(Level = LogLevel.Error, Message = "Scoring {Count} customers failed; they keep their previous scores")]
    private static partial void LogPassFailed(ILogger logger, Exception ex, int count);
}
