using Microsoft.Data.Sqlite;

namespace EdgeProfile.Edge.Log;

/// <summary>The log writer's prepared statements, reused across transactions on one connection.</summary>
internal sealed class Statements : IDisposable
{
    private readonly SqliteCommand _insertEvent;
    private readonly SqliteCommand _insertDead;
    private readonly SqliteCommand _selectKey;
    private readonly SqliteCommand _insertKey;
    private readonly SqliteCommand _selectProfile;
    private readonly SqliteCommand _upsertProfile;
    private readonly SqliteCommand _insertOutbox;
    private readonly SqliteCommand _insertOverflow;
    private readonly SqliteCommand _addCounter;
    private readonly SqliteCommand _maxCounter;
    private readonly SqliteCommand _trimDead;
    private readonly SqliteCommand _takeOverflow;
    private readonly SqliteCommand _deleteOverflow;
    private readonly SqliteCommand[] _all;

    public Statements(SqliteConnection c)
    {
        _insertEvent = Make(c, "INSERT OR IGNORE INTO events(event_id,type,occurred_at_ms,received_at_ms,customer_key,topic,format,payload) VALUES($id,$type,$occ,$rcv,$cust,$topic,$fmt,$payload)",
            "$id", "$type", "$occ", "$rcv", "$cust", "$topic", "$fmt", "$payload");
        _insertDead = Make(c, "INSERT INTO dead_letters(received_at_ms,topic,field,reason,size,payload) VALUES($rcv,$topic,$field,$reason,$size,$payload)",
            "$rcv", "$topic", "$field", "$reason", "$size", "$payload");
        _selectKey = Make(c, "SELECT customer_key FROM customer_keys WHERE key=$key", "$key");
        _insertKey = Make(c, "INSERT OR IGNORE INTO customer_keys(key,customer_key) VALUES($key,$cust)", "$key", "$cust");
        _selectProfile = Make(c, "SELECT state FROM profiles WHERE customer_key=$cust", "$cust");
        _upsertProfile = Make(c, "INSERT INTO profiles(customer_key,updated_at_ms,state) VALUES($cust,$at,$state) ON CONFLICT(customer_key) DO UPDATE SET updated_at_ms=excluded.updated_at_ms, state=excluded.state",
            "$cust", "$at", "$state");
        _insertOutbox = Make(c, "INSERT INTO outbox(created_at_ms,customer_key,payload) VALUES($at,$cust,$payload)", "$at", "$cust", "$payload");
        _insertOverflow = Make(c, "INSERT OR IGNORE INTO outbox_overflow(customer_key) VALUES($cust)", "$cust");
        _addCounter = Make(c, "INSERT INTO counters(name,value) VALUES($name,$v) ON CONFLICT(name) DO UPDATE SET value=value+excluded.value", "$name", "$v");
        _maxCounter = Make(c, "INSERT INTO counters(name,value) VALUES($name,$v) ON CONFLICT(name) DO UPDATE SET value=max(value,excluded.value)", "$name", "$v");
        _trimDead = Make(c, "DELETE FROM dead_letters WHERE id <= (SELECT MAX(id) FROM dead_letters) - $keep", "$keep");
        _takeOverflow = Make(c, "SELECT customer_key FROM outbox_overflow LIMIT $n", "$n");
        _deleteOverflow = Make(c, "DELETE FROM outbox_overflow WHERE customer_key=$cust", "$cust");
        _all = [_insertEvent, _insertDead, _selectKey, _insertKey, _selectProfile, _upsertProfile, _insertOutbox, _insertOverflow, _addCounter, _maxCounter, _trimDead, _takeOverflow, _deleteOverflow];
    }

    public void Enlist(SqliteTransaction? tx)
    {
        foreach (var cmd in _all)
        {
            cmd.Transaction = tx;
        }
    }

    public bool InsertEvent(string eventId, string type, long occurredMs, long receivedMs, string customerKey, string topic, int format, byte[] payload) =>
        Run(_insertEvent, eventId, type, occurredMs, receivedMs, customerKey, topic, format, payload) == 1;

    public void InsertDead(long receivedMs, string topic, string field, string reason, int size, byte[] payload) =>
        Run(_insertDead, receivedMs, topic, field, reason, size, payload);

    public string? SelectKey(string key)
    {
        _selectKey.Parameters[0].Value = key;
        return _selectKey.ExecuteScalar() as string;
    }

    public void InsertKey(string key, string customerKey) => Run(_insertKey, key, customerKey);

    public string? SelectProfile(string customerKey)
    {
        _selectProfile.Parameters[0].Value = customerKey;
        return _selectProfile.ExecuteScalar() as string;
    }

    public void UpsertProfile(string customerKey, long atMs, string state) => Run(_upsertProfile, customerKey, atMs, state);

    public void InsertOutbox(long atMs, string customerKey, byte[] payload) => Run(_insertOutbox, atMs, customerKey, payload);

    public int InsertOverflow(string customerKey) => Run(_insertOverflow, customerKey);

    public void AddCounters(long stored, long duplicates, long dead, long late, long watermarkMs)
    {
        if (stored > 0) Run(_addCounter, "events_stored", stored);
        if (duplicates > 0) Run(_addCounter, "duplicates", duplicates);
        if (dead > 0) Run(_addCounter, "dead_lettered", dead);
        if (late > 0) Run(_addCounter, "late_events", late);
        if (stored > 0) Run(_maxCounter, "watermark_ms", watermarkMs);
    }

    public int TrimDeadLetters(int keep) => Run(_trimDead, keep);

    public List<string> TakeOverflow(int n)
    {
        _takeOverflow.Parameters[0].Value = n;
        var keys = new List<string>();
        using (var r = _takeOverflow.ExecuteReader())
        {
            while (r.Read())
            {
                keys.Add(r.GetString(0));
            }
        }

        foreach (var k in keys)
        {
            Run(_deleteOverflow, k);
        }

        return keys;
    }

    public void Dispose()
    {
        foreach (var cmd in _all)
        {
            cmd.Dispose();
        }
    }

    private static SqliteCommand Make(SqliteConnection c, string sql, params string[] names)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var n in names)
        {
            cmd.Parameters.Add(new SqliteParameter { ParameterName = n });
        }

        return cmd;
    }

    private static int Run(SqliteCommand cmd, params object[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            cmd.Parameters[i].Value = values[i];
        }

        return cmd.ExecuteNonQuery();
    }
}
