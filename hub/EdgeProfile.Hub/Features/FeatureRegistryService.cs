using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Enrollment;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Features;

/// <summary>
/// <c>edgeprofile.v1.FeatureRegistry</c>: the current feature set for authenticated stores, once or as a stream of
/// every committed revision. <see cref="StoreAuthInterceptor"/> authenticates the calls.
/// </summary>
internal sealed class FeatureRegistryService : Contracts.V1.FeatureRegistry.FeatureRegistryBase
{
    /// <summary>Response header of <c>WatchDefinitions</c> with the registry revision at the start of the stream.</summary>
    public const string RevisionHeader = "x-ep-revision";

    private readonly DefinitionRegistry _registry;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<FeatureRegistryService> _logger;

    public FeatureRegistryService(DefinitionRegistry registry, IHostApplicationLifetime lifetime, ILogger<FeatureRegistryService> logger)
    {
        _registry = registry;
        _lifetime = lifetime;
        _logger = logger;
    }

    public override Task<DefinitionSet> GetDefinitions(GetDefinitionsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _ = StoreCallContext.StoreId(context);
        return Task.FromResult(ToMessage(_registry.Current));
    }

    public override async Task WatchDefinitions(WatchDefinitionsRequest request, IServerStreamWriter<DefinitionSet> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var storeId = StoreCallContext.StoreId(context);

        // The stream ends when the store goes away or the hub stops; a stream left open would hold the hub's shutdown
        // for its whole timeout. The store reconnects with the revision it applied.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _lifetime.ApplicationStopping);
        var current = _registry.Current;
        await context.WriteResponseHeadersAsync(new Metadata { { RevisionHeader, current.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture) } })
            .ConfigureAwait(false);
        FeatureLog.WatchStarted(_logger, storeId, request.KnownRevision, current.Revision);
        if (request.KnownRevision > current.Revision)
        {
            FeatureLog.KnownAhead(_logger, storeId, request.KnownRevision, current.Revision);
        }

        var known = request.KnownRevision;
        try
        {
            while (true)
            {
                var snapshot = await _registry.WaitForChangeAsync(known, cts.Token).ConfigureAwait(false);
                await responseStream.WriteAsync(ToMessage(snapshot), cts.Token).ConfigureAwait(false);
                FeatureLog.Pushed(_logger, storeId, snapshot.Revision);
                known = snapshot.Revision;
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // The store went away or the hub is stopping: end the stream normally.
        }
    }

    private static DefinitionSet ToMessage(DefinitionSnapshot snapshot) =>
        new() { Revision = snapshot.Revision, FeatureSetJson = snapshot.Json };
}
