using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Customers;
using Grpc.Core;
using Grpc.Net.Client;

namespace EdgeProfile.Bench.HubReads;

/// <summary>Fills a running hub the way edges do: enrollment over REST + gRPC, then profile deltas over the gRPC uplink.</summary>
internal static class Seeder
{
    public static async Task<Workload> SeedAsync(HubProcess hub, Settings s)
    {
        using var http = OperatorClient(hub);
        using var channel = GrpcChannel.ForAddress(hub.Address);
        var enrollment = new Enrollment.EnrollmentClient(channel);
        var uplink = new Contracts.V1.Uplink.UplinkClient(channel);

        var stores = Enumerable.Range(1, s.Stores).Select(i => $"bench-store-{i}").ToList();
        var credentials = new List<string>();
        byte[]? pseudonymKey = null;
        foreach (var store in stores)
        {
            using var created = await http.PostAsJsonAsync(new Uri("/api/enrollments", UriKind.Relative), new { storeId = store, kind = "store" });
            if (created.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"POST /api/enrollments for {store}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            }

            using var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
            var enrolled = await enrollment.EnrollAsync(new EnrollRequest { Token = body.RootElement.GetProperty("token").GetString(), StoreId = store, AgentVersion = "bench-hub-reads" });
            credentials.Add(enrolled.Credential);
            pseudonymKey = enrolled.PseudonymKey.ToByteArray();
        }

        var workload = Workload.Generate(s, stores, new Pseudonymizer(pseudonymKey!));
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(stores.Select((store, i) => UploadAsync(uplink, store, credentials[i], workload.Deltas[i], s.Batch)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  seeded over the gRPC uplink in {watch.Elapsed.TotalSeconds:F1} s ({workload.DeltaCount / watch.Elapsed.TotalSeconds:N0} deltas/s, batches of {s.Batch:N0}, {s.Stores} stores in parallel): {workload}"));
        return workload;
    }

    /// <summary>A REST client that carries the hub's operator token.</summary>
    public static HttpClient OperatorClient(HubProcess hub, HttpMessageHandler? handler = null)
    {
        var http = handler is null ? new HttpClient() : new HttpClient(handler);
        http.BaseAddress = hub.Address;
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", hub.OperatorToken);
        return http;
    }

    private static async Task UploadAsync(Contracts.V1.Uplink.UplinkClient uplink, string store, string credential, List<ProfileDelta> deltas, int batchSize)
    {
        var headers = new Metadata { { "x-ep-store", store }, { "authorization", "Bearer " + credential } };
        for (var i = 0; i < deltas.Count; i += batchSize)
        {
            var batch = new DeltaBatch();
            batch.Deltas.AddRange(deltas.Skip(i).Take(batchSize));
            var ack = await uplink.UploadAsync(batch, headers);
            if (ack.AckedThrough != batch.Deltas[^1].Sequence || ack.Applied != batch.Deltas.Count)
            {
                throw new InvalidOperationException($"{store}: uploaded through {batch.Deltas[^1].Sequence}, hub acked {ack.AckedThrough} (applied {ack.Applied} of {batch.Deltas.Count})");
            }
        }
    }
}
