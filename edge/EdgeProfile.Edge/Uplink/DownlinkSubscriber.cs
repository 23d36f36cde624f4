using EdgeProfile.Edge.Log;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using V1 = EdgeProfile.Contracts.V1;

namespace EdgeProfile.Edge.Uplink;

/// <summary>
/// Keeps a watch on the hub's <c>Downlink</c> while enrolled and applies what it pushes (global summaries of this
/// store's customers), resuming after the last item applied; an outage only delays, a restart loses nothing.
/// </summary>
public sealed partial class DownlinkSubscriber(
    EdgeIdentity identity,
    EdgeDatabase db,
    LogWriter writer,
    IOptions<EdgeOptions> options,
    TimeProvider clock,
    ILogger<DownlinkSubscriber> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (string.IsNullOrWhiteSpace(o.HubUrl) || identity.Credential is null)
        {
            return;
        }

        await Task.Yield();
        using var hub = new HubClients(o.HubUrl);
        using var connection = db.Open();
        var headers = HubClients.StoreHeaders(o.StoreId, identity.Credential);
        var retry = new RetryDelay(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        var outage = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var after = GlobalProfileStore.AppliedSeq(connection);
                using var call = hub.Downlink.Watch(new V1.DownlinkRequest { After = after }, headers, cancellationToken: stoppingToken);
                await call.ResponseHeadersAsync.ConfigureAwait(false);
                retry.Reset();
                outage = false;
                LogWatching(logger, o.HubUrl, after);

                // Erasures carried out while the hub could not hear about it.
                foreach (var pending in EdgeErasure.Unconfirmed(connection))
                {
                    await ConfirmAsync(hub, headers, connection, pending, stoppingToken).ConfigureAwait(false);
                }

                while (await call.ResponseStream.MoveNext(stoppingToken).ConfigureAwait(false))
                {
                    var item = call.ResponseStream.Current;
                    if (item.BodyCase == V1.DownlinkItem.BodyOneofCase.Erase)
                    {
                        if (!EdgeErasure.Applied(connection, item.Erase.RequestId))
                        {
                            await writer.EraseAsync(item.Erase.RequestId, item.Erase.Identifiers, stoppingToken).ConfigureAwait(false);
                        }

                        GlobalProfileStore.Apply(connection, item, clock.GetUtcNow().ToUnixTimeMilliseconds());
                        await ConfirmAsync(hub, headers, connection, item.Erase.RequestId, stoppingToken).ConfigureAwait(false);
                        continue;
                    }

                    GlobalProfileStore.Apply(connection, item, clock.GetUtcNow().ToUnixTimeMilliseconds());
                    LogApplied(logger, item.Seq, item.Profile?.ProfileId ?? "");
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is RpcException or IOException or Microsoft.Data.Sqlite.SqliteException or HttpRequestException or InvalidOperationException)
            {
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
    }

    private static async Task ConfirmAsync(HubClients hub, Metadata headers, Microsoft.Data.Sqlite.SqliteConnection connection, string requestId, CancellationToken ct)
    {
        await hub.Downlink.ConfirmErasureAsync(new V1.ErasureConfirmation { RequestId = requestId }, headers, cancellationToken: ct).ConfigureAwait(false);
        EdgeErasure.MarkConfirmed(connection, requestId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Watching the hub's downlink at {HubUrl} after item {After}")]
    private static partial void LogWatching(ILogger logger, string hubUrl, long after);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Downlink item {Seq} applied (global profile {ProfileId})")]
    private static partial void LogApplied(ILogger logger, long seq, string profileId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Downlink from {HubUrl} unavailable ({Error}); retrying")]
    private static partial void LogUnavailable(ILogger logger, string hubUrl, string error);
}
