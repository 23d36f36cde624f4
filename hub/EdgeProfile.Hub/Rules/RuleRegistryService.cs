using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Enrollment;
using Grpc.Core;
using Microsoft.Extensions.Hosting;

namespace EdgeProfile.Hub.Rules;

/// <summary>
/// <c>edgeprofile.v1.RuleRegistry</c>: the published tag rules for authenticated stores, as a stream of every version
/// (<see cref="StoreAuthInterceptor"/> authenticates the calls).
/// </summary>
internal sealed class RuleRegistryService(RuleRegistry registry, RuleDeliveries deliveries, IHostApplicationLifetime lifetime) : Contracts.V1.RuleRegistry.RuleRegistryBase
{
    public override async Task WatchRules(WatchRulesRequest request, IServerStreamWriter<PublishedRuleSet> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var storeId = StoreCallContext.StoreId(context);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        await context.WriteResponseHeadersAsync([]).ConfigureAwait(false);
        var known = request.KnownVersion;
        deliveries.Connected(storeId, known);
        try
        {
            while (true)
            {
                var snapshot = await registry.WaitForChangeAsync(known, cts.Token).ConfigureAwait(false);
                await responseStream.WriteAsync(new PublishedRuleSet
                {
                    Version = snapshot.Version,
                    Text = snapshot.Text,
                    PublishedAtUnixMs = snapshot.PublishedAtMs,
                    Action = snapshot.Action,
                }, cts.Token).ConfigureAwait(false);
                known = snapshot.Version;
                deliveries.Sent(storeId, known);
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // The store went away or the hub is stopping: end the stream normally.
        }
        finally
        {
            deliveries.Disconnected(storeId);
        }
    }
}

/// <summary>Loads the published rule set before the hub accepts calls.</summary>
internal sealed class RuleRegistryInitializer(RuleRegistry registry) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await registry.RefreshAsync(cancellationToken).ConfigureAwait(false);

        // Compile the rule engine's code in the background, so that the first publish does not wait for it.
        _ = Task.Run(EdgeProfile.Knowledge.RuleWarmUp.Run, CancellationToken.None);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
