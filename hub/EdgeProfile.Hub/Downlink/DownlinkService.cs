using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Enrollment;
using EdgeProfile.Hub.Storage;
using Grpc.Core;

namespace EdgeProfile.Hub.Downlink;

/// <summary>
/// <c>Downlink.Watch</c> for authenticated stores: confirms what the store says it applied, sends what is queued after
/// that, then each new item as it is queued (woken by <see cref="DownlinkQueue.Notify"/>, with a poll as a backstop).
/// </summary>
internal sealed class DownlinkService(HubDatabase db, DownlinkQueue queue, Erasure.ErasureService erasures) : Contracts.V1.Downlink.DownlinkBase
{
    private const int PageSize = 500;
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    public override async Task<ErasureConfirmed> ConfirmErasure(ErasureConfirmation request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var storeId = StoreCallContext.StoreId(context);
        if (string.IsNullOrWhiteSpace(request.RequestId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "request_id is required"));
        }

        return new ErasureConfirmed { Complete = await erasures.ConfirmAsync(storeId, request.RequestId, context.CancellationToken).ConfigureAwait(false) };
    }

    public override async Task Watch(DownlinkRequest request, IServerStreamWriter<DownlinkItem> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var storeId = StoreCallContext.StoreId(context);
        var ct = context.CancellationToken;
        var after = Math.Max(0, request.After);
        await db.WriteAsync((connection, tx) =>
        {
            DownlinkQueue.Acknowledge(connection, tx, storeId, after);
            return 0;
        }, ct).ConfigureAwait(false);

        while (!ct.IsCancellationRequested)
        {
            // Taken before the read, so an item queued meanwhile is not waited past.
            var changed = queue.Changed;
            var items = await db.ReadAsync(connection => DownlinkQueue.Read(connection, storeId, after, PageSize), ct).ConfigureAwait(false);
            foreach (var item in items)
            {
                await responseStream.WriteAsync(item, ct).ConfigureAwait(false);
                after = item.Seq;
            }

            if (items.Count == PageSize)
            {
                continue;
            }

            try
            {
                await changed.WaitAsync(Poll, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Backstop poll.
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
