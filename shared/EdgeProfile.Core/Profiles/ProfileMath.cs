using System.Globalization;
using EdgeProfile.Core.Events;

namespace EdgeProfile.Core.Profiles;

/// <summary>
/// First-cut profile maths: 7- and 30-day visits (active days) and spend, in event time, plus a few tags with
/// reasons. The feature-engine work replaces these formulas; callers only see <see cref="Apply"/> and <see cref="View"/>.
/// </summary>
public static class ProfileMath
{
    /// <summary>The longest window kept, in days.</summary>
    public const int WindowDays = 30;

    /// <summary>Spend over 30 days at or above which a customer is a high spender.</summary>
    public const double HighSpend30d = 1000;

    /// <summary>Active days in 7 at or above which a customer is a frequent visitor.</summary>
    public const int FrequentVisits7d = 3;

    /// <summary>Days since first seen within which a customer is new.</summary>
    public const int NewCustomerDays = 7;

    /// <summary>Days without activity after which a customer is lapsing.</summary>
    public const int LapsingDays = 21;

    /// <summary>Creates an empty profile for a customer first seen in <paramref name="e"/>.</summary>
    public static StoreProfile Create(string customerKey, CustomerEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new StoreProfile { CustomerKey = customerKey, FirstSeen = e.OccurredAt, LastSeen = e.OccurredAt };
    }

    /// <summary>Applies one event to the profile (in any order of event time) and adds new identifiers.</summary>
    public static void Apply(StoreProfile profile, CustomerEvent e, IReadOnlyList<string> identifiers)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(identifiers);

        // Indexed: a foreach over the interface would allocate an enumerator for every event the edge stores.
        for (var i = 0; i < identifiers.Count; i++)
        {
            var id = identifiers[i];
            if (!profile.Identifiers.Contains(id))
            {
                profile.Identifiers.Add(id);
            }
        }

        profile.EventsTotal++;
        profile.ChannelsMask |= 1 << (int)e.Channel;
        if (e.OccurredAt < profile.FirstSeen)
        {
            profile.FirstSeen = e.OccurredAt;
        }

        var isLatest = e.OccurredAt >= profile.LastSeen;
        if (isLatest)
        {
            profile.LastSeen = e.OccurredAt;
            profile.LastChannel = e.Channel.Name();
            // An equal text is left as it is: the profile is long-lived, and holding each event's own copy would keep
            // one string per event alive past the next collection.
            if (e.Product?.Category is { } cat && !string.Equals(profile.LastCategory, cat, StringComparison.Ordinal))
            {
                profile.LastCategory = cat;
            }
        }

        if (e.Type == EventType.Purchase && (profile.LastPurchaseAt is null || e.OccurredAt > profile.LastPurchaseAt))
        {
            profile.LastPurchaseAt = e.OccurredAt;
        }

        if (e.Type == EventType.AddToCart && (profile.LastCartAt is null || e.OccurredAt > profile.LastCartAt))
        {
            profile.LastCartAt = e.OccurredAt;
        }

        if (e.Type == EventType.Search && !string.IsNullOrWhiteSpace(e.Text))
        {
            NoteSearch(profile, e);
        }

        if (e.Product?.Sku is { Length: > 0 } && IsItemInteraction(e.Type))
        {
            NoteItem(profile, e);
        }

        var day = DayOf(e.OccurredAt);
        var oldest = DayOf(profile.LastSeen) - WindowDays + 1;
        // Loops rather than Find/FindIndex/RemoveAll with lambdas: this runs for every event on the log writer's
        // thread, and each lambda capturing a day was an allocation per event.
        var days = profile.Days;
        if (day >= oldest)
        {
            DayBucket? bucket = null;
            var at = days.Count;
            for (var i = 0; i < days.Count; i++)
            {
                if (days[i].Day == day)
                {
                    bucket = days[i];
                    break;
                }
            }

            if (bucket is null)
            {
                bucket = new DayBucket { Day = day };
                for (var i = 0; i < days.Count; i++)
                {
                    if (days[i].Day > day)
                    {
                        at = i;
                        break;
                    }
                }

                days.Insert(at, bucket);
            }

            bucket.Events++;
            var money = e.Amount ?? (e.Product?.Price ?? 0) * (e.Quantity ?? 1);
            if (e.Type == EventType.Purchase)
            {
                bucket.Purchases++;
                bucket.Spend += money;
            }
            else if (e.Type == EventType.Return)
            {
                bucket.Returns++;
                bucket.Spend -= money;
            }
        }

        var kept = 0;
        for (var i = 0; i < days.Count; i++)
        {
            if (days[i].Day >= oldest)
            {
                days[kept++] = days[i];
            }
        }

        if (kept < days.Count)
        {
            days.RemoveRange(kept, days.Count - kept);
        }
    }

    /// <summary>The event types that make a product part of the customer's behaviour sequence.</summary>
    public static bool IsItemInteraction(EventType type) =>
        type is EventType.View or EventType.AddToCart or EventType.Purchase or EventType.Review or EventType.Like;

    /// <summary>
    /// Inserts the event's product into the sequence in event-time order (late events land where they belong). A repeat
    /// of the item just before it (the same product viewed again, then carted) updates that entry instead of adding one:
    /// the sequence models read transitions between products. Only the newest <see cref="RecentItem.MaxKept"/> stay.
    /// </summary>
    private static void NoteItem(StoreProfile profile, CustomerEvent e)
    {
        var items = profile.Items;
        var product = e.Product!;
        var name = product.Name is { Length: > RecentItem.MaxNameLength } n ? Events.ValuePool.Shared.Intern(n.AsSpan(0, RecentItem.MaxNameLength)) : product.Name;
        var at = items.Count;
        while (at > 0 && items[at - 1].At > e.OccurredAt)
        {
            at--;
        }

        var type = e.Type.Name();
        if (at > 0 && string.Equals(items[at - 1].Sku, product.Sku, StringComparison.Ordinal))
        {
            // The stronger signal wins the type (a purchase after a view of the same product is a purchase).
            var previous = items[at - 1];
            previous.Set(previous.Sku, name ?? previous.Name, Stronger(previous.Type, type), e.OccurredAt);
            return;
        }

        // Entries to drop to make room; the event falls among them: it is older than everything kept.
        var drop = items.Count + 1 - RecentItem.MaxKept;
        if (drop > 0 && at < drop)
        {
            return;
        }

        // The profile is long-lived: when it is full, its oldest entry is updated in place and moved rather than a new
        // one made per event (a new object referenced from old state is what young collections have to scan).
        RecentItem item;
        if (drop > 0)
        {
            item = items[0].Set(product.Sku!, name, type, e.OccurredAt);
            items.RemoveRange(0, drop);
            at -= drop;
        }
        else
        {
            item = new RecentItem(product.Sku!, name, type, e.OccurredAt);
        }

        items.Insert(at, item);
    }

    private static string Stronger(string a, string b) => Strength(b) > Strength(a) ? b : a;

    private static int Strength(string type) => type switch
    {
        "purchase" => 4,
        "add_to_cart" => 3,
        "review" or "like" => 2,
        _ => 1,
    };

    /// <summary>Keeps the latest distinct searches (same text: the later one counts), newest first, in any arrival order.</summary>
    private static void NoteSearch(StoreProfile profile, CustomerEvent e)
    {
        var text = e.Text!.Trim();
        if (text.Length > RecentSearch.MaxLength)
        {
            text = text[..RecentSearch.MaxLength];
        }

        var same = profile.Searches.FindIndex(s => string.Equals(s.Text, text, StringComparison.OrdinalIgnoreCase));
        if (same >= 0)
        {
            if (profile.Searches[same].At >= e.OccurredAt)
            {
                return;
            }

            profile.Searches.RemoveAt(same);
        }

        profile.Searches.Add(new RecentSearch(text, e.OccurredAt, e.Channel.Name()));
        profile.Searches.Sort((a, b) => b.At.CompareTo(a.At));
        if (profile.Searches.Count > RecentSearch.MaxKept)
        {
            profile.Searches.RemoveRange(RecentSearch.MaxKept, profile.Searches.Count - RecentSearch.MaxKept);
        }
    }

    /// <summary>
    /// The features and tags of <paramref name="profile"/> as of <paramref name="asOf"/> (event time). Without
    /// <paramref name="withReasons"/> the tags carry empty reasons: the log writer's hot path needs only their names.
    /// </summary>
    public static ProfileView View(StoreProfile profile, DateTimeOffset asOf, bool withReasons = true)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var today = DayOf(asOf);
        int visits7 = 0, visits30 = 0, returns30 = 0;
        double spend7 = 0, spend30 = 0;
        foreach (var b in profile.Days)
        {
            var age = today - b.Day;
            if (age is < 0 or >= WindowDays)
            {
                continue;
            }

            visits30++;
            spend30 += b.Spend;
            returns30 += b.Returns;
            if (age < 7)
            {
                visits7++;
                spend7 += b.Spend;
            }
        }

        var channels = Enum.GetValues<Channel>().Where(c => (profile.ChannelsMask & (1 << (int)c)) != 0).Select(c => c.Name()).ToList();
        var tags = new List<ProfileTag>();
        if (spend30 >= HighSpend30d)
        {
            tags.Add(withReasons ? new ProfileTag("high_spender", $"spent {Money(spend30)} in the last 30 days (threshold {Money(HighSpend30d)})", $"近30天消费 {Money(spend30)}（阈值 {Money(HighSpend30d)}）") : new ProfileTag("high_spender", "", ""));
        }

        if (visits7 >= FrequentVisits7d)
        {
            tags.Add(withReasons ? new ProfileTag("frequent_visitor", $"active on {visits7} of the last 7 days (threshold {FrequentVisits7d})", $"近7天有 {visits7} 天活跃（阈值 {FrequentVisits7d}）") : new ProfileTag("frequent_visitor", "", ""));
        }

        if (channels.Count >= 2)
        {
            tags.Add(withReasons
                ? new ProfileTag("omnichannel", $"seen on {channels.Count} channels: {string.Join(", ", channels)}", $"在 {channels.Count} 个渠道出现：{string.Join("、", channels)}")
                : new ProfileTag("omnichannel", "", ""));
        }

        var sinceFirst = asOf - profile.FirstSeen;
        if (sinceFirst < TimeSpan.FromDays(NewCustomerDays))
        {
            tags.Add(withReasons ? new ProfileTag("new_customer", $"first seen {Days(sinceFirst)} ago (within {NewCustomerDays} days)", $"首次出现于 {Days(sinceFirst)} 前（{NewCustomerDays} 天内）") : new ProfileTag("new_customer", "", ""));
        }

        if (profile.LastCartAt is { } cart && (profile.LastPurchaseAt is null || profile.LastPurchaseAt < cart))
        {
            tags.Add(withReasons ? new ProfileTag("open_cart", $"added to cart {Days(asOf - cart)} ago with no purchase since", $"{Days(asOf - cart)} 前加购，之后未购买") : new ProfileTag("open_cart", "", ""));
        }

        var idle = asOf - profile.LastSeen;
        if (idle >= TimeSpan.FromDays(LapsingDays))
        {
            tags.Add(withReasons ? new ProfileTag("lapsing", $"no activity for {Days(idle)} (threshold {LapsingDays} days)", $"已 {Days(idle)} 未活跃（阈值 {LapsingDays} 天）") : new ProfileTag("lapsing", "", ""));
        }

        if (returns30 >= 2)
        {
            tags.Add(withReasons ? new ProfileTag("frequent_returner", $"{returns30} returns in the last 30 days", $"近30天退货 {returns30} 次") : new ProfileTag("frequent_returner", "", ""));
        }

        return new ProfileView(profile.CustomerKey, profile.Identifiers, asOf, visits7, visits30,
            Math.Round(spend7, 2), Math.Round(spend30, 2), profile.FirstSeen, profile.LastSeen,
            profile.LastCategory, profile.LastChannel, profile.EventsTotal, channels, tags);
    }

    /// <summary>Days since the Unix epoch of an instant, in UTC.</summary>
    public static int DayOf(DateTimeOffset t) => (int)(t.UtcTicks / TimeSpan.TicksPerDay - DateTimeOffset.UnixEpoch.UtcTicks / TimeSpan.TicksPerDay);

    private static string Money(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Days(TimeSpan t) => t.TotalDays >= 1
        ? $"{t.TotalDays.ToString("0", CultureInfo.InvariantCulture)}d"
        : $"{Math.Max(0, t.TotalHours).ToString("0", CultureInfo.InvariantCulture)}h";
}
