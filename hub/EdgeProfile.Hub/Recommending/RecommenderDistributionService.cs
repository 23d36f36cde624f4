using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Enrollment;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Hosting;

namespace EdgeProfile.Hub.Recommending;

/// <summary>
/// <c>edgeprofile.v1.RecommenderDistribution</c>: the live recommender bundle for authenticated stores, in chunks, again
/// after every publish or rollback (<see cref="StoreAuthInterceptor"/> authenticates the calls).
/// </summary>
internal sealed class RecommenderDistributionService(RecommenderRegistry registry, IHostApplicationLifetime lifetime)
    : Contracts.V1.RecommenderDistribution.RecommenderDistributionBase
{
    /// <summary>Bytes per chunk (under gRPC's default 4 MB message limit).</summary>
    public const int ChunkBytes = 1 << 20;

    public override async Task Watch(WatchRecommenderRequest request, IServerStreamWriter<RecommenderChunk> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        _ = StoreCallContext.StoreId(context);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        await context.WriteResponseHeadersAsync([]).ConfigureAwait(false);
        var known = request.KnownSha256;
        try
        {
            while (true)
            {
                var snapshot = await registry.WaitForChangeAsync(known, cts.Token).ConfigureAwait(false);
                if (snapshot.Sha256.Length == 0)
                {
                    await responseStream.WriteAsync(new RecommenderChunk { None = true, Last = true }, cts.Token).ConfigureAwait(false);
                }
                else
                {
                    var content = snapshot.Content;
                    for (var offset = 0; offset < content.Length || offset == 0; offset += ChunkBytes)
                    {
                        var length = Math.Min(ChunkBytes, content.Length - offset);
                        await responseStream.WriteAsync(new RecommenderChunk
                        {
                            Version = snapshot.Version,
                            Sha256 = snapshot.Sha256,
                            TotalBytes = content.Length,
                            Offset = offset,
                            Data = ByteString.CopyFrom(content, offset, length),
                            Last = offset + length >= content.Length,
                        }, cts.Token).ConfigureAwait(false);
                        if (length <= 0)
                        {
                            break;
                        }
                    }
                }

                known = snapshot.Sha256;
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // The store went away or the hub is stopping: end the stream normally.
        }
    }
}

/// <summary>Loads the live recommender before the hub accepts calls.</summary>
internal sealed class RecommenderRegistryInitializer(RecommenderRegistry registry) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => registry.RefreshAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
