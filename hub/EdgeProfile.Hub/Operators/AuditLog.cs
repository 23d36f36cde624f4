using EdgeProfile.Hub.Storage;

namespace EdgeProfile.Hub.Operators;

/// <summary>
/// The audit log: every change made through the REST API (and so through the web UI and the CLI) with who made it, in
/// the hub database. Written by <see cref="AuditMiddleware"/>; read by <c>GET /api/audit</c> and the UI's audit page.
/// </summary>
internal sealed class AuditLog(HubDatabase db, TimeProvider time)
{
    /// <summary>Appends one entry and returns it.</summary>
    public Task<AuditEntry> AppendAsync(string actor, string action, string target, int status, string detail, CancellationToken cancellationToken)
    {
        var at = time.GetUtcNow();
        return db.WriteAsync((connection, tx) =>
        {
            var seq = (Sql.Long(Sql.Command(connection, tx, "SELECT COALESCE(MAX(seq), 0) FROM audit_log;").ExecuteScalar()) ?? 0) + 1;
            Sql.Exec(connection, tx, "INSERT INTO audit_log (seq, at, actor, action, target, status, detail) VALUES (@s, @at, @a, @act, @t, @st, @d);",
                ("@s", seq), ("@at", at.ToUnixTimeMilliseconds()), ("@a", Clip(actor, 200)), ("@act", Clip(action, 300)), ("@t", Clip(target, 300)), ("@st", status), ("@d", Clip(detail, 1000)));
            return new AuditEntry(seq, at, Clip(actor, 200), Clip(action, 300), Clip(target, 300), status, Clip(detail, 1000));
        }, cancellationToken);
    }

    /// <summary>The newest <paramref name="limit"/> entries before <paramref name="before"/> (exclusive; null = the newest), newest first.</summary>
    public Task<IReadOnlyList<AuditEntry>> ListAsync(int limit, long? before, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<AuditEntry>>(connection =>
        {
            using var command = Sql.Command(connection, null,
                "SELECT seq, at, actor, action, target, status, detail FROM audit_log WHERE seq < @b ORDER BY seq DESC LIMIT @l;",
                ("@b", before ?? long.MaxValue), ("@l", limit));
            using var reader = command.ExecuteReader();
            var list = new List<AuditEntry>();
            while (reader.Read())
            {
                list.Add(new AuditEntry(Sql.Long(reader.GetValue(0)) ?? 0, DateTimeOffset.FromUnixTimeMilliseconds(Sql.Long(reader.GetValue(1)) ?? 0),
                    reader.GetString(2), reader.GetString(3), reader.GetString(4), (int)(Sql.Long(reader.GetValue(5)) ?? 0), reader.GetString(6)));
            }

            return list;
        }, cancellationToken);

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max];
}
