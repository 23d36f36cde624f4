using System.Buffers;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Profiles;
using Google.Protobuf;

namespace EdgeProfile.Edge.Log;

/// <summary>
/// Turns a store profile into the pseudonymised delta that crosses the store boundary, encoded into one reused message
/// and buffer: the log writer encodes one per stored event, and building a fresh message (a note object per remembered
/// item, up to 50) and array each time was most of what a stored event allocated. The span a call returns is valid until the next call. Not thread-safe: one per writer.
/// </summary>
internal sealed class DeltaEncoder
{
    private readonly ProfileDelta _delta = new();
    private readonly List<ItemNote> _items = [];
    private readonly List<SearchNote> _searches = [];
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);

    public ReadOnlySpan<byte> Encode(StoreProfile profile, long nowUnixMs, IReadOnlyList<string>? featureTags = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var view = ProfileMath.View(profile, profile.LastSeen, withReasons: false);
        var d = _delta;
        d.CustomerKey = view.CustomerKey;
        d.UpdatedAtUnixMs = nowUnixMs;
        d.Visits7D = view.Visits7d;
        d.Visits30D = view.Visits30d;
        d.Spend7D = view.Spend7d;
        d.Spend30D = view.Spend30d;
        d.LastSeenUnixMs = view.LastSeen.ToUnixTimeMilliseconds();
        d.LastCategory = view.LastCategory ?? "";
        d.LastChannel = view.LastChannel ?? "";
        d.EventsTotal = view.EventsTotal;
        d.Identifiers.Clear();
        d.Identifiers.AddRange(view.Identifiers);
        d.Searches.Clear();
        for (var i = 0; i < profile.Searches.Count; i++)
        {
            var search = profile.Searches[i];
            var note = Reuse(_searches, i);
            note.Text = search.Text;
            note.AtUnixMs = search.At.ToUnixTimeMilliseconds();
            note.Channel = search.Channel;
            d.Searches.Add(note);
        }

        d.Items.Clear();
        for (var i = 0; i < profile.Items.Count; i++)
        {
            var item = profile.Items[i];
            var note = Reuse(_items, i);
            note.Sku = item.Sku;
            note.Name = item.Name ?? "";
            note.Type = item.Type;
            note.AtUnixMs = item.At.ToUnixTimeMilliseconds();
            d.Items.Add(note);
        }

        d.Tags.Clear();
        foreach (var tag in view.Tags)
        {
            d.Tags.Add(tag.Name);
        }

        if (featureTags is not null)
        {
            d.Tags.AddRange(featureTags);
        }

        _buffer.ResetWrittenCount();
        d.WriteTo(_buffer);
        return _buffer.WrittenSpan;
    }

    private static T Reuse<T>(List<T> pool, int i)
        where T : new()
    {
        if (i == pool.Count)
        {
            pool.Add(new T());
        }

        return pool[i];
    }
}
