using System.Text;
using System.Text.Unicode;
using EdgeProfile.Edge.Log;

namespace EdgeProfile.Edge.Api;

/// <summary>Reads the newest dead letters for <c>/api/deadletters</c>.</summary>
public static class DeadLetterReader
{
    /// <summary>One dead letter as the API shows it.</summary>
    public sealed record DeadLetter(long Id, DateTimeOffset ReceivedAt, string Topic, string Field, string Reason, int Size, string? PayloadText, string PayloadBase64);

    /// <summary>The newest <paramref name="limit"/> dead letters, newest first.</summary>
    public static IReadOnlyList<DeadLetter> Newest(EdgeDatabase db, int limit)
    {
        ArgumentNullException.ThrowIfNull(db);
        using var c = db.OpenRead();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, received_at_ms, topic, field, reason, size, payload FROM dead_letters ORDER BY id DESC LIMIT $n";
        cmd.Parameters.AddWithValue("$n", limit);
        var list = new List<DeadLetter>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var payload = (byte[])r.GetValue(6);
            var text = Utf8.IsValid(payload) ? Encoding.UTF8.GetString(payload, 0, Math.Min(payload.Length, 4096)) : null;
            list.Add(new DeadLetter(r.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetString(2), r.GetString(3),
                r.GetString(4), r.GetInt32(5), text, Convert.ToBase64String(payload)));
        }

        return list;
    }
}
