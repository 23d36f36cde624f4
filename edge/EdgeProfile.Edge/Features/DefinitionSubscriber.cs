using EdgeProfile.Core.Features;
using EdgeProfile.Edge.Uplink;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using V1 = EdgeProfile.Contracts.V1;

namespace EdgeProfile.Edge.Features;

/// <summary>
/// Keeps the edge's feature definitions in step with the hub's registry: an enrolled edge watches
/// <c>FeatureRegistry/WatchDefinitions</c> from the revision its <see cref="IFeatureSetSink"/> applies, and hands every
/// set the hub pushes to the sink. When the hub is down it retries with backoff (1 s doubling to 30 s) and resumes from
/// the applied revision; a standalone edge, or one without a sink, does nothing. Nothing here stops the agent.
/// </summary>
public sealed partial class DefinitionSubscriber(
    EdgeIdentity identity,
    IOptions<EdgeOptions> options,
    ILogger<DefinitionSubscriber> logger,
    IFeatureSetSink? sink = null) : BackgroundService
{
    private volatile bool _connected;
    private long _lastReceived;

    /// <summary>True while a watch on the hub is open (the hub answered it).</summary>
    public bool Connected => _connected;

    /// <summary>The revision of the last set the hub sent (0: none yet), applied or not.</summary>
    public long LastReceivedRevision => Interlocked.Read(ref _lastReceived);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (string.IsNullOrWhiteSpace(o.HubUrl) || identity.Credential is null)
        {
            return;
        }

        if (sink is null)
        {
            LogNoSink(logger);
            return;
        }

        using var hub = new HubClients(o.HubUrl);
        var headers = HubClients.StoreHeaders(o.StoreId, identity.Credential);
        var retry = new Uplink.RetryDelay(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        var outage = false;
        var sinkFailing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var known = sink.AppliedRevision;
                using var call = hub.Features.WatchDefinitions(new V1.WatchDefinitionsRequest { KnownRevision = known }, headers, cancellationToken: stoppingToken);
                await call.ResponseHeadersAsync.ConfigureAwait(false);
                _connected = true;
                if (!sinkFailing)
                {
                    retry.Reset();
                }

                LogWatching(logger, o.HubUrl, known);
                outage = false;
                while (await call.ResponseStream.MoveNext(stoppingToken).ConfigureAwait(false))
                {
                    await ApplyAsync(sink, call.ResponseStream.Current, stoppingToken).ConfigureAwait(false);
                    sinkFailing = false;
                }

                // The hub ended the stream (it is stopping): reconnect after the first backoff.
                _connected = false;
                LogStreamEnded(logger, o.HubUrl);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (SinkFailedException)
            {
                // Logged where it failed. The set was not applied, so the next watch sends it again; back off meanwhile.
                _connected = false;
                sinkFailing = true;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.Unimplemented)
            {
                _connected = false;
                if (!outage)
                {
                    LogRefused(logger, o.HubUrl, ex.StatusCode.ToString(), ex.Status.Detail);
                    outage = true;
                }

                retry.Longest();
            }
            catch (Exception ex)
            {
                // Hub down or the WAN cut: the next watch resends whatever is newer than the applied revision.
                _connected = false;
                if (!outage)
                {
                    LogUnavailable(logger, o.HubUrl, ex is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : ex.Message);
                    outage = true;
                }
            }

            if (!await retry.WaitAsync(stoppingToken).ConfigureAwait(false))
            {
                break;
            }
        }

        _connected = false;
    }

    private async Task ApplyAsync(IFeatureSetSink target, V1.DefinitionSet message, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _lastReceived, message.Revision);
        FeatureSet set;
        try
        {
            set = FeatureSet.Parse(message.FeatureSetJson) with { Revision = message.Revision };
        }
        catch (FeatureDefinitionException ex)
        {
            // Not applied: the edge keeps its current set, and the next revision from the hub may fix it.
            LogUnusable(logger, message.Revision, ex.Message);
            return;
        }

        var applied = target.AppliedRevision;
        if (message.Revision < applied)
        {
            LogRevisionBack(logger, applied, message.Revision);
        }

        try
        {
            await target.ApplyAsync(set, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogApplyFailed(logger, ex, message.Revision);
            throw new SinkFailedException(ex);
        }

        LogApplied(logger, message.Revision, set.Definitions.Count);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No feature set sink is registered: feature definitions from the hub are not applied")]
    private static partial void LogNoSink(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Watching feature definitions at {HubUrl} from revision {KnownRevision}")]
    private static partial void LogWatching(ILogger logger, string hubUrl, long knownRevision);

    [LoggerMessage(Level = LogLevel.Information, Message = "Feature definitions stream from {HubUrl} ended by the hub; reconnecting")]
    private static partial void LogStreamEnded(ILogger logger, string hubUrl);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feature definitions from {HubUrl} unavailable ({Error}); the edge keeps its current set and retries")]
    private static partial void LogUnavailable(ILogger logger, string hubUrl, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Hub at {HubUrl} refused the feature definitions watch ({Status}: {Detail}); retrying every 30 s")]
    private static partial void LogRefused(ILogger logger, string hubUrl, string status, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "Feature definitions revision {Revision} from the hub cannot be used and is skipped: {Reason}")]
    private static partial void LogUnusable(ILogger logger, long revision, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The hub's feature registry is at revision {Revision}, behind the applied {Applied} (a replaced hub?): handing its set over")]
    private static partial void LogRevisionBack(ILogger logger, long applied, long revision);

    [LoggerMessage(Level = LogLevel.Information, Message = "Feature definitions revision {Revision} applied ({Count} definitions)")]
    private static partial void LogApplied(ILogger logger, long revision, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Feature definitions revision {Revision} could not be applied; it is fetched again on the next watch")]
    private static partial void LogApplyFailed(ILogger logger, Exception exception, long revision);

    private sealed class SinkFailedException(Exception inner) : Exception(inner.Message, inner);
}
