using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Enrollment;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Models;

/// <summary>
/// <c>edgeprofile.v1.ModelDistribution</c>: each authenticated store watches its model assignment, downloads model
/// files, and reports what it did with them. <see cref="StoreAuthInterceptor"/> authenticates the calls.
/// </summary>
internal sealed partial class ModelDistributionService : ModelDistribution.ModelDistributionBase
{
    /// <summary>Largest chunk of a download (well under gRPC's default 4 MiB receive limit).</summary>
    public const int ChunkBytes = 1024 * 1024;

    private const int MaxMessageLength = 2000;

    private readonly ModelRegistry _registry;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<ModelDistributionService> _logger;

    public ModelDistributionService(ModelRegistry registry, IHostApplicationLifetime lifetime, ILogger<ModelDistributionService> logger)
    {
        _registry = registry;
        _lifetime = lifetime;
        _logger = logger;
    }

    public override async Task WatchAssignment(WatchAssignmentRequest request, IServerStreamWriter<ModelAssignment> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var storeId = StoreCallContext.StoreId(context);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _lifetime.ApplicationStopping);
        var known = request.KnownRevision;
        try
        {
            while (true)
            {
                var history = await _registry.WaitForChangeAsync(known, cts.Token).ConfigureAwait(false);
                var message = new ModelAssignment { Revision = history.Revision };
                if (history.AssignedTo(storeId) is { } version
                    && await _registry.GetAsync(version, cts.Token).ConfigureAwait(false) is { } model)
                {
                    message.Version = model.Version;
                    message.Sha256 = model.Sha256;
                    message.Size = model.Size;
                }

                await responseStream.WriteAsync(message, cts.Token).ConfigureAwait(false);
                LogAssigned(_logger, storeId, history.Revision, message.Version);
                known = history.Revision;
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // The store went away or the hub is stopping: end the stream normally; the store reconnects.
        }
    }

    public override async Task Download(DownloadModelRequest request, IServerStreamWriter<ModelChunk> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var storeId = StoreCallContext.StoreId(context);
        var found = await _registry.ContentAsync(request.Version, context.CancellationToken).ConfigureAwait(false)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"model {request.Version} is not registered"));
        var content = found.Content;
        for (var offset = 0; offset < content.Length; offset += ChunkBytes)
        {
            var length = Math.Min(ChunkBytes, content.Length - offset);
            await responseStream.WriteAsync(new ModelChunk
            {
                Offset = offset,
                Total = content.Length,
                Data = ByteString.CopyFrom(content, offset, length),
            }, context.CancellationToken).ConfigureAwait(false);
        }

        LogDownloaded(_logger, storeId, request.Version, content.Length);
    }

    public override async Task<ModelStatusAck> ReportStatus(ModelStatusReport request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var storeId = StoreCallContext.StoreId(context);
        if (!ModelOutcomes.IsKnown(request.Outcome))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"outcome: '{request.Outcome}' is not one of deployed, refused, rolled_back"));
        }

        if (string.IsNullOrWhiteSpace(request.Version) || request.Version.Length > EdgeProfile.Models.Serving.ModelArtifact.MaxVersionLength)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "version: required, at most 128 characters"));
        }

        var message = request.Message.Length > MaxMessageLength ? request.Message[..MaxMessageLength] + "…" : request.Message;
        var serving = string.IsNullOrEmpty(request.ServingVersion) ? null : request.ServingVersion;
        await _registry.ReportAsync(storeId, request.Revision, request.Version, request.Outcome, message, serving, context.CancellationToken).ConfigureAwait(false);
        if (request.Outcome == ModelOutcomes.Refused)
        {
            LogRefused(_logger, storeId, request.Version, message);
        }
        else
        {
            LogReported(_logger, storeId, request.Version, request.Outcome, serving ?? "none");
        }

        return new ModelStatusAck();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Store {StoreId}: model assignment revision {Revision} sent (version '{Version}')")]
    private static partial void LogAssigned(ILogger logger, string storeId, long revision, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store {StoreId} downloaded model {Version} ({Bytes} bytes)")]
    private static partial void LogDownloaded(ILogger logger, string storeId, string version, int bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store {StoreId} refused model {Version}: {Message}")]
    private static partial void LogRefused(ILogger logger, string storeId, string version, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store {StoreId}: model {Version} {Outcome}; serving {Serving}")]
    private static partial void LogReported(ILogger logger, string storeId, string version, string outcome, string serving);
}
