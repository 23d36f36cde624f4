using System.Threading.Channels;
using EdgeProfile.Knowledge.Graph;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Knowledge;

/// <summary>
/// Feeds the knowledge graph's customer → category interest edges from the stores' profile deltas: after each
/// committed upload, the customers' hub profile ids (pseudonymous; no store key reaches the graph) with the category
/// of their latest event are queued here and written in batches (up to <see cref="BatchSize"/> or every
/// <see cref="FlushInterval"/>). The queue is bounded: when the graph falls behind, the oldest observations are
/// dropped and counted (<see cref="Dropped"/>) rather than slowing the uplink — the graph is an aggregate, the profiles
/// are the record.
/// </summary>
internal sealed partial class InterestFeed(GraphService graph, ILogger<InterestFeed> logger) : BackgroundService
{
    /// <summary>Most observations written in one transaction.</summary>
    public const int BatchSize = 2000;

    /// <summary>Longest an observation waits for its batch.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(500);

    private readonly Channel<CategoryObservation> _queue = Channel.CreateBounded<CategoryObservation>(
        new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _forgotten = new(StringComparer.Ordinal);
    private long _recorded;
    private long _repeated;
    private long _unmatched;
    private long _dropped;

    /// <summary>Observations that counted.</summary>
    public long Recorded => Interlocked.Read(ref _recorded);

    /// <summary>Observations of events already counted.</summary>
    public long Repeated => Interlocked.Read(ref _repeated);

    /// <summary>Observations whose category matched no taxonomy category.</summary>
    public long Unmatched => Interlocked.Read(ref _unmatched);

    /// <summary>Observations dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Queues one observation (never blocks).</summary>
    public void Enqueue(string profileId, string categoryPath, long atUnixMs)
    {
        if (string.IsNullOrWhiteSpace(categoryPath))
        {
            return;
        }

        if (_queue.Reader.Count >= 100_000)
        {
            Interlocked.Increment(ref _dropped);
        }

        _queue.Writer.TryWrite(new CategoryObservation("ep:" + profileId, categoryPath, atUnixMs));
    }

    /// <summary>
    /// Removes erased profiles from the graph. The ids are remembered first, and batches check them inside the store's
    /// lock, so an observation queued before the erasure cannot be written after it.
    /// </summary>
    public async Task ForgetAsync(IEnumerable<string> profileIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(profileIds);
        if (_forgotten.Count > 1_000_000)
        {
            _forgotten.Clear(); // profile ids are never reused; the set only guards the queue's few seconds
        }

        var ids = profileIds.Select(id => "ep:" + id).ToList();
        foreach (var id in ids)
        {
            _forgotten[id] = 0;
        }

        foreach (var id in ids)
        {
            await graph.ForgetCustomerAsync(id, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<CategoryObservation>(BatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
                {
                    wait.CancelAfter(FlushInterval);
                    try
                    {
                        while (batch.Count < BatchSize)
                        {
                            if (!_queue.Reader.TryRead(out var next))
                            {
                                await _queue.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false);
                                continue;
                            }

                            batch.Add(next);
                        }
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                        // The flush interval passed: write what there is.
                    }
                }

                await WriteAsync(batch, stoppingToken).ConfigureAwait(false);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is queued is an aggregate's input, not a record.
        }
    }

    private async Task WriteAsync(List<CategoryObservation> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            var result = await graph.RecordInterestsAsync(batch, _forgotten.ContainsKey, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _recorded, result.Recorded);
            Interlocked.Add(ref _repeated, result.Repeated);
            Interlocked.Add(ref _unmatched, result.Unmatched);
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException or InvalidOperationException)
        {
            Interlocked.Add(ref _dropped, batch.Count);
            LogFailed(logger, batch.Count, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} interest observation(s) not written to the knowledge graph: {Error}")]
    private static partial void LogFailed(ILogger logger, int count, string error);
}
