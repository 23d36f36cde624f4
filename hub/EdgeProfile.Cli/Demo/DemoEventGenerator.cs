using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeProfile.Cli.Demo;

/// <summary>
/// A seeded simulation of a multi-channel retail flow that produces v1 JSON events (contracts.md §1): a customer
/// population with loyalty cards, app accounts, emails and phones; browsing, searching, liking and watching videos in
/// the app, on the web and through the CDN; visiting, buying, redeeming coupons and returning in physical stores;
/// plus a few device retries (duplicates) and deliberately malformed messages. Event times run forward through
/// <see cref="DemoGeneratorOptions.Span"/> up to <see cref="DemoGeneratorOptions.Now"/> and never past it.
/// The same options (seed and now included) always give the same messages, byte for byte.
/// </summary>
public sealed class DemoEventGenerator
{
    private static readonly string[] Payments = ["wechat", "alipay", "card", "cash", "wechat", "alipay"];
    private static readonly string[] Devices = ["ios", "android", "android", "harmonyos"];
    private static readonly string[] Campaigns = ["double11", "618", "member-day", "new-arrivals"];
    private static readonly string[] Coupons = ["WELCOME20", "BABY50", "DOUBLE11-30", "MEMBER15"];

    private readonly DemoGeneratorOptions _options;
    private readonly DemoCustomer[] _customers;
    private readonly double[] _cumulativeActivity;
    private readonly DemoSite[] _stores;
    private readonly DemoSite? _online;
    private readonly Dictionary<string, DemoProduct[]> _byDepartment;
    private readonly DateTimeOffset _now;
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);

    /// <summary>Creates the generator and its customer population.</summary>
    public DemoEventGenerator(DemoGeneratorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Customers, 1, nameof(options.Customers));
        ArgumentOutOfRangeException.ThrowIfNegative(options.Events, nameof(options.Events));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Span, TimeSpan.Zero, nameof(options.Span));
        if (options.LateRate is < 0 or > 1 || options.MalformedRate is < 0 or > 1 || options.DuplicateRate is < 0 or > 1 || options.MalformedRate + options.DuplicateRate > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "LateRate, MalformedRate and DuplicateRate must be within 0..1, the last two summing to at most 1");
        }

        if (options.Sites is null || options.Sites.Count == 0)
        {
            throw new ArgumentException("at least one site is required", nameof(options));
        }

        _options = options;
        _stores = options.Sites.Where(s => !s.IsOnline).ToArray();
        _online = options.Sites.FirstOrDefault(s => s.IsOnline);
        var now = options.Now ?? DateTimeOffset.UtcNow;
        _now = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
        _byDepartment = DemoCatalog.Products.GroupBy(p => p.Department, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);

        var rng = new Random(options.Seed);
        _customers = new DemoCustomer[options.Customers];
        _cumulativeActivity = new double[options.Customers];
        var total = 0.0;
        for (var i = 0; i < _customers.Length; i++)
        {
            _customers[i] = CreateCustomer(i, rng);
            total += _customers[i].Activity;
            _cumulativeActivity[i] = total;
        }
    }

    /// <summary>The simulated customers; their <see cref="DemoCustomer.Sites"/> etc. describe the last <see cref="Generate"/>.</summary>
    public IReadOnlyList<DemoCustomer> Customers => _customers;

    /// <summary>The sites events go to.</summary>
    public IReadOnlyList<DemoSite> Sites => _options.Sites;

    /// <summary>The newest event time the generator uses.</summary>
    public DateTimeOffset Now => _now;

    /// <summary>
    /// Produces <see cref="DemoGeneratorOptions.Events"/> messages in event-time order (per site, apart from the
    /// deliberate duplicates). Enumerate once at a time; each enumeration starts over and gives the same messages.
    /// </summary>
    public IEnumerable<DemoEvent> Generate()
    {
        var rng = new Random(unchecked((_options.Seed * 7919) + 17));
        foreach (var c in _customers)
        {
            c.ResetStats();
        }

        var recent = new Dictionary<string, List<DemoEvent>>(StringComparer.Ordinal);
        // A small discrete-event simulation: sessions start as a clock walks through the span and overlap in time;
        // their events come out in event-time order, as live devices would send them.
        var pending = new PriorityQueue<DemoEvent, (long Ticks, long Sequence)>();
        var held = new PriorityQueue<DemoEvent, int>(); // events a device sends late (offline for a while), by release position
        var session = new Queue<DemoEvent>();
        long sequence = 0;
        var start = _now - _options.Span;
        var latest = _now - TimeSpan.FromMinutes(20);
        var clock = start;
        var total = _options.Events;
        for (var produced = 0; produced < total; produced++)
        {
            if (held.TryPeek(out var late, out var due) && due <= produced)
            {
                held.Dequeue();
                yield return Delivered(late, recent, rng);
                continue;
            }

            var roll = rng.NextDouble();
            if (roll < _options.MalformedRate)
            {
                yield return Malformed(rng, _options.Sites[rng.Next(_options.Sites.Count)], clock);
                continue;
            }

            if (roll < _options.MalformedRate + _options.DuplicateRate)
            {
                var site = _options.Sites[rng.Next(_options.Sites.Count)];
                if (recent.TryGetValue(site.StoreId, out var seen) && seen.Count > 0)
                {
                    yield return seen[rng.Next(seen.Count)] with { Kind = DemoEventKind.Duplicate };
                    continue;
                }
            }

            var target = start + (_options.Span * (total <= 1 ? 1.0 : (double)produced / total));
            if (target > latest)
            {
                target = latest;
            }

            if (clock < target)
            {
                clock = target;
            }

            while (pending.Count == 0 || pending.Peek().OccurredAt > clock)
            {
                BuildSession(rng, session, clock);
                while (session.TryDequeue(out var next))
                {
                    pending.Enqueue(next, (next.OccurredAt.UtcTicks, sequence++));
                }

                // Sessions start a few seconds apart at least, so that concurrent ones interleave.
                var step = clock + TimeSpan.FromSeconds(rng.Next(1, 30));
                clock = step > latest ? latest : step;
            }

            var e = pending.Dequeue();
            if (rng.NextDouble() < _options.LateRate)
            {
                // A device that was offline delivers this one a few hundred messages later.
                held.Enqueue(e, produced + rng.Next(200, 800));
                produced--;
                continue;
            }

            yield return Delivered(e, recent, rng);
        }
    }

    private DemoEvent Delivered(DemoEvent e, Dictionary<string, List<DemoEvent>> recent, Random rng)
    {
        if (!recent.TryGetValue(e.StoreId, out var list))
        {
            recent[e.StoreId] = list = new List<DemoEvent>(64);
        }

        if (list.Count < 64)
        {
            list.Add(e);
        }
        else
        {
            list[rng.Next(64)] = e;
        }

        _customers[e.CustomerIndex].Record(e.StoreId, e.Channel, e.Spend);
        return e;
    }

    /// <summary>Formats an event time as the generator writes it (RFC 3339, UTC, milliseconds).</summary>
    public static string FormatTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private DemoCustomer CreateCustomer(int i, Random rng)
    {
        var c = new DemoCustomer(i);
        var hasLoyalty = rng.NextDouble() < 0.85;
        var hasApp = rng.NextDouble() < 0.55;
        if (!hasLoyalty && !hasApp)
        {
            hasLoyalty = true;
        }

        if (_stores.Length == 0)
        {
            hasApp = true;
        }

        c.LoyaltyId = hasLoyalty ? string.Create(CultureInfo.InvariantCulture, $"L-{100000 + i}") : null;
        c.AppUserId = hasApp ? string.Create(CultureInfo.InvariantCulture, $"u-{10000 + i}") : null;
        c.AppLinkedToLoyalty = hasLoyalty && hasApp && rng.NextDouble() < 0.7;
        c.Email = rng.NextDouble() < (hasApp ? 0.5 : 0.15) ? string.Create(CultureInfo.InvariantCulture, $"customer{i:00000}@mail.example.cn") : null;
        c.Phone = rng.NextDouble() < 0.5 ? string.Create(CultureInfo.InvariantCulture, $"+86138{rng.Next(0, 100_000_000):00000000}") : null;
        c.CardToken = "tok_" + Convert.ToHexStringLower(RandomBytes(rng, 6));
        if (_stores.Length > 0)
        {
            var home = rng.Next(_stores.Length);
            c.HomeStore = _stores[home].StoreId;
            if (_stores.Length > 1 && rng.NextDouble() < 0.35)
            {
                c.SecondStore = _stores[(home + 1 + rng.Next(_stores.Length - 1)) % _stores.Length].StoreId;
            }
        }

        var first = DemoCatalog.Departments[rng.Next(DemoCatalog.Departments.Count)];
        c.Interests = rng.NextDouble() < 0.5
            ? [first]
            : [first, DemoCatalog.Departments[rng.Next(DemoCatalog.Departments.Count)]];

        // Log-normal activity: a few very active customers, a long tail of occasional ones.
        c.Activity = Math.Exp(Normal(rng) * 0.9);
        return c;
    }

    private DemoCustomer PickCustomer(Random rng)
    {
        var x = rng.NextDouble() * _cumulativeActivity[^1];
        var i = Array.BinarySearch(_cumulativeActivity, x);
        return _customers[Math.Min(i < 0 ? ~i : i, _customers.Length - 1)];
    }

    private void BuildSession(Random rng, Queue<DemoEvent> into, DateTimeOffset at)
    {
        var c = PickCustomer(rng);
        var canGoOnline = _online is not null && (c.AppUserId is not null || c.Email is not null);
        var online = canGoOnline && (_stores.Length == 0 || rng.NextDouble() < (c.AppUserId is not null ? 0.5 : 0.2));
        if (online)
        {
            OnlineSession(rng, c, _online!, into, at);
        }
        else if (_stores.Length > 0)
        {
            StoreSession(rng, c, into, at);
        }
    }

    private void OnlineSession(Random rng, DemoCustomer c, DemoSite site, Queue<DemoEvent> into, DateTimeOffset at)
    {
        var useApp = c.AppUserId is not null && rng.NextDouble() < 0.65;
        var channel = useApp ? "app" : "web";
        var ids = new Ids(
            Loyalty: c.AppLinkedToLoyalty ? c.LoyaltyId : null,
            App: c.AppUserId,
            Email: c.AppUserId is null || (!useApp && rng.NextDouble() < 0.3) ? c.Email : null,
            Phone: null,
            Card: null);
        var device = useApp ? Devices[rng.Next(Devices.Length)] : "browser";
        var campaign = rng.NextDouble() < 0.2 ? Campaigns[rng.Next(Campaigns.Length)] : null;
        var t = at;
        if (useApp)
        {
            Add(into, Emit(rng, site, c, "app_open", channel, t, ids, null, null, null, null, Attrs(("device", device), ("campaign", campaign))));
        }

        var cart = new List<DemoProduct>();
        var actions = 1 + Geometric(rng, 0.3);
        for (var i = 0; i < actions; i++)
        {
            t += TimeSpan.FromSeconds(rng.Next(8, 150));
            var product = PickProduct(rng, c);
            var roll = rng.NextDouble();
            if (roll < 0.45)
            {
                Add(into, Emit(rng, site, c, "view", channel, t, ids, product, null, null, null, Attrs(("device", device), ("campaign", campaign))));
            }
            else if (roll < 0.60)
            {
                var terms = DemoCatalog.SearchTerms[product.Department];
                Add(into, Emit(rng, site, c, "search", channel, t, ids, null, null, null, terms[rng.Next(terms.Length)], Attrs(("device", device))));
            }
            else if (roll < 0.72)
            {
                var videos = DemoCatalog.Videos[product.Department];
                var watched = rng.Next(5, 180).ToString(CultureInfo.InvariantCulture);
                Add(into, Emit(rng, site, c, "video_watch", "cdn", t, ids, null, null, null, videos[rng.Next(videos.Length)],
                    Attrs(("watchedSeconds", watched), ("department", product.Department), ("device", device))));
            }
            else if (roll < 0.82)
            {
                Add(into, Emit(rng, site, c, "like", "cdn", t, ids, product, null, null, null, Attrs(("device", device))));
            }
            else
            {
                cart.Add(product);
                Add(into, Emit(rng, site, c, "add_to_cart", channel, t, ids, product, 1, null, null, Attrs(("device", device), ("campaign", campaign))));
            }
        }

        if (cart.Count > 0 && rng.NextDouble() < 0.4)
        {
            var order = "W" + Convert.ToHexString(RandomBytes(rng, 5));
            foreach (var p in cart)
            {
                t += TimeSpan.FromSeconds(rng.Next(2, 20));
                var buyer = ids with { Email = c.Email ?? ids.Email };
                Add(into, Emit(rng, site, c, "purchase", channel, t, buyer, p, 1, p.Price, null,
                    Attrs(("orderId", order), ("payment", rng.NextDouble() < 0.5 ? "wechat" : "alipay"), ("campaign", campaign))));
            }
        }
    }

    private void StoreSession(Random rng, DemoCustomer c, Queue<DemoEvent> into, DateTimeOffset at)
    {
        var roll = rng.NextDouble();
        var storeId = c.SecondStore is not null && roll < 0.25 ? c.SecondStore
            : roll > 0.96 ? _stores[rng.Next(_stores.Length)].StoreId
            : c.HomeStore;
        var site = _stores.First(s => s.StoreId == storeId);
        var known = new Ids(c.LoyaltyId, null, null, c.LoyaltyId is null ? c.Phone : null, c.LoyaltyId is null && c.Phone is null ? c.CardToken : null);
        var t = at;
        Add(into, Emit(rng, site, c, "visit", "kiosk", t, known, null, null, null, null, Attrs(("entrance", rng.NextDouble() < 0.7 ? "main" : "parking"))));

        // Returns go back to the store that sold the item.
        if (c.LastPurchase is { } bought && c.LastPurchaseStore == site.StoreId && rng.NextDouble() < 0.15)
        {
            t += TimeSpan.FromMinutes(rng.Next(2, 10));
            Add(into, Emit(rng, site, c, "return", "pos", t, known with { Card = c.CardToken }, bought, 1, bought.Price, null,
                Attrs(("reason", rng.NextDouble() < 0.5 ? "wrong size" : "not as described"))));
            c.LastPurchase = null;
            return;
        }

        if (rng.NextDouble() < 0.35)
        {
            var browse = 1 + Geometric(rng, 0.5);
            for (var i = 0; i < browse; i++)
            {
                t += TimeSpan.FromSeconds(rng.Next(20, 240));
                var product = PickProduct(rng, c);
                if (rng.NextDouble() < 0.7)
                {
                    Add(into, Emit(rng, site, c, "view", "kiosk", t, known, product, null, null, null, Attrs(("screen", "aisle-" + rng.Next(1, 9).ToString(CultureInfo.InvariantCulture)))));
                }
                else
                {
                    var terms = DemoCatalog.SearchTerms[product.Department];
                    Add(into, Emit(rng, site, c, "search", "kiosk", t, known, null, null, null, terms[rng.Next(terms.Length)], null));
                }
            }
        }

        if (rng.NextDouble() >= 0.8)
        {
            return; // just looked around
        }

        t += TimeSpan.FromMinutes(rng.Next(3, 25));
        var pay = Payments[rng.Next(Payments.Length)];
        var checkout = new Ids(c.LoyaltyId, null, null, rng.NextDouble() < 0.25 || c.LoyaltyId is null ? c.Phone : null, pay == "card" || (c.LoyaltyId is null && c.Phone is null) ? c.CardToken : null);
        if (c.LoyaltyId is not null && rng.NextDouble() < 0.7)
        {
            Add(into, Emit(rng, site, c, "loyalty_scan", "pos", t, checkout, null, null, null, null, Attrs(("lane", Lane(rng)))));
        }

        var lane = Lane(rng);
        var order = "S" + Convert.ToHexString(RandomBytes(rng, 5));
        var items = 1 + Geometric(rng, 0.45);
        for (var i = 0; i < items; i++)
        {
            t += TimeSpan.FromSeconds(rng.Next(3, 30));
            var p = PickProduct(rng, c);
            var qty = p.Department == "Grocery" ? rng.Next(1, 5) : 1;
            Add(into, Emit(rng, site, c, "purchase", "pos", t, checkout, p, qty, Math.Round(p.Price * qty, 2), null,
                Attrs(("orderId", order), ("payment", pay), ("lane", lane))));
            c.LastPurchase = p;
            c.LastPurchaseStore = site.StoreId;
        }

        if (rng.NextDouble() < 0.15)
        {
            t += TimeSpan.FromSeconds(rng.Next(3, 30));
            var coupon = Coupons[rng.Next(Coupons.Length)];
            Add(into, Emit(rng, site, c, "coupon_redeem", "pos", t, checkout, null, null, rng.Next(10, 51), null,
                Attrs(("coupon", coupon), ("orderId", order), ("lane", lane))));
        }
    }

    private static void Add(Queue<DemoEvent> into, DemoEvent e) => into.Enqueue(e);

    private DemoEvent Emit(
        Random rng, DemoSite site, DemoCustomer c, string type, string channel, DateTimeOffset t, Ids ids,
        DemoProduct? product, int? quantity, double? amount, string? text, List<(string Key, string Value)>? attributes)
    {
        if (t > _now)
        {
            t = _now; // never in the future: a long session that started close to now ends at now
        }

        var eventId = NewEventId(rng);
        _buffer.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(_buffer))
        {
            w.WriteStartObject();
            w.WriteString("eventId", eventId);
            w.WriteString("type", type);
            w.WriteString("occurredAt", FormatTime(t));
            w.WriteString("storeId", site.StoreId);
            w.WriteString("channel", channel);
            w.WriteStartObject("customer");
            WriteIfSet(w, "loyaltyId", ids.Loyalty);
            WriteIfSet(w, "appUserId", ids.App);
            WriteIfSet(w, "email", ids.Email);
            WriteIfSet(w, "phone", ids.Phone);
            WriteIfSet(w, "cardToken", ids.Card);
            w.WriteEndObject();
            if (product is not null)
            {
                w.WriteStartObject("product");
                w.WriteString("sku", product.Sku);
                w.WriteString("name", product.Name);
                w.WriteString("category", product.Category);
                w.WriteNumber("price", product.Price);
                w.WriteEndObject();
            }

            if (quantity is { } q)
            {
                w.WriteNumber("quantity", q);
            }

            if (amount is { } a)
            {
                w.WriteNumber("amount", a);
                w.WriteString("currency", "CNY");
            }

            WriteIfSet(w, "text", text);
            if (attributes is { Count: > 0 })
            {
                w.WriteStartObject("attributes");
                foreach (var (key, value) in attributes)
                {
                    w.WriteString(key, value);
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        var spend = type switch
        {
            "purchase" => amount ?? 0,
            "return" => -(amount ?? 0),
            _ => 0,
        };
        return new DemoEvent(site.StoreId, site.Topic, _buffer.WrittenSpan.ToArray(), DemoEventKind.Valid, eventId, type, t, c.Index, channel, spend);
    }

    private DemoEvent Malformed(Random rng, DemoSite site, DateTimeOffset t)
    {
        var eventId = NewEventId(rng);
        var when = FormatTime(t);
        var channel = site.Channels[0];
        var who = site.IsOnline ? """{"appUserId":"u-unknown"}""" : """{"loyaltyId":"L-000000"}""";
        var variant = rng.Next(8);
        var (type, json) = variant switch
        {
            0 => ("teleport", $$"""{"eventId":"{{eventId}}","type":"teleport","occurredAt":"{{when}}","storeId":"{{site.StoreId}}","channel":"{{channel}}","customer":{{who}}}"""),
            1 => ("visit", $$"""{"eventId":"{{eventId}}","type":"visit","occurredAt":"{{when}}","storeId":"{{site.StoreId}}","channel":"{{channel}}","customer":{{"{}"}}}"""),
            2 => ("visit", $$"""{"eventId":"{{eventId}}","type":"visit","occurredAt":"yesterday afternoon","storeId":"{{site.StoreId}}","channel":"{{channel}}","customer":{{who}}}"""),
            3 => ("purchase", $$"""{"eventId":"{{eventId}}","type":"purchase","occurredAt":"{{when}}","storeId":"{{site.StoreId}}","chan"""),
            4 => ("visit", $$"""{"eventId":"{{eventId}}","type":"visit","occurredAt":"{{when}}","storeId":"store-999","channel":"{{channel}}","customer":{{who}}}"""),
            5 => ("purchase", $$"""{"eventId":"{{eventId}}","type":"purchase","occurredAt":"{{when}}","storeId":"{{site.StoreId}}","channel":"{{channel}}","customer":{{who}},"product":{"sku":"SKU-GR-4001","name":"Whole Milk 1 L","category":"Grocery > Dairy","price":15.8},"quantity":1,"amount":-15.8,"currency":"CNY"}"""),
            6 => ("visit", $$"""{"eventId":"{{eventId}}","type":"visit","occurredAt":"{{FormatTime(_now + TimeSpan.FromHours(3))}}","storeId":"{{site.StoreId}}","channel":"{{channel}}","customer":{{who}}}"""),
            _ => ("purchase", $$"""{"eventId":"{{eventId}}","type":"purchase","occurredAt":"{{when}}","storeId":"{{site.StoreId}}","channel":"{{channel}}","customer":{{who}},"amount":99.0,"currency":"CNY"}"""),
        };
        return new DemoEvent(site.StoreId, site.Topic, Encoding.UTF8.GetBytes(json), DemoEventKind.Malformed, variant == 3 ? null : eventId, type, t, -1, channel, 0);
    }

    private DemoProduct PickProduct(Random rng, DemoCustomer c)
    {
        var department = rng.NextDouble() < 0.8
            ? c.Interests[rng.Next(c.Interests.Count)]
            : DemoCatalog.Departments[rng.Next(DemoCatalog.Departments.Count)];
        var products = _byDepartment[department];
        return products[rng.Next(products.Length)];
    }

    private static string NewEventId(Random rng)
    {
        Span<byte> bytes = stackalloc byte[16];
        rng.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40); // version 4 layout, so ids look like any device's UUIDs
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes).ToString("D");
    }

    private static byte[] RandomBytes(Random rng, int count)
    {
        var bytes = new byte[count];
        rng.NextBytes(bytes);
        return bytes;
    }

    private static string Lane(Random rng) => rng.Next(1, 7).ToString(CultureInfo.InvariantCulture);

    private static int Geometric(Random rng, double stop)
    {
        var n = 0;
        while (n < 12 && rng.NextDouble() >= stop)
        {
            n++;
        }

        return n;
    }

    private static double Normal(Random rng)
    {
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static List<(string Key, string Value)>? Attrs(params (string Key, string? Value)[] pairs)
    {
        List<(string, string)>? list = null;
        foreach (var (key, value) in pairs)
        {
            if (value is not null)
            {
                (list ??= new List<(string, string)>(pairs.Length)).Add((key, value));
            }
        }

        return list;
    }

    private static void WriteIfSet(Utf8JsonWriter w, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            w.WriteString(name, value);
        }
    }

    private readonly record struct Ids(string? Loyalty, string? App, string? Email, string? Phone, string? Card);
}
