using EdgeProfile.Contracts.V1;
using Microsoft.Data.Sqlite;

namespace EdgeProfile.Edge.Uplink;

/// <summary>
/// The customers' latest scores the hub does not have yet (<c>model_scores</c> rows with
/// <c>scored_at_ms &gt; uploaded_at_ms</c>), for <see cref="UplinkService"/> to send beside the outbox's deltas. Scores are
/// not sequenced: only the newest per customer matters, so a row is marked uploaded after the hub's ack only while it
/// still holds what was sent, and a score written meanwhile stays pending.
/// </summary>
/// <remarks>
/// Consent: a customer who withdrew analytics or personalisation consent (as the hub last pushed it, the same test as
/// the local API's) has no scores shown anywhere, so none leave the store either; the row is marked as handled so that
/// it does not hold up the others, and a later score after consent is granted again goes up as usual. An erased
/// customer has no row (the erasure deletes it).
/// </remarks>
public static class ScoreUplink
{
    /// <summary>Up to <paramref name="limit"/> pending scores to send, and the withdrawn customers' rows to mark as handled.</summary>
    public static (List<CustomerScores> Send, List<CustomerScores> Withheld) Pending(SqliteConnection connection, int limit)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var cmd = connection.CreateCommand();
        cmd.CommandText = """
            SELECT s.customer_key, s.model_version, s.scored_at_ms, s.missing_features, s.scores, g.summary, s.explanation
            FROM model_scores s
            LEFT JOIN global_keys k ON k.customer_key = s.customer_key
            LEFT JOIN global_profiles g ON g.profile_id = k.profile_id
            WHERE s.scored_at_ms > s.uploaded_at_ms
            LIMIT $n
            """;
        cmd.Parameters.AddWithValue("$n", limit);
        var send = new List<CustomerScores>();
        var withheld = new List<CustomerScores>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var scores = new CustomerScores
            {
                CustomerKey = r.GetString(0),
                ModelVersion = r.GetString(1),
                ScoredAtUnixMs = r.GetInt64(2),
                MissingFeatures = r.GetInt32(3),
                ScoresJson = r.GetString(4),
                ExplanationJson = r.IsDBNull(6) ? "" : r.GetString(6),
            };
            var consent = r.IsDBNull(5) ? null : GlobalSummary.Parser.ParseFrom((byte[])r.GetValue(5)).Consent;
            (consent is { Analytics: true } or { Personalisation: true } ? withheld : send).Add(scores);
        }

        return (send, withheld);
    }

    /// <summary>Marks <paramref name="scores"/> as the hub's, each only while its row still holds the score sent (and,
    /// when it was sent without its explanation, still has none).</summary>
    public static void MarkUploaded(SqliteConnection connection, IEnumerable<CustomerScores> scores)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(scores);
        using var tx = connection.BeginTransaction();
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        // A score sent before its explanation was written stays pending: it goes up again, with the explanation.
        cmd.CommandText = """
            UPDATE model_scores SET uploaded_at_ms = scored_at_ms
            WHERE customer_key = $k AND scored_at_ms = $t AND ($explained OR explanation IS NULL)
            """;
        var k = cmd.Parameters.Add("$k", SqliteType.Text);
        var t = cmd.Parameters.Add("$t", SqliteType.Integer);
        var e = cmd.Parameters.Add("$explained", SqliteType.Integer);
        foreach (var s in scores)
        {
            k.Value = s.CustomerKey;
            t.Value = s.ScoredAtUnixMs;
            e.Value = s.ExplanationJson.Length > 0 ? 1 : 0;
            cmd.ExecuteNonQuery();
        }

        tx.Commit();
    }
}
