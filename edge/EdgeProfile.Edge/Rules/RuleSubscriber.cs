using EdgeProfile.Edge.Uplink;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using V1 = EdgeProfile.Contracts.V1;

namespace EdgeProfile.Edge.Rules;

/// <summary>
/// Keeps the edge's tag rules in step with the hub: an enrolled edge watches <c>RuleRegistry/WatchRules</c> from the
/// version it applies and hands each published version to <see cref="RuleRuntime"/> the moment it arrives. When the
/// hub is down it retries with backoff (1 s doubling to 30 s); the applied rules keep serving meanwhile.
/// </summary>
public sealed partial class RuleSubscriber(EdgeIdentity identity, IOptions<EdgeOptions> options, RuleRuntime runtime, ILogger<RuleSubscriber> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (string.IsNullOrWhiteSpace(o.HubUrl) || identity.Credential is null)
        {
            return;
        }

        // Compile the rule engine's code now, in the background, not when the first published set arrives.
        _ = Task.Run(EdgeProfile.Knowledge.RuleWarmUp.Run, CancellationToken.None);

        using var hub = new HubClients(o.HubUrl);
        var headers = HubClients.StoreHeaders(o.StoreId, identity.Credential);
        var retry = new RetryDelay(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        var outage = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using var call = hub.Rules.WatchRules(new V1.WatchRulesRequest { KnownVersion = runtime.Version }, headers, cancellationToken: stoppingToken);
                await call.ResponseHeadersAsync.ConfigureAwait(false);
                retry.Reset();
                outage = false;
                while (await call.ResponseStream.MoveNext(stoppingToken).ConfigureAwait(false))
                {
                    var set = call.ResponseStream.Current;
                    runtime.Apply(set.Version, set.Text);
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
            catch (Exception ex)
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tag rules from {HubUrl} unavailable ({Error}); the applied rules keep serving and the edge retries")]
    private static partial void LogUnavailable(ILogger logger, string hubUrl, string error);
}
