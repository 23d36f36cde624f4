using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Federated.Participant;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>An in-process federated partner for tests: enrolled over gRPC, running the product's participant on its own rows.</summary>
public sealed class FederatedPartner : IAsyncDisposable, IFederatedDataSource
{
    private readonly CancellationTokenSource _stop = new();
    private readonly GrpcChannel _channel;
    private Task _run = Task.CompletedTask;

    private FederatedPartner(string id, List<IReadOnlyList<FeatureInput>> histories, GrpcChannel channel)
    {
        Id = id;
        Histories = histories;
        _channel = channel;
    }

    public string Id { get; }

    /// <summary>A participant's customers: seeded purchase histories over a year, some regulars and some lapsing.</summary>
    public static List<IReadOnlyList<FeatureInput>> SampleHistories(int seed)
    {
        var random = new Random(seed);
        var start = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var customers = new List<IReadOnlyList<FeatureInput>>();
        for (var c = 0; c < 80; c++)
        {
            var gap = 3 + (random.NextDouble() * 60);
            var stop = random.NextDouble() < 0.4 ? random.Next(100, 360) : 365;
            var events = new List<FeatureInput>();
            for (var day = random.NextDouble() * 20; day < stop; day += gap * (0.5 + random.NextDouble()))
            {
                events.Add(new FeatureInput
                {
                    EventId = $"{seed}-{c}-{events.Count}",
                    TimestampMs = start.AddDays(day).ToUnixTimeMilliseconds(),
                    Type = EventType.Purchase,
                    Amount = Math.Round(5 + (random.NextDouble() * 120), 2),
                    Sku = "SKU-" + random.Next(40),
                });
            }
            customers.Add(events);
        }
        return customers;
    }

    public List<IReadOnlyList<FeatureInput>> Histories { get; }

    public FederatedParticipant Runner { get; private set; } = null!;

    /// <summary>When set, the participant stops (as if its process died) on the first log line it matches.</summary>
    public Func<string, bool>? StopOn { get; set; }

    public static async Task<FederatedPartner> StartAsync(HubHost hub, string id, List<IReadOnlyList<FeatureInput>> histories, ITestOutputHelper output)
    {
        var token = await hub.CreateEnrollmentTokenAsync(id, "partner");
        var channel = GrpcChannel.ForAddress(hub.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20, MaxSendMessageSize = 64 << 20 });
        var enrolled = await new Enrollment.EnrollmentClient(channel).EnrollAsync(new EnrollRequest { Token = token, StoreId = id });
        var participant = new FederatedPartner(id, histories, channel);
        var headers = new Metadata { { "x-ep-store", id }, { "authorization", "Bearer " + enrolled.Credential } };
        participant.Runner = new FederatedParticipant(new EdgeProfile.Contracts.V1.Federation.FederationClient(channel), headers, participant,
            new LineLogger(output, id, line =>
            {
                if (participant.StopOn?.Invoke(line) == true)
                {
                    participant._stop.Cancel();
                }
            }), TimeProvider.System)
        { Threads = 1 };
        participant._run = Task.Run(() => participant.Runner.RunAsync(participant._stop.Token));
        return participant;
    }

    public Task<FederatedData> LoadAsync(FederatedJobSpec job, FeatureSet definitions, CancellationToken cancellationToken) =>
        Task.FromResult(FederatedRows.Build(job, definitions, Histories, Id));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run;
        }
        catch (OperationCanceledException)
        {
        }
        _channel.Dispose();
        _stop.Dispose();
    }
}

/// <summary>Writes a participant's log to the test output and hands every line to a callback.</summary>
internal sealed class LineLogger(ITestOutputHelper output, string source, Action<string> onLine) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var line = formatter(state, exception);
        try
        {
            output.WriteLine($"{source}: {line}");
        }
        catch (InvalidOperationException)
        {
            // The test has ended.
        }
        onLine(line);
    }
}

