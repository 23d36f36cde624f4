using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Enrollment;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Uplink;

/// <summary>
/// <c>edgeprofile.v1.Uplink</c>: a store's cursor, its profile deltas and its customers' latest model scores. Always
/// acts as the authenticated store.
/// </summary>
internal sealed partial class UplinkService : Contracts.V1.Uplink.UplinkBase
{
    private readonly DeltaWriter _writer;
    private readonly TimeProvider _time;
    private readonly ILogger<UplinkService> _logger;

    public UplinkService(DeltaWriter writer, TimeProvider time, ILogger<UplinkService> logger)
    {
        _writer = writer;
        _time = time;
        _logger = logger;
    }

    public override async Task<Cursor> GetCursor(CursorRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var storeId = StoreCallContext.StoreId(context);
        var acked = await _writer.TouchAsync(storeId, request?.Counters, context.CancellationToken).ConfigureAwait(false);
        return new Cursor { AckedThrough = acked };
    }

    public override async Task<UploadAck> Upload(DeltaBatch request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var storeId = StoreCallContext.StoreId(context);
        if (DeltaValidator.Validate(request, out var keySets) is { } error)
        {
            HubLog.BatchRefused(_logger, storeId, error);
            throw new RpcException(new Status(StatusCode.InvalidArgument, error));
        }

        // An invalid score entry is dropped (and reported), never the batch: the deltas around it are valid.
        var refused = new List<string>();
        var dropped = 0;
        var scores = request.Scores.Count == 0 ? [] : ScoreValidator.Validate(request, _time.GetUtcNow().ToUnixTimeMilliseconds(), refused, out dropped);
        if (dropped > 0)
        {
            LogScoresRefused(_logger, storeId, dropped, refused[0]);
        }

        UploadResult result;
        try
        {
            result = await _writer.ApplyAsync(storeId, request, keySets, scores, context.CancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            HubLog.BatchGap(_logger, storeId, ex.Status.Detail);
            throw;
        }

        HubLog.BatchApplied(_logger, storeId, result.Applied, request.Deltas.Count - result.Applied, result.AckedThrough);
        if (request.Scores.Count > 0)
        {
            LogScoresStored(_logger, storeId, result.ScoresStored, request.Scores.Count);
        }

        return new UploadAck { AckedThrough = result.AckedThrough, Applied = result.Applied, ScoresRefused = dropped };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store {StoreId} sent {Count} invalid score entries, dropped (first: {Reason})")]
    private static partial void LogScoresRefused(ILogger logger, string storeId, int count, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Store {StoreId}: {Stored} of {Received} score entries stored")]
    private static partial void LogScoresStored(ILogger logger, string storeId, int stored, int received);
}
