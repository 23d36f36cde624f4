using System.Globalization;
using System.Net;
using System.Text.Json;

namespace EdgeProfile.Bench.HubReads;

/// <summary>
/// The read URLs: every key of every customer (loyalty, app, email, phone, card, the home and second store's devices)
/// and the <c>ep:</c> ids of a sample of profiles, fetched once by loyalty key. The sample also checks that customers
/// seen at two stores came out as one profile with both stores.
/// </summary>
internal sealed record KeyPool(Uri[] Keys, Uri[] Profiles, int Merged, int SharedSampled, double SampleBytes)
{
    /// <summary>Share of reads by <c>ep:</c> profile id, in percent; the rest pick uniformly from <see cref="Keys"/>.</summary>
    public const int ProfilePercent = 10;

    public static async Task<KeyPool> BuildAsync(HubProcess hub, Workload workload, Settings s)
    {
        Uri Url(string key) => new(hub.Address, "/api/profiles/" + Uri.EscapeDataString(key));

        var keys = workload.Customers.SelectMany(c => c.Keys).Select(Url).ToArray();
        var step = Math.Max(1, workload.Customers.Count / Math.Max(1, s.EpSample));
        var sample = workload.Customers.Where((_, i) => i % step == 0).Take(s.EpSample).ToList();

        using var http = Seeder.OperatorClient(hub);
        var profiles = new Uri[sample.Count];
        var merged = 0;
        long bytes = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, sample.Count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var customer = sample[i];
            using var response = await http.GetAsync(Url(customer.Keys[0]), ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"GET profile of {customer.Keys[0]}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
            }

            using var json = JsonDocument.Parse(body);
            profiles[i] = Url(json.RootElement.GetProperty("profileId").GetString()!);
            var stores = json.RootElement.GetProperty("stores").EnumerateArray().Select(e => e.GetProperty("storeId").GetString()).Distinct().Count();
            var identifiers = json.RootElement.GetProperty("identifiers").GetArrayLength();
            if (customer.Shared && stores == 2 && identifiers == customer.Keys.Count)
            {
                Interlocked.Increment(ref merged);
            }

            Interlocked.Add(ref bytes, body.Length);
        });

        var pool = new KeyPool(keys, profiles, merged, sample.Count(c => c.Shared), (double)bytes / Math.Max(1, sample.Count));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  read pool: {keys.Length:N0} customer keys + {profiles.Length:N0} ep: ids ({ProfilePercent}% of reads); merge check: {pool.Merged:N0} of {pool.SharedSampled:N0} sampled two-store customers are one profile with both stores and all their keys; mean body {pool.SampleBytes:N0} B"));
        return pool;
    }

    public Uri Pick(Random random) =>
        Profiles.Length > 0 && random.Next(100) < ProfilePercent ? Profiles[random.Next(Profiles.Length)] : Keys[random.Next(Keys.Length)];
}
