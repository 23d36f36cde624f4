using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace EdgeProfile.Knowledge.Graph;

/// <summary>A triple (s, p, o) as dictionary ids of its terms.</summary>
/// <param name="S">Subject id.</param>
/// <param name="P">Predicate id.</param>
/// <param name="O">Object id.</param>
public readonly record struct IdTriple(long S, long P, long O) : IComparable<IdTriple>
{
    /// <summary>SPO order.</summary>
    /// <param name="other">Another triple.</param>
    /// <returns>The comparison.</returns>
    public int CompareTo(IdTriple other) =>
        S != other.S ? S.CompareTo(other.S) : P != other.P ? P.CompareTo(other.P) : O.CompareTo(other.O);

    /// <summary>SPO order.</summary>
    /// <param name="left">A triple.</param>
    /// <param name="right">Another.</param>
    /// <returns>True if left sorts first.</returns>
    public static bool operator <(IdTriple left, IdTriple right) => left.CompareTo(right) < 0;

    /// <summary>SPO order.</summary>
    /// <param name="left">A triple.</param>
    /// <param name="right">Another.</param>
    /// <returns>True if left sorts first or equal.</returns>
    public static bool operator <=(IdTriple left, IdTriple right) => left.CompareTo(right) <= 0;

    /// <summary>SPO order.</summary>
    /// <param name="left">A triple.</param>
    /// <param name="right">Another.</param>
    /// <returns>True if left sorts last.</returns>
    public static bool operator >(IdTriple left, IdTriple right) => left.CompareTo(right) > 0;

    /// <summary>SPO order.</summary>
    /// <param name="left">A triple.</param>
    /// <param name="right">Another.</param>
    /// <returns>True if left sorts last or equal.</returns>
    public static bool operator >=(IdTriple left, IdTriple right) => left.CompareTo(right) >= 0;
}

/// <summary>
/// A triple store on SQLite. Terms are dictionary-encoded (table <c>terms(id, kind, lex)</c>, unique on
/// <c>(kind, lex)</c>) and triples are rows of three integer ids in a <c>WITHOUT ROWID</c> table whose primary key is
/// the SPO index, with covering secondary indexes POS <c>(p, o, s)</c> and OSP <c>(o, s, p)</c>, so every pattern with
/// any combination of bound positions is a range scan of one index. Triples are a set (adding one twice keeps one).
/// The dictionary is append-only: removing triples keeps their terms. One instance owns one connection and is not
/// thread-safe; open one per thread or serialise access.
/// </summary>
public sealed class TripleStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly sqlite3 _db;
    private readonly Dictionary<Term, long> _ids = [];
    private readonly Dictionary<long, Term> _terms = [];
    private const long FullCacheLimit = 4_000_000;
    private const int BulkRebuildThreshold = 50_000;
    private const string IndexDdl = "CREATE INDEX IF NOT EXISTS triples_pos ON triples(p, o, s); CREATE INDEX IF NOT EXISTS triples_osp ON triples(o, s, p);";
    private const int SqliteRow = 100;
    private const int SqliteDone = 101;
    private readonly sqlite3_stmt[] _match = new sqlite3_stmt[8];
    private readonly sqlite3_stmt[] _count = new sqlite3_stmt[8];
    private readonly string[] _matchSql = new string[8];
    private readonly sqlite3_stmt _lookupId;
    private readonly sqlite3_stmt _lookupTerm;
    private readonly sqlite3_stmt _insertTerm;
    private readonly sqlite3_stmt _insertTriple;
    private readonly sqlite3_stmt _deleteTriple;
    private readonly List<(long Id, Term Term)> _newTerms = [];
    private SqliteTransaction? _transaction;
    private bool _complete;
    private long _maxId;
    private bool _disposed;

    private TripleStore(string dataSource)
    {
        SQLitePCL.Batteries_V2.Init();
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = dataSource,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        };
        _connection = new SqliteConnection(builder.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;");
        Execute("""
            CREATE TABLE IF NOT EXISTS terms(id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, lex TEXT NOT NULL);
            CREATE UNIQUE INDEX IF NOT EXISTS terms_kind_lex ON terms(kind, lex);
            CREATE TABLE IF NOT EXISTS triples(s INTEGER NOT NULL, p INTEGER NOT NULL, o INTEGER NOT NULL, PRIMARY KEY (s, p, o)) WITHOUT ROWID;
            """ + IndexDdl);
        _db = _connection.Handle!;
        LoadDictionary();
        _lookupId = Prepare("SELECT id FROM terms WHERE kind = ?1 AND lex = ?2");
        _lookupTerm = Prepare("SELECT kind, lex FROM terms WHERE id = ?1");
        _insertTerm = Prepare("INSERT INTO terms(id, kind, lex) VALUES (?1, ?2, ?3)");
        _insertTriple = Prepare("INSERT OR IGNORE INTO triples(s, p, o) VALUES (?1, ?2, ?3)");
        _deleteTriple = Prepare("DELETE FROM triples WHERE s = ?1 AND p = ?2 AND o = ?3");
        for (var mask = 0; mask < 8; mask++)
        {
            var (where, order) = Shape(mask);
            _matchSql[mask] = $"SELECT s, p, o FROM triples{where} ORDER BY {order}";
            _match[mask] = Prepare(_matchSql[mask]);
            _count[mask] = Prepare($"SELECT count(*) FROM (SELECT 1 FROM triples{where} LIMIT ?4)");
        }
    }

    /// <summary>True while a <see cref="BeginBatch"/> transaction is open.</summary>
    public bool InBatch => _transaction is not null;

    /// <summary>The SQLite data source (file path or <c>:memory:</c>).</summary>
    public string DataSource => _connection.DataSource;

    /// <summary>Opens (creating if needed) a store in a SQLite file.</summary>
    /// <param name="path">The database file.</param>
    /// <returns>The store.</returns>
    public static TripleStore Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        return new TripleStore(path);
    }

    /// <summary>A store that lives in memory only (SQLite <c>:memory:</c>), for tests and scratch work.</summary>
    /// <returns>The store.</returns>
    public static TripleStore CreateInMemory() => new(":memory:");

    /// <summary>Adds one triple.</summary>
    /// <param name="subject">Subject.</param>
    /// <param name="predicate">Predicate.</param>
    /// <param name="obj">Object.</param>
    /// <returns>True if it was new.</returns>
    public bool Add(Term subject, Term predicate, Term obj) => AddRange([new Triple(subject, predicate, obj)]) == 1;

    /// <summary>
    /// Adds triples in one transaction (or in the caller's <see cref="BeginBatch"/>): terms are encoded through the
    /// in-memory dictionary cache, new terms and the id triples (sorted in SPO order) are written with prepared
    /// multi-row INSERT statements of 128 rows.
    /// </summary>
    /// <param name="triples">The triples.</param>
    /// <returns>How many were new.</returns>
    public int AddRange(IEnumerable<Triple> triples)
    {
        ArgumentNullException.ThrowIfNull(triples);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return InTransaction(() =>
        {
            var rows = new List<IdTriple>();
            foreach (var t in triples)
            {
                ArgumentNullException.ThrowIfNull(t.Subject, nameof(triples));
                ArgumentNullException.ThrowIfNull(t.Predicate, nameof(triples));
                ArgumentNullException.ThrowIfNull(t.Object, nameof(triples));
                rows.Add(new IdTriple(GetOrAddId(t.Subject), GetOrAddId(t.Predicate), GetOrAddId(t.Object)));
            }

            FlushTerms();
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(rows).Sort();

            // a load at least as large as the store is written to the SPO table alone, then POS and OSP are rebuilt
            // by CREATE INDEX (a sort), which is several times faster than maintaining them row by row
            var rebuild = rows.Count >= BulkRebuildThreshold && CountIds(0, 0, 0, rows.Count) < rows.Count;
            if (rebuild)
            {
                Exec("DROP INDEX IF EXISTS triples_pos; DROP INDEX IF EXISTS triples_osp;");
            }

            var added = 0;
            foreach (var r in rows)
            {
                raw.sqlite3_bind_int64(_insertTriple, 1, r.S);
                raw.sqlite3_bind_int64(_insertTriple, 2, r.P);
                raw.sqlite3_bind_int64(_insertTriple, 3, r.O);
                Step(_insertTriple);
                added += raw.sqlite3_changes(_db);
            }

            if (rebuild)
            {
                Exec(IndexDdl);
            }

            return added;
        });
    }

    /// <summary>Removes one triple.</summary>
    /// <param name="subject">Subject.</param>
    /// <param name="predicate">Predicate.</param>
    /// <param name="obj">Object.</param>
    /// <returns>True if it was there.</returns>
    public bool Remove(Term subject, Term predicate, Term obj)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(predicate);
        ArgumentNullException.ThrowIfNull(obj);
        return RemoveMatching(subject, predicate, obj) == 1;
    }

    /// <summary>Removes every triple matching a pattern (null = any).</summary>
    /// <param name="subject">Subject or null.</param>
    /// <param name="predicate">Predicate or null.</param>
    /// <param name="obj">Object or null.</param>
    /// <returns>How many were removed.</returns>
    public int RemoveMatching(Term? subject, Term? predicate, Term? obj)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!TryResolve(subject, out var s) || !TryResolve(predicate, out var p) || !TryResolve(obj, out var o))
        {
            return 0;
        }

        return InTransaction(() =>
        {
            var victims = MatchIds(s, p, o);
            var removed = 0;
            foreach (var t in victims)
            {
                raw.sqlite3_bind_int64(_deleteTriple, 1, t.S);
                raw.sqlite3_bind_int64(_deleteTriple, 2, t.P);
                raw.sqlite3_bind_int64(_deleteTriple, 3, t.O);
                Step(_deleteTriple);
                removed += raw.sqlite3_changes(_db);
            }

            return removed;
        });
    }

    /// <summary>Whether the triple is in the store.</summary>
    /// <param name="subject">Subject.</param>
    /// <param name="predicate">Predicate.</param>
    /// <param name="obj">Object.</param>
    /// <returns>True if present.</returns>
    public bool Contains(Term subject, Term predicate, Term obj)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(predicate);
        ArgumentNullException.ThrowIfNull(obj);
        return Count(subject, predicate, obj) == 1;
    }

    /// <summary>The number of triples.</summary>
    /// <returns>The count.</returns>
    public long Count() => Count(null, null, null);

    /// <summary>The number of triples matching a pattern (null = any).</summary>
    /// <param name="subject">Subject or null.</param>
    /// <param name="predicate">Predicate or null.</param>
    /// <param name="obj">Object or null.</param>
    /// <returns>The count.</returns>
    public long Count(Term? subject, Term? predicate, Term? obj)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return TryResolve(subject, out var s) && TryResolve(predicate, out var p) && TryResolve(obj, out var o)
            ? CountIds(s, p, o, long.MaxValue)
            : 0;
    }

    /// <summary>
    /// The triples matching a pattern (null = any), read from the index whose key starts with the bound positions
    /// (SPO for s / s+p / s+p+o, POS for p / p+o, OSP for o / s+o) and returned in that index's order.
    /// </summary>
    /// <param name="subject">Subject or null.</param>
    /// <param name="predicate">Predicate or null.</param>
    /// <param name="obj">Object or null.</param>
    /// <returns>The matching triples.</returns>
    public IReadOnlyList<Triple> Match(Term? subject, Term? predicate, Term? obj)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!TryResolve(subject, out var s) || !TryResolve(predicate, out var p) || !TryResolve(obj, out var o))
        {
            return [];
        }

        return [.. MatchIds(s, p, o).Select(t => new Triple(GetTerm(t.S), GetTerm(t.P), GetTerm(t.O)))];
    }

    /// <summary>
    /// SQLite's plan for <see cref="Match"/> with the given positions bound (<c>EXPLAIN QUERY PLAN</c>), e.g.
    /// <c>SEARCH triples USING COVERING INDEX triples_pos (p=?)</c>: shows which index serves a pattern.
    /// </summary>
    /// <param name="subjectBound">Subject bound.</param>
    /// <param name="predicateBound">Predicate bound.</param>
    /// <param name="objectBound">Object bound.</param>
    /// <returns>The plan's lines, joined by newlines.</returns>
    public string MatchPlan(bool subjectBound, bool predicateBound, bool objectBound)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var cmd = _connection.CreateCommand();
        cmd.Transaction = _transaction;
        cmd.CommandText = "EXPLAIN QUERY PLAN " + _matchSql[Mask(subjectBound ? 1 : 0, predicateBound ? 1 : 0, objectBound ? 1 : 0)];
        cmd.Parameters.AddWithValue("?1", 1L);
        cmd.Parameters.AddWithValue("?2", 1L);
        cmd.Parameters.AddWithValue("?3", 1L);
        using var reader = cmd.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read())
        {
            lines.Add(reader.GetString(reader.GetOrdinal("detail")));
        }

        return string.Join('\n', lines);
    }

    /// <summary>
    /// Starts a transaction that <see cref="AddRange"/> and removals join until the returned handle is committed
    /// (<see cref="Batch.Commit"/>) or disposed (rolled back).
    /// </summary>
    /// <returns>The batch.</returns>
    public Batch BeginBatch()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_transaction is not null)
        {
            throw new InvalidOperationException("A batch is already open.");
        }

        _transaction = _connection.BeginTransaction();
        return new Batch(this);
    }

    /// <summary>The dictionary id of a term, if the store has seen it.</summary>
    /// <param name="term">The term.</param>
    /// <param name="id">Its id (ids start at 1).</param>
    /// <returns>True if known.</returns>
    public bool TryGetId(Term term, out long id)
    {
        ArgumentNullException.ThrowIfNull(term);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_ids.TryGetValue(term, out id))
        {
            return true;
        }

        if (_complete)
        {
            return false;
        }

        raw.sqlite3_bind_int(_lookupId, 1, (int)term.Kind);
        raw.sqlite3_bind_text(_lookupId, 2, term.Lexical);
        try
        {
            if (Step(_lookupId) != SqliteRow)
            {
                id = 0;
                return false;
            }

            id = raw.sqlite3_column_int64(_lookupId, 0);
        }
        finally
        {
            raw.sqlite3_reset(_lookupId);
        }

        Cache(term, id);
        return true;
    }

    /// <summary>The term of a dictionary id.</summary>
    /// <param name="id">The id.</param>
    /// <returns>The term.</returns>
    /// <exception cref="KeyNotFoundException">No such id.</exception>
    public Term GetTerm(long id)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_terms.TryGetValue(id, out var term))
        {
            return term;
        }

        raw.sqlite3_bind_int64(_lookupTerm, 1, id);
        try
        {
            if (Step(_lookupTerm) != SqliteRow)
            {
                throw new KeyNotFoundException($"No term with id {id}.");
            }

            term = Term.FromLexical((TermKind)raw.sqlite3_column_int(_lookupTerm, 0), raw.sqlite3_column_text(_lookupTerm, 1).utf8_to_string());
        }
        finally
        {
            raw.sqlite3_reset(_lookupTerm);
        }

        Cache(term, id);
        return term;
    }

    /// <summary>The id triples matching a pattern of ids (0 = any), in the order of the index used.</summary>
    /// <param name="s">Subject id or 0.</param>
    /// <param name="p">Predicate id or 0.</param>
    /// <param name="o">Object id or 0.</param>
    /// <returns>The matches.</returns>
    public List<IdTriple> MatchIds(long s, long p, long o)
    {
        var result = new List<IdTriple>();
        MatchIds(s, p, o, result);
        return result;
    }

    /// <summary>Appends the id triples matching a pattern of ids (0 = any) to a list.</summary>
    /// <param name="s">Subject id or 0.</param>
    /// <param name="p">Predicate id or 0.</param>
    /// <param name="o">Object id or 0.</param>
    /// <param name="into">The list to append to.</param>
    public void MatchIds(long s, long p, long o, List<IdTriple> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var stmt = _match[Mask(s, p, o)];
        BindPattern(stmt, s, p, o);
        try
        {
            while (Step(stmt) == SqliteRow)
            {
                into.Add(new IdTriple(raw.sqlite3_column_int64(stmt, 0), raw.sqlite3_column_int64(stmt, 1), raw.sqlite3_column_int64(stmt, 2)));
            }
        }
        finally
        {
            raw.sqlite3_reset(stmt);
        }
    }

    /// <summary>Counts id triples matching a pattern of ids (0 = any), stopping at <paramref name="cap"/> (a cheap selectivity estimate).</summary>
    /// <param name="s">Subject id or 0.</param>
    /// <param name="p">Predicate id or 0.</param>
    /// <param name="o">Object id or 0.</param>
    /// <param name="cap">Counting stops here.</param>
    /// <returns>min(count, cap).</returns>
    public long CountIds(long s, long p, long o, long cap)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var stmt = _count[Mask(s, p, o)];
        BindPattern(stmt, s, p, o);
        raw.sqlite3_bind_int64(stmt, 4, cap);
        try
        {
            Step(stmt);
            return raw.sqlite3_column_int64(stmt, 0);
        }
        finally
        {
            raw.sqlite3_reset(stmt);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _transaction?.Dispose();
        foreach (var stmt in _match.Concat(_count).Append(_lookupId).Append(_lookupTerm).Append(_insertTerm).Append(_insertTriple).Append(_deleteTriple))
        {
            stmt?.Dispose();
        }

        _connection.Dispose();
    }

    internal void EndBatch(bool commit)
    {
        if (_transaction is null)
        {
            return;
        }

        if (commit)
        {
            _transaction.Commit();
        }
        else
        {
            _transaction.Rollback();
        }

        _transaction.Dispose();
        _transaction = null;
        if (!commit)
        {
            LoadDictionary(); // ids handed out inside the batch are gone
        }
    }

    private static int Mask(long s, long p, long o) => (s != 0 ? 4 : 0) | (p != 0 ? 2 : 0) | (o != 0 ? 1 : 0);

    private static (string Where, string Order) Shape(int mask) => mask switch
    {
        0 => ("", "s, p, o"),
        1 => (" WHERE o = ?3", "o, s, p"),
        2 => (" WHERE p = ?2", "p, o, s"),
        3 => (" WHERE p = ?2 AND o = ?3", "p, o, s"),
        4 => (" WHERE s = ?1", "s, p, o"),
        5 => (" WHERE o = ?3 AND s = ?1", "o, s, p"),
        6 => (" WHERE s = ?1 AND p = ?2", "s, p, o"),
        _ => (" WHERE s = ?1 AND p = ?2 AND o = ?3", "s, p, o"),
    };

    // binds ?1..?3; unbound positions are bound too (the statement ignores parameters it does not use)
    private static void BindPattern(sqlite3_stmt stmt, long s, long p, long o)
    {
        var count = raw.sqlite3_bind_parameter_count(stmt);
        if (count >= 1)
        {
            raw.sqlite3_bind_int64(stmt, 1, s);
        }

        if (count >= 2)
        {
            raw.sqlite3_bind_int64(stmt, 2, p);
        }

        if (count >= 3)
        {
            raw.sqlite3_bind_int64(stmt, 3, o);
        }
    }

    private bool TryResolve(Term? term, out long id)
    {
        if (term is null)
        {
            id = 0;
            return true;
        }

        return TryGetId(term, out id);
    }

    private long GetOrAddId(Term term)
    {
        if (TryGetId(term, out var id))
        {
            return id;
        }

        id = ++_maxId;
        Cache(term, id);
        _newTerms.Add((id, term));
        return id;
    }

    private void FlushTerms()
    {
        foreach (var (id, term) in _newTerms)
        {
            raw.sqlite3_bind_int64(_insertTerm, 1, id);
            raw.sqlite3_bind_int(_insertTerm, 2, (int)term.Kind);
            raw.sqlite3_bind_text(_insertTerm, 3, term.Lexical);
            Step(_insertTerm);
        }

        _newTerms.Clear();
    }

    // Small dictionaries (up to FullCacheLimit terms) are read whole, so lookups of unseen terms need no query;
    // larger ones are cached as they are used.
    private void LoadDictionary()
    {
        _ids.Clear();
        _terms.Clear();
        _newTerms.Clear();
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT coalesce(max(id), 0), count(*) FROM terms";
        using (var reader = cmd.ExecuteReader())
        {
            reader.Read();
            _maxId = reader.GetInt64(0);
            _complete = reader.GetInt64(1) <= FullCacheLimit;
        }

        if (!_complete)
        {
            return;
        }

        cmd.CommandText = "SELECT id, kind, lex FROM terms";
        using var all = cmd.ExecuteReader();
        while (all.Read())
        {
            Cache(Term.FromLexical((TermKind)all.GetInt32(1), all.GetString(2)), all.GetInt64(0));
        }
    }

    private void Cache(Term term, long id)
    {
        _ids[term] = id;
        _terms[id] = term;
    }

    private T InTransaction<T>(Func<T> work)
    {
        if (_transaction is not null)
        {
            return work();
        }

        using var batch = BeginBatch();
        var result = work();
        batch.Commit();
        return result;
    }

    private sqlite3_stmt Prepare(string sql)
    {
        var rc = raw.sqlite3_prepare_v3(_db, sql, raw.SQLITE_PREPARE_PERSISTENT, out var stmt);
        return rc == 0 ? stmt : throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc);
    }

    // steps a statement; for a write (no row) resets it and its bindings' use so it can run again
    private int Step(sqlite3_stmt stmt)
    {
        var rc = raw.sqlite3_step(stmt);
        if (rc == SqliteRow)
        {
            return rc;
        }

        raw.sqlite3_reset(stmt);
        return rc == SqliteDone ? rc : throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc);
    }

    private void Exec(string sql)
    {
        var rc = raw.sqlite3_exec(_db, sql);
        if (rc != 0)
        {
            throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc);
        }
    }

    private void Execute(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>An open transaction of a <see cref="TripleStore"/>; dispose without <see cref="Commit"/> to roll back.</summary>
    public sealed class Batch : IDisposable
    {
        private TripleStore? _store;

        internal Batch(TripleStore store) => _store = store;

        /// <summary>Commits the batch.</summary>
        public void Commit()
        {
            _store?.EndBatch(commit: true);
            _store = null;
        }

        /// <inheritdoc />
        public void Dispose()
        {
            _store?.EndBatch(commit: false);
            _store = null;
        }
    }
}
