using System.Collections.Concurrent;
using System.Text.Json;
using EdgeProfile.Hub.Api;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Hub.Profiles;

/// <summary>
/// The serialized answers of <c>GET /api/profiles/{key}</c>, once per profile, and which profile each asked key
/// resolved to, so a hot read costs two dictionary lookups instead of three queries and a serialization. Every write
/// that changes a profile bumps that profile's version after it commits; identity changes that move keys between
/// profiles (merges, unmerges, erasures) bump a global epoch. An answer is cached only when no write committed while it
/// was read, and served only while its profile's version and the epoch are unchanged, so a read racing a write can at
/// most miss, never serve stale data. Bounded by <c>Hub:ProfileCacheEntries</c> profiles (0 turns it off).
/// </summary>
internal sealed class ProfileCache(IOptions<HubOptions> options)
{
    private readonly ConcurrentDictionary<string, KeyEntry> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ProfileEntry> _profiles = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _versions = new(StringComparer.Ordinal);
    private readonly int _capacity = options.Value.ProfileCacheEntries;
    private long _epoch;
    private long _writes;

    /// <summary>What a reader notes before it reads, to store its answer with.</summary>
    public readonly record struct Stamp(long Epoch, long Writes);

    /// <summary>Served from the cache, or null.</summary>
    public byte[]? Find(string key)
    {
        if (_capacity == 0 || !_keys.TryGetValue(key, out var k))
        {
            return null;
        }

        var epoch = Volatile.Read(ref _epoch);
        return k.Epoch == epoch && _profiles.TryGetValue(k.ProfileId, out var p) && p.Epoch == epoch
            && p.Version == _versions.GetValueOrDefault(k.ProfileId) ? p.Json : null;
    }

    /// <summary>Taken before the database read.</summary>
    public Stamp Begin() => new(Volatile.Read(ref _epoch), Volatile.Read(ref _writes));

    /// <summary>The answer for <paramref name="key"/>, serialized once for the response and (when nothing was written meanwhile) the cache.</summary>
    public byte[] Store(string key, GlobalProfile profile, Stamp stamp)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var json = JsonSerializer.SerializeToUtf8Bytes(profile, JsonSerializerOptions.Web);
        var profileId = profile.ProfileId[3..];

        // The version first, then the write counter: Changed raises them in the other order, so a change that lands
        // in between either fails the check below or leaves this entry with the old version (a miss, never stale).
        var version = _versions.GetValueOrDefault(profileId);
        if (_capacity == 0 || Volatile.Read(ref _writes) != stamp.Writes || Volatile.Read(ref _epoch) != stamp.Epoch)
        {
            return json;
        }

        if (_profiles.Count >= _capacity)
        {
            // Simple and bounded: start over (hot profiles come back within a read each).
            _profiles.Clear();
            _keys.Clear();
        }

        _profiles[profileId] = new ProfileEntry(stamp.Epoch, version, json);
        _keys[key] = new KeyEntry(profileId, stamp.Epoch);
        return json;
    }

    /// <summary>After a commit that changed <paramref name="profileIds"/>.</summary>
    public void Changed(IEnumerable<string> profileIds)
    {
        ArgumentNullException.ThrowIfNull(profileIds);

        // The counter first (see Store).
        Interlocked.Increment(ref _writes);
        foreach (var id in profileIds)
        {
            _versions.AddOrUpdate(id, 1, (_, v) => v + 1);
        }
    }

    /// <summary>After a commit that moved identifiers between profiles or removed some.</summary>
    public void IdentitiesChanged()
    {
        Interlocked.Increment(ref _epoch);
        Interlocked.Increment(ref _writes);
    }

    /// <summary>After a change that alters every answer without touching a profile (a new tag rule set: the tags' reasons).</summary>
    public void Invalidate() => IdentitiesChanged();

    private sealed record KeyEntry(string ProfileId, long Epoch);

    private sealed record ProfileEntry(long Epoch, long Version, byte[] Json);
}
