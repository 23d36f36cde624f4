using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Enrollment;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Uplink;

/// <summary><c>edgeprofile.v1.Uplink</c>: a store's cursor and its profile deltas. Always acts as the authenticated store.</summary>
internal sealed class UplinkService : Contracts.V1.Uplink.UplinkBase
{
    private readonly DeltaWriter _writer;
    private readonly ILogger<UplinkService> _logger;

    public UplinkService(DeltaWriter writer, ILogger<UplinkService> logger)
    {
        _writer = writer;
        _logger = logger;
    }

    public override async Task<Cursor> GetCursor(CursorRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var storeId = StoreCallContext.StoreId(context);
        var acked = await _writer.TouchAsync(storeId, context.CancellationToken).ConfigureAwait(false);
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

        UploadResult result;
        try
        {
            result = await _writer.ApplyAsync(storeId, request, keySets, context.CancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            HubLog.BatchGap(_logger, storeId, ex.Status.Detail);
            throw;
        }

        HubLog.BatchApplied(_logger, storeId, result.Applied, request.Deltas.Count - result.Applied, result.AckedThrough);
        return new UploadAck { AckedThrough = result.AckedThrough, Applied = result.Applied };
    }
}
