using EdgeProfile.Edge.Ingest;
using EdgeProfile.Edge.Log;
using EdgeProfile.Edge.Uplink;
using EdgeProfile.Federated.Participant;
using Grpc.Net.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Federation;

/// <summary>
/// Takes part in the hub's federated training jobs (<see cref="FederatedParticipant"/>) on this store's own log, once the
/// store is enrolled. Off with <c>Edge:Federation:Enabled=false</c>. Training runs on a background thread; ingest and
/// scoring go on meanwhile.
/// </summary>
public sealed class FederationService(
    EdgeIdentity identity,
    IOptions<EdgeOptions> options,
    EdgeDatabase db,
    EventDecoder decoder,
    TimeProvider clock,
    ILogger<FederatedParticipant> logger) : BackgroundService
{
    /// <summary>The participant while it runs (null before enrollment or when disabled).</summary>
    public FederatedParticipant? Participant { get; private set; }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (string.IsNullOrWhiteSpace(o.HubUrl) || identity.Credential is null || !o.Federation.Enabled)
        {
            return;
        }

        using var channel = GrpcChannel.ForAddress(o.HubUrl, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = 64 * 1024 * 1024,
            MaxSendMessageSize = 64 * 1024 * 1024,
            HttpHandler = new SocketsHttpHandler
            {
                KeepAlivePingDelay = TimeSpan.FromSeconds(20),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                ConnectTimeout = TimeSpan.FromSeconds(5),
            },
        });
        Participant = new FederatedParticipant(
            new Contracts.V1.Federation.FederationClient(channel),
            HubClients.StoreHeaders(o.StoreId, identity.Credential),
            new LogFederatedData(db, decoder, o.StoreId),
            logger,
            clock)
        {
            Threads = o.Federation.Threads,
        };
        await Participant.RunAsync(stoppingToken).ConfigureAwait(false);
    }
}
