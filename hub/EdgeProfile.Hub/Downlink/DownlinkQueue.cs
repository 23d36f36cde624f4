using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Customers;
using EdgeProfile.Hub.Profiles;
using EdgeProfile.Hub.Storage;
using Google.Protobuf;
using System.Data;
using System.Data.Common;

namespace EdgeProfile.Hub.Downlink;

/// <summary>
/// What the hub pushes down to each store, numbered per store (<c>downlink</c> table). When an upload changes a customer
/// that more than one store knows, each of those stores gets the customer's <see cref="GlobalSummary"/>; a newer summary
/// replaces one the store has not confirmed yet, so a queue holds at most one item per customer. Items a store has
/// confirmed (by resuming after them) are deleted.
/// </summary>
internal sealed class DownlinkQueue(ProfileReader profiles)
{
    private const int MaxSearches = 10;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next <see cref="Notify"/>.</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    /// <summary>Wakes the stores' watches (call after the transaction that queued items committed).</summary>
    public void Notify() =>
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Queues the summary of each of <paramref name="profileIds"/> to every store that knows it, inside the caller's transaction.</summary>
    /// <param name="connection">The writer connection.</param>
    /// <param name="tx">Its transaction.</param>
    /// <param name="profileIds">Profiles that changed.</param>
    /// <param name="nowUnixMs">Now.</param>
    /// <param name="evenForOneStore">Push even when a single store knows the customer (a consent change it must honour).</param>
    public void Enqueue(DbConnection connection, DbTransaction tx, IEnumerable<string> profileIds, long nowUnixMs, bool evenForOneStore = false)
    {
        foreach (var profileId in profileIds)
        {
            var stores = new List<string>();

            // The profile's few keys first: a planner with stale statistics (PostgreSQL before autovacuum's first
            // ANALYZE) would otherwise walk every row of the store and probe identity_keys for each.
            using (var command = Sql.Command(connection, tx, """
                WITH profile_keys AS MATERIALIZED (SELECT customer_key FROM identity_keys WHERE profile_id = @p)
                SELECT DISTINCT sp.store_id FROM profile_keys ik JOIN store_profiles sp ON sp.customer_key = ik.customer_key
                JOIN stores s ON s.store_id = sp.store_id AND s.revoked_at IS NULL
                ORDER BY sp.store_id;
                """, ("@p", profileId)))
            {
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    stores.Add(reader.GetString(0));
                }
            }

            if (stores.Count == 0 || (stores.Count < 2 && !evenForOneStore))
            {
                // Only one store knows the customer: it has nothing to learn from the others.
                continue;
            }

            var summary = Summarize(profiles.Load(connection, profileId), nowUnixMs);
            foreach (var store in stores)
            {
                Sql.Exec(connection, tx, """
                    DELETE FROM downlink WHERE store_id = @s AND profile_id = @p
                        AND seq > (SELECT downlink_acked FROM stores WHERE store_id = @s);
                    """, ("@s", store), ("@p", profileId));
                Append(connection, tx, store, profileId, new DownlinkItem { Profile = summary }, nowUnixMs);
            }
        }
    }

    /// <summary>Queues an erase order to each of <paramref name="stores"/>, inside the caller's transaction.</summary>
    public static void EnqueueErasure(DbConnection connection, DbTransaction tx, IEnumerable<string> stores, ErasureRequest order, long nowUnixMs)
    {
        ArgumentNullException.ThrowIfNull(stores);
        ArgumentNullException.ThrowIfNull(order);
        foreach (var store in stores)
        {
            Append(connection, tx, store, "erase:" + order.RequestId, new DownlinkItem { Erase = order }, nowUnixMs);
        }
    }

    /// <summary>Gives <paramref name="item"/> the store's next number and queues it under <paramref name="subject"/> (a profile id or erase:&lt;request&gt;).</summary>
    private static void Append(DbConnection connection, DbTransaction tx, string store, string subject, DownlinkItem item, long nowUnixMs)
    {
        using (var next = Sql.Command(connection, tx, "UPDATE stores SET downlink_seq = downlink_seq + 1 WHERE store_id = @s RETURNING downlink_seq;", ("@s", store)))
        {
            item.Seq = (long)next.ExecuteScalar()!;
        }

        Sql.Exec(connection, tx, "INSERT INTO downlink (store_id, seq, profile_id, payload, created_at) VALUES (@s, @q, @p, @b, @now);",
            ("@s", store), ("@q", item.Seq), ("@p", subject), ("@b", item.ToByteArray()), ("@now", nowUnixMs));
    }

    /// <summary>The store confirmed everything up to <paramref name="after"/>: forget it.</summary>
    public static void Acknowledge(DbConnection connection, DbTransaction tx, string storeId, long after)
    {
        var sql = Sql.Dialect(connection);
        Sql.Exec(connection, tx, $"""
            UPDATE stores SET downlink_acked = {sql.Greatest("downlink_acked", sql.Least("@a", "downlink_seq"))} WHERE store_id = @s;
            DELETE FROM downlink WHERE store_id = @s AND seq <= @a;
            """, ("@s", storeId), ("@a", after));
    }

    /// <summary>Up to <paramref name="limit"/> items of <paramref name="storeId"/> after <paramref name="after"/>, in order.</summary>
    public static List<DownlinkItem> Read(DbConnection connection, string storeId, long after, int limit)
    {
        using var command = Sql.Command(connection, null, "SELECT payload FROM downlink WHERE store_id = @s AND seq > @a ORDER BY seq LIMIT @n;",
            ("@s", storeId), ("@a", after), ("@n", limit));
        using var reader = command.ExecuteReader();
        var items = new List<DownlinkItem>();
        while (reader.Read())
        {
            items.Add(DownlinkItem.Parser.ParseFrom((byte[])reader.GetValue(0)));
        }

        return items;
    }

    private static GlobalSummary Summarize(Api.GlobalProfile profile, long nowUnixMs)
    {
        var summary = new GlobalSummary
        {
            ProfileId = profile.ProfileId,
            LastSeenUnixMs = profile.Global.LastSeen?.ToUnixTimeMilliseconds() ?? 0,
            LastCategory = profile.Global.LastCategory ?? "",
            Visits30D = profile.Global.Visits30d,
            Spend30D = profile.Global.Spend30d,
            UpdatedAtUnixMs = nowUnixMs,
        };
        summary.Identifiers.AddRange(profile.Identifiers);
        if (profile.Consent != Api.ConsentState.Granted)
        {
            summary.Consent = new ConsentWithdrawals
            {
                Analytics = !profile.Consent.Analytics,
                Personalisation = !profile.Consent.Personalisation,
                Training = !profile.Consent.Training,
            };
        }

        summary.Channels.AddRange(profile.Global.Channels);
        summary.Stores.AddRange(profile.Stores.Select(s => s.StoreId).Distinct(StringComparer.Ordinal));
        summary.Tags.AddRange(profile.Tags.Select(t => t.Name));
        foreach (var s in profile.Searches.Take(MaxSearches))
        {
            summary.Searches.Add(new StoreSearch
            {
                StoreId = s.StoreId,
                Search = new SearchNote { Text = s.Text, AtUnixMs = s.At.ToUnixTimeMilliseconds(), Channel = s.Channel },
            });
        }

        return summary;
    }
}
