using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace EdgeProfile.Edge.Log;

/// <summary>
/// The log writer's statements, prepared once on its connection and run through SQLite's own API: on the ingest hot
/// path the ADO.NET layer (a data reader and named-parameter lookups per call) cost more than the inserts themselves.
/// They run inside whatever transaction the connection has open.
/// </summary>
internal sealed class Statements : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _insertEvent;
    private readonly sqlite3_stmt _insertDead;
    private readonly sqlite3_stmt _selectKey;
    private readonly sqlite3_stmt _insertKey;
    private readonly sqlite3_stmt _selectProfile;
    private readonly sqlite3_stmt _upsertProfile;
    private readonly sqlite3_stmt _insertOutbox;
    private readonly sqlite3_stmt _insertOverflow;
    private readonly sqlite3_stmt _addCounter;
    private readonly sqlite3_stmt _trimDead;
    private readonly sqlite3_stmt _takeOverflow;
    private readonly sqlite3_stmt _deleteOverflow;
    private readonly sqlite3_stmt _selectFeatureState;
    private readonly sqlite3_stmt _upsertFeatureState;
    private readonly sqlite3_stmt _insertLate;
    private readonly sqlite3_stmt _setMeta;
    private readonly sqlite3_stmt[] _all;

    public Statements(SqliteConnection connection)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        _insertEvent = Prepare("INSERT OR IGNORE INTO events(event_id,type,occurred_at_ms,received_at_ms,customer_key,topic,format,payload) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
        _insertDead = Prepare("INSERT INTO dead_letters(received_at_ms,topic,field,reason,size,payload) VALUES(?1,?2,?3,?4,?5,?6)");
        _selectKey = Prepare("SELECT customer_key FROM customer_keys WHERE key=?1");
        _insertKey = Prepare("INSERT OR IGNORE INTO customer_keys(key,customer_key) VALUES(?1,?2)");
        _selectProfile = Prepare("SELECT state FROM profiles WHERE customer_key=?1");
        _upsertProfile = Prepare("INSERT INTO profiles(customer_key,updated_at_ms,state) VALUES(?1,?2,?3) ON CONFLICT(customer_key) DO UPDATE SET updated_at_ms=excluded.updated_at_ms, state=excluded.state");
        _insertOutbox = Prepare("INSERT INTO outbox(created_at_ms,customer_key,payload) VALUES(?1,?2,?3)");
        _insertOverflow = Prepare("INSERT OR IGNORE INTO outbox_overflow(customer_key) VALUES(?1)");
        _addCounter = Prepare("INSERT INTO counters(name,value) VALUES(?1,?2) ON CONFLICT(name) DO UPDATE SET value=value+excluded.value");
        _trimDead = Prepare("DELETE FROM dead_letters WHERE id <= (SELECT MAX(id) FROM dead_letters) - ?1");
        _takeOverflow = Prepare("SELECT customer_key FROM outbox_overflow LIMIT ?1");
        _deleteOverflow = Prepare("DELETE FROM outbox_overflow WHERE customer_key=?1");
        _selectFeatureState = Prepare("SELECT state, seq FROM feature_state WHERE customer_key=?1");
        _upsertFeatureState = Prepare("INSERT INTO feature_state(customer_key,updated_at_ms,seq,state) VALUES(?1,?2,?3,?4) ON CONFLICT(customer_key) DO UPDATE SET updated_at_ms=excluded.updated_at_ms, seq=excluded.seq, state=excluded.state");
        _insertLate = Prepare("INSERT OR IGNORE INTO late_events(event_id,customer_key,occurred_at_ms,watermark_ms,received_at_ms) VALUES(?1,?2,?3,?4,?5)");
        _setMeta = Prepare("INSERT INTO engine_meta(name,value) VALUES(?1,?2) ON CONFLICT(name) DO UPDATE SET value=excluded.value");
        _all = [_selectFeatureState, _upsertFeatureState, _insertLate, _setMeta, _insertEvent, _insertDead, _selectKey, _insertKey, _selectProfile, _upsertProfile, _insertOutbox, _insertOverflow, _addCounter, _trimDead, _takeOverflow, _deleteOverflow];
    }

    public bool InsertEvent(string eventId, string type, long occurredMs, long receivedMs, string customerKey, string topic, int format, ReadOnlySpan<byte> payload)
    {
        var s = _insertEvent;
        Text(s, 1, eventId);
        Text(s, 2, type);
        raw.sqlite3_bind_int64(s, 3, occurredMs);
        raw.sqlite3_bind_int64(s, 4, receivedMs);
        Text(s, 5, customerKey);
        Text(s, 6, topic);
        raw.sqlite3_bind_int(s, 7, format);
        raw.sqlite3_bind_blob(s, 8, payload);
        return Done(s) == 1;
    }

    /// <summary>The rowid of the last insert on the connection (for events: their <c>seq</c>).</summary>
    public long LastRowId => raw.sqlite3_last_insert_rowid(_db);

    public void InsertDead(long receivedMs, string topic, string field, string reason, int size, ReadOnlySpan<byte> payload)
    {
        var s = _insertDead;
        raw.sqlite3_bind_int64(s, 1, receivedMs);
        Text(s, 2, topic);
        Text(s, 3, field);
        Text(s, 4, reason);
        raw.sqlite3_bind_int(s, 5, size);
        raw.sqlite3_bind_blob(s, 6, payload);
        Done(s);
    }

    public string? SelectKey(string key)
    {
        Text(_selectKey, 1, key);
        return SingleText(_selectKey);
    }

    public void InsertKey(string key, string customerKey)
    {
        Text(_insertKey, 1, key);
        Text(_insertKey, 2, customerKey);
        Done(_insertKey);
    }

    public string? SelectProfile(string customerKey)
    {
        Text(_selectProfile, 1, customerKey);
        return SingleText(_selectProfile);
    }

    /// <summary>Stores a profile's JSON, given as UTF-8 (bound as text).</summary>
    public void UpsertProfile(string customerKey, long atMs, ReadOnlySpan<byte> utf8State)
    {
        Text(_upsertProfile, 1, customerKey);
        raw.sqlite3_bind_int64(_upsertProfile, 2, atMs);
        raw.sqlite3_bind_text(_upsertProfile, 3, utf8State);
        Done(_upsertProfile);
    }

    public void InsertOutbox(long atMs, string customerKey, ReadOnlySpan<byte> payload)
    {
        raw.sqlite3_bind_int64(_insertOutbox, 1, atMs);
        Text(_insertOutbox, 2, customerKey);
        raw.sqlite3_bind_blob(_insertOutbox, 3, payload);
        Done(_insertOutbox);
    }

    public int InsertOverflow(string customerKey)
    {
        Text(_insertOverflow, 1, customerKey);
        return Done(_insertOverflow);
    }

    public void AddCounters(long stored, long duplicates, long dead, long late)
    {
        if (stored > 0) Counter(_addCounter, "events_stored", stored);
        if (duplicates > 0) Counter(_addCounter, "duplicates", duplicates);
        if (dead > 0) Counter(_addCounter, "dead_lettered", dead);
        if (late > 0) Counter(_addCounter, "late_events", late);
    }

    public void AddCounter(string name, long value)
    {
        if (value > 0) Counter(_addCounter, name, value);
    }

    public int TrimDeadLetters(int keep)
    {
        raw.sqlite3_bind_int(_trimDead, 1, keep);
        return Done(_trimDead);
    }

    public List<string> TakeOverflow(int n)
    {
        var keys = new List<string>();
        raw.sqlite3_bind_int(_takeOverflow, 1, n);
        try
        {
            int rc;
            while ((rc = raw.sqlite3_step(_takeOverflow)) == raw.SQLITE_ROW)
            {
                keys.Add(raw.sqlite3_column_text(_takeOverflow, 0).utf8_to_string());
            }

            Check(rc, raw.SQLITE_DONE);
        }
        finally
        {
            raw.sqlite3_reset(_takeOverflow);
        }

        foreach (var k in keys)
        {
            Text(_deleteOverflow, 1, k);
            Done(_deleteOverflow);
        }

        return keys;
    }

    /// <summary>A customer's checkpointed feature state and the log position it includes, or null.</summary>
    public (byte[] State, long Seq)? SelectFeatureState(string customerKey)
    {
        var s = _selectFeatureState;
        Text(s, 1, customerKey);
        try
        {
            var rc = raw.sqlite3_step(s);
            if (rc == raw.SQLITE_ROW)
            {
                return (raw.sqlite3_column_blob(s, 0).ToArray(), raw.sqlite3_column_int64(s, 1));
            }

            Check(rc, raw.SQLITE_DONE);
            return null;
        }
        finally
        {
            raw.sqlite3_reset(s);
        }
    }

    public void UpsertFeatureState(string customerKey, long atMs, long seq, ReadOnlySpan<byte> state)
    {
        var s = _upsertFeatureState;
        Text(s, 1, customerKey);
        raw.sqlite3_bind_int64(s, 2, atMs);
        raw.sqlite3_bind_int64(s, 3, seq);
        raw.sqlite3_bind_blob(s, 4, state);
        Done(s);
    }

    public void InsertLate(string eventId, string customerKey, long occurredMs, long watermarkMs, long receivedMs)
    {
        var s = _insertLate;
        Text(s, 1, eventId);
        Text(s, 2, customerKey);
        raw.sqlite3_bind_int64(s, 3, occurredMs);
        raw.sqlite3_bind_int64(s, 4, watermarkMs);
        raw.sqlite3_bind_int64(s, 5, receivedMs);
        Done(s);
    }

    public void SetMeta(string name, ReadOnlySpan<byte> value)
    {
        Text(_setMeta, 1, name);
        raw.sqlite3_bind_blob(_setMeta, 2, value);
        Done(_setMeta);
    }

    public void Dispose()
    {
        foreach (var s in _all)
        {
            s.Dispose();
        }
    }

    private sqlite3_stmt Prepare(string sql)
    {
        Check(raw.sqlite3_prepare_v2(_db, sql, out var stmt), raw.SQLITE_OK);
        return stmt;
    }

    private void Counter(sqlite3_stmt s, string name, long value)
    {
        Text(s, 1, name);
        raw.sqlite3_bind_int64(s, 2, value);
        Done(s);
    }

    // As UTF-16, which SQLite converts itself: binding a .NET string as UTF-8 made a new array for every value bound.
    private static void Text(sqlite3_stmt s, int index, string value) => raw.sqlite3_bind_text16(s, index, value.AsSpan());

    /// <summary>Steps a statement that returns no rows; returns the rows it changed.</summary>
    private int Done(sqlite3_stmt s)
    {
        try
        {
            Check(raw.sqlite3_step(s), raw.SQLITE_DONE);
            return raw.sqlite3_changes(_db);
        }
        finally
        {
            raw.sqlite3_reset(s);
        }
    }

    private string? SingleText(sqlite3_stmt s)
    {
        try
        {
            var rc = raw.sqlite3_step(s);
            if (rc == raw.SQLITE_ROW)
            {
                return raw.sqlite3_column_text(s, 0).utf8_to_string();
            }

            Check(rc, raw.SQLITE_DONE);
            return null;
        }
        finally
        {
            raw.sqlite3_reset(s);
        }
    }

    private void Check(int rc, int expected)
    {
        if (rc != expected)
        {
            throw new SqliteException($"SQLite error {rc}: {raw.sqlite3_errmsg(_db).utf8_to_string()}", rc);
        }
    }
}
