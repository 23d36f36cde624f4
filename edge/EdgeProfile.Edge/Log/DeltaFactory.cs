using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Profiles;
using Google.Protobuf;

namespace EdgeProfile.Edge.Log;

/// <summary>Turns a store profile into the pseudonymised delta that crosses the store boundary.</summary>
internal static class DeltaFactory
{
    public static byte[] Encode(StoreProfile profile, long nowUnixMs, IReadOnlyList<string>? featureTags = null)
    {
        var view = ProfileMath.View(profile, profile.LastSeen, withReasons: false);
        var delta = new ProfileDelta
        {
            CustomerKey = view.CustomerKey,
            UpdatedAtUnixMs = nowUnixMs,
            Visits7D = view.Visits7d,
            Visits30D = view.Visits30d,
            Spend7D = view.Spend7d,
            Spend30D = view.Spend30d,
            LastSeenUnixMs = view.LastSeen.ToUnixTimeMilliseconds(),
            LastCategory = view.LastCategory ?? "",
            LastChannel = view.LastChannel ?? "",
            EventsTotal = view.EventsTotal,
        };
        delta.Identifiers.AddRange(view.Identifiers);
        foreach (var search in profile.Searches)
        {
            delta.Searches.Add(new SearchNote { Text = search.Text, AtUnixMs = search.At.ToUnixTimeMilliseconds(), Channel = search.Channel });
        }

        foreach (var item in profile.Items)
        {
            delta.Items.Add(new ItemNote { Sku = item.Sku, Name = item.Name ?? "", Type = item.Type, AtUnixMs = item.At.ToUnixTimeMilliseconds() });
        }

        delta.Tags.AddRange(view.Tags.Select(t => t.Name));
        if (featureTags is not null)
        {
            delta.Tags.AddRange(featureTags);
        }

        return delta.ToByteArray();
    }
}
