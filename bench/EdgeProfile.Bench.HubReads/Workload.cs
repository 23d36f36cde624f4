using System.Globalization;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Customers;

namespace EdgeProfile.Bench.HubReads;

/// <summary>
/// Customers as the stores would upload them, from the seed. Every customer has a home store that knows them by
/// loyalty id (primary key) and whichever of app user, email, phone, card and device they gave; a share of them also
/// shops at the next store, which knows them by app user (or email) and a device of its own, so the hub merges the
/// two stores' rows into one global profile. Email, phone and card keys are HMAC pseudonyms, as an edge sends them.
/// </summary>
internal sealed class Workload
{
    private static readonly string[] Categories = ["Baby & Toddler > Strollers", "Baby & Toddler > Formula", "Women > Dresses", "Men > Shoes", "Electronics > Phones", "Home > Kitchen", "Food > Snacks", "Beauty > Skin Care"];
    private static readonly string[] Channels = ["pos", "app", "web"];
    private static readonly string[] Searches = ["stroller", "organic formula", "summer dress", "running shoes", "usb-c charger", "chef knife", "protein bar", "sunscreen spf 50"];
    private static readonly string[] Tags = ["vip", "new_parent", "bargain_hunter", "lapsed"];

    private Workload(IReadOnlyList<string> stores, List<ProfileDelta>[] deltas, List<BenchCustomer> customers)
    {
        Stores = stores;
        Deltas = deltas;
        Customers = customers;
    }

    public IReadOnlyList<string> Stores { get; }

    /// <summary>Per store, in upload order, sequences 1..n.</summary>
    public IReadOnlyList<List<ProfileDelta>> Deltas { get; }

    public IReadOnlyList<BenchCustomer> Customers { get; }

    public int DeltaCount => Deltas.Sum(d => d.Count);

    public static Workload Generate(Settings s, IReadOnlyList<string> stores, Pseudonymizer pseudonyms)
    {
        var random = new Random(s.Seed);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var deltas = stores.Select(_ => new List<ProfileDelta>()).ToArray();
        var customers = new List<BenchCustomer>(s.Customers);
        for (var c = 0; c < s.Customers; c++)
        {
            var home = c % stores.Count;
            var keys = new List<string> { Key(CustomerKey.Loyalty, $"L-{c}") };
            var app = random.Next(100) < 60 ? Key(CustomerKey.App, $"A-{c}") : null;
            var email = random.Next(100) < 80 ? Key(CustomerKey.Email, pseudonyms.Hash(CustomerKey.Email, $"c{c}@example.com")) : null;
            var phone = random.Next(100) < 30 ? Key(CustomerKey.Phone, pseudonyms.Hash(CustomerKey.Phone, $"+3161{c:D7}")) : null;
            var card = random.Next(100) < 25 ? Key(CustomerKey.Card, pseudonyms.Hash(CustomerKey.Card, $"tok_{c}")) : null;
            var device = random.Next(100) < 50 ? Key(CustomerKey.Device, $"D-{c}-1") : null;
            keys.AddRange(new[] { app, email, phone, card, device }.OfType<string>());
            deltas[home].Add(Delta(random, now, deltas[home].Count + 1, keys[0], keys));

            // The second store knows the customer by a key the home store also sent, so the hub links the two.
            string? secondKey = null;
            var link = app ?? email;
            if (link is not null && random.Next(100) < s.SharedPercent)
            {
                var second = (home + 1) % stores.Count;
                secondKey = Key(CustomerKey.Device, $"D-{c}-2");
                deltas[second].Add(Delta(random, now, deltas[second].Count + 1, link, [link, secondKey]));
                keys.Add(secondKey);
            }

            customers.Add(new BenchCustomer(c, keys, secondKey is not null));
        }

        return new Workload(stores, deltas, customers);
    }

    private static string Key(string kind, string value) => new CustomerKey(kind, value).ToString();

    private static ProfileDelta Delta(Random random, long now, int sequence, string customerKey, List<string> identifiers)
    {
        var visits7 = random.Next(0, 4);
        var visits30 = visits7 + random.Next(1, 9);
        var spend7 = Math.Round(visits7 * random.NextDouble() * 80, 2);
        var lastSeen = now - random.NextInt64(TimeSpan.FromDays(30).Ticks / TimeSpan.TicksPerMillisecond);
        var delta = new ProfileDelta
        {
            Sequence = sequence,
            CustomerKey = customerKey,
            UpdatedAtUnixMs = now,
            Visits7D = visits7,
            Visits30D = visits30,
            Spend7D = spend7,
            Spend30D = Math.Round(spend7 + (random.NextDouble() * 400), 2),
            LastSeenUnixMs = lastSeen,
            LastCategory = Categories[random.Next(Categories.Length)],
            LastChannel = Channels[random.Next(Channels.Length)],
            EventsTotal = visits30 * random.Next(1, 12),
        };
        delta.Identifiers.AddRange(identifiers);
        if (random.Next(100) < 30)
        {
            delta.Tags.Add(Tags[random.Next(Tags.Length)]);
        }

        var searches = random.Next(100) < 40 ? random.Next(1, 4) : 0;
        for (var i = 0; i < searches; i++)
        {
            delta.Searches.Add(new SearchNote
            {
                Text = Searches[random.Next(Searches.Length)],
                AtUnixMs = lastSeen - (i * 3_600_000L),
                Channel = Channels[random.Next(Channels.Length)],
            });
        }

        return delta;
    }

    public override string ToString()
    {
        var kinds = Customers.SelectMany(c => c.Keys).GroupBy(k => k[..k.IndexOf(':', StringComparison.Ordinal)], StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key} {g.Count():N0}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"{Customers.Count:N0} customers, {DeltaCount:N0} deltas ({string.Join(", ", Stores.Select((s, i) => $"{s} {Deltas[i].Count:N0}"))}), {Customers.Count(c => c.Shared):N0} at two stores; keys: {string.Join(", ", kinds)}");
    }
}

/// <summary>One customer: every key any store uploaded for them (canonical), and whether two stores know them.</summary>
internal sealed record BenchCustomer(int Id, IReadOnlyList<string> Keys, bool Shared);
