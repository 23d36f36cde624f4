using System.Security.Cryptography;
using EdgeProfile.Edge.Uplink;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using V1 = EdgeProfile.Contracts.V1;

namespace EdgeProfile.Edge.Recommending;

/// <summary>
/// Follows the hub's published recommender (<c>RecommenderDistribution/Watch</c>): assembles a bundle's chunks, checks
/// its size and SHA-256, and hands it to <see cref="RecommenderHost"/>, which swaps it in once it loads. When the hub is
/// unreachable it retries with backoff (1 s doubling to 30 s); the serving recommender keeps serving.
/// </summary>
public sealed partial class RecommenderSubscriber(EdgeIdentity identity, IOptions<EdgeOptions> options, RecommenderHost host, ILogger<RecommenderSubscriber> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (string.IsNullOrWhiteSpace(o.HubUrl) || identity.Credential is null || !o.Recommendations.FromHub)
        {
            return;
        }

        using var hub = new HubClients(o.HubUrl);
        var headers = HubClients.StoreHeaders(o.StoreId, identity.Credential);
        var retry = new RetryDelay(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        var outage = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var known = host.Current is { Source: "hub" } served ? served.Sha256 : "";
                using var call = hub.Recommenders.Watch(new V1.WatchRecommenderRequest { KnownSha256 = known }, headers, cancellationToken: stoppingToken);
                await call.ResponseHeadersAsync.ConfigureAwait(false);
                retry.Reset();
                outage = false;
                MemoryStream? buffer = null;
                while (await call.ResponseStream.MoveNext(stoppingToken).ConfigureAwait(false))
                {
                    var chunk = call.ResponseStream.Current;
                    if (chunk.None)
                    {
                        if (host.Current is { Source: "hub" })
                        {
                            host.Clear();
                        }

                        continue;
                    }

                    if (chunk.Offset == 0)
                    {
                        buffer?.Dispose();
                        if (chunk.TotalBytes is < 0 or > Models.Recommending.RecommenderBundle.MaxBytes)
                        {
                            LogRefused(logger, chunk.Version, $"{chunk.TotalBytes} bytes announced");
                            buffer = null;
                            continue;
                        }

                        buffer = new MemoryStream((int)chunk.TotalBytes);
                    }

                    if (buffer is null || buffer.Length != chunk.Offset)
                    {
                        continue; // a chunk out of order: wait for the next bundle's first chunk
                    }

                    chunk.Data.WriteTo(buffer);
                    if (!chunk.Last)
                    {
                        continue;
                    }

                    var content = buffer.ToArray();
                    buffer.Dispose();
                    buffer = null;
                    var sha = Convert.ToHexStringLower(SHA256.HashData(content));
                    if (content.LongLength != chunk.TotalBytes || sha != chunk.Sha256)
                    {
                        LogRefused(logger, chunk.Version, $"received {content.Length} bytes with sha256 {sha[..12]}…, announced {chunk.TotalBytes} bytes, {chunk.Sha256[..Math.Min(12, chunk.Sha256.Length)]}…");
                        continue;
                    }

                    if (host.Deploy(content, "hub") is { } error)
                    {
                        LogRefused(logger, chunk.Version, error);
                    }
                }

                buffer?.Dispose();
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recommender {Version} from the hub refused: {Error}; the serving one keeps serving")]
    private static partial void LogRefused(ILogger logger, string version, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recommenders from {HubUrl} unavailable ({Error}); the serving one keeps serving and the edge retries")]
    private static partial void LogUnavailable(ILogger logger, string hubUrl, string error);
}
