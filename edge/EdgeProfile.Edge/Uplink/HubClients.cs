using Grpc.Core;
using Grpc.Net.Client;
using V1 = EdgeProfile.Contracts.V1;

namespace EdgeProfile.Edge.Uplink;

/// <summary>gRPC clients for the hub, carrying the store's credential on every call.</summary>
public sealed class HubClients : IDisposable
{
    private readonly GrpcChannel _channel;

    /// <summary>Opens a channel to <paramref name="hubUrl"/>.</summary>
    public HubClients(string hubUrl)
    {
        _channel = GrpcChannel.ForAddress(hubUrl, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = 16 * 1024 * 1024,
            MaxSendMessageSize = 16 * 1024 * 1024,
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                KeepAlivePingDelay = TimeSpan.FromSeconds(20),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                ConnectTimeout = TimeSpan.FromSeconds(5),
            },
        });
        Enrollment = new V1.Enrollment.EnrollmentClient(_channel);
        Uplink = new V1.Uplink.UplinkClient(_channel);
        Features = new V1.FeatureRegistry.FeatureRegistryClient(_channel);
        Downlink = new V1.Downlink.DownlinkClient(_channel);
        Models = new V1.ModelDistribution.ModelDistributionClient(_channel);
        Rules = new V1.RuleRegistry.RuleRegistryClient(_channel);
        Recommenders = new V1.RecommenderDistribution.RecommenderDistributionClient(_channel);
    }

    /// <summary>The operators' published tag rules.</summary>
    public V1.RuleRegistry.RuleRegistryClient Rules { get; }

    /// <summary>The hub's recommender bundles.</summary>
    public V1.RecommenderDistribution.RecommenderDistributionClient Recommenders { get; }

    /// <summary>Model assignments, downloads and status reports.</summary>
    public V1.ModelDistribution.ModelDistributionClient Models { get; }

    /// <summary>What the hub pushes down to this store.</summary>
    public V1.Downlink.DownlinkClient Downlink { get; }

    /// <summary>The enrollment service.</summary>
    public V1.Enrollment.EnrollmentClient Enrollment { get; }

    /// <summary>The uplink service.</summary>
    public V1.Uplink.UplinkClient Uplink { get; }

    /// <summary>The feature-definition registry.</summary>
    public V1.FeatureRegistry.FeatureRegistryClient Features { get; }

    /// <summary>The call metadata that authenticates a store.</summary>
    public static Metadata StoreHeaders(string storeId, string credential) => new()
    {
        { "x-ep-store", storeId },
        { "authorization", "Bearer " + credential },
    };

    /// <inheritdoc />
    public void Dispose() => _channel.Dispose();
}
