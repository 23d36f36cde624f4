using EdgeProfile.Core.Features;
using EdgeProfile.Edge.Log;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Features;

/// <summary>
/// The edge's online feature store as readers see it: the engine serving the current definitions, the live
/// per-customer state the log writer keeps in memory (read under a lock, so a value is visible as soon as the batch
/// that changed it commits), the last checkpoint in SQLite for everyone else, and the backfill progress.
/// Only the log writer changes it.
/// </summary>
public sealed class FeatureRuntime : IDisposable
{
    private readonly ReaderWriterLockSlim _gate = new(LockRecursionPolicy.NoRecursion);
    private FeatureEngine _engine;
    private long _appliedRevision;
    private long _backfillPending;
    private IReadOnlyList<string> _backfillDefinitions = [];

    /// <summary>Creates the runtime with the configured or built-in definitions (the writer loads the stored ones at start).</summary>
    public FeatureRuntime(IOptions<EdgeOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        StreamOptions = new StreamOptions
        {
            MaxOutOfOrderness = o.Stream.MaxOutOfOrderness,
            SourceOutOfOrderness = new Dictionary<string, TimeSpan>(o.Stream.SourceOutOfOrderness, StringComparer.Ordinal),
            AllowedLateness = o.AllowedLateness,
            SourceIdleTimeout = o.Stream.SourceIdleTimeout,
        };
        InitialSet = string.IsNullOrWhiteSpace(o.Features.DefinitionsFile)
            ? DefaultFeatures.Set
            : FeatureSet.Parse(File.ReadAllText(o.Features.DefinitionsFile)) with { Revision = 0 };
        _engine = new FeatureEngine(InitialSet, StreamOptions);
    }

    /// <summary>Watermark and lateness settings.</summary>
    public StreamOptions StreamOptions { get; }

    /// <summary>The definitions served before any hub published some.</summary>
    public FeatureSet InitialSet { get; }

    /// <summary>The engine of the definitions being served.</summary>
    public FeatureEngine Engine => Volatile.Read(ref _engine);

    /// <summary>The hub registry revision being served (0: local definitions).</summary>
    public long AppliedRevision => Interlocked.Read(ref _appliedRevision);

    /// <summary>Customers whose values of newly added definitions are still being computed from the log.</summary>
    public long BackfillPending => Interlocked.Read(ref _backfillPending);

    /// <summary>Ids (<c>name@vN</c>) of the definitions being backfilled.</summary>
    public IReadOnlyList<string> BackfillDefinitions => Volatile.Read(ref _backfillDefinitions);

    /// <summary>Customers whose live state is in memory.</summary>
    public int LiveCustomers
    {
        get
        {
            _gate.EnterReadLock();
            try
            {
                return Live.Count;
            }
            finally
            {
                _gate.ExitReadLock();
            }
        }
    }

    /// <summary>The live state of customers the writer touched since their last eviction; guarded by the gate.</summary>
    internal Dictionary<string, CustomerState> Live { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Every value of the current definitions for a customer (by primary key) as of <paramref name="asOfMs"/>; null
    /// when the customer has no feature state at all.
    /// </summary>
    public IReadOnlyList<FeatureReading>? Read(EdgeDatabase db, string customerKey, long asOfMs)
    {
        ArgumentNullException.ThrowIfNull(db);
        var engine = Engine;
        _gate.EnterReadLock();
        try
        {
            if (Live.TryGetValue(customerKey, out var live))
            {
                return engine.Read(live, asOfMs);
            }
        }
        finally
        {
            _gate.ExitReadLock();
        }

        // Not live: its last checkpoint is its current state (the writer checkpoints before it evicts), unless the
        // writer takes it up meanwhile, in which case this read is simply one commit old.
        using var c = db.OpenRead();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT state FROM feature_state WHERE customer_key = $k";
        cmd.Parameters.AddWithValue("$k", customerKey);
        return cmd.ExecuteScalar() is byte[] stored ? engine.Read(CustomerState.Deserialize(stored), asOfMs) : null;
    }

    /// <summary>
    /// The values of the definitions named <paramref name="names"/> (in that order; null where the current set has no
    /// such definition) for a customer (by primary key) as of <paramref name="asOfMs"/>; null when the customer has no
    /// feature state at all. Reads only those definitions, for model scoring.
    /// </summary>
    public FeatureReading?[]? Read(EdgeDatabase db, string customerKey, long asOfMs, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(names);
        var engine = Engine;
        var definitions = new FeatureDefinition?[names.Count];
        for (var i = 0; i < definitions.Length; i++)
        {
            definitions[i] = engine.Set.Find(names[i]);
        }

        _gate.EnterReadLock();
        try
        {
            if (Live.TryGetValue(customerKey, out var live))
            {
                return ReadSome(engine, live, definitions, asOfMs);
            }
        }
        finally
        {
            _gate.ExitReadLock();
        }

        using var c = db.OpenRead();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT state FROM feature_state WHERE customer_key = $k";
        cmd.Parameters.AddWithValue("$k", customerKey);
        return cmd.ExecuteScalar() is byte[] stored ? ReadSome(engine, CustomerState.Deserialize(stored), definitions, asOfMs) : null;
    }

    private static FeatureReading?[] ReadSome(FeatureEngine engine, CustomerState state, FeatureDefinition?[] definitions, long asOfMs)
    {
        var readings = new FeatureReading?[definitions.Length];
        for (var i = 0; i < definitions.Length; i++)
        {
            readings[i] = definitions[i] is { } d ? engine.Read(state, d, asOfMs) : null;
        }

        return readings;
    }

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();

    /// <summary>Holds the write side of the gate: readers wait until it is disposed.</summary>
    internal WriteScope Write() => new(_gate);

    internal void Publish(FeatureEngine engine, long revision)
    {
        Volatile.Write(ref _engine, engine);
        Interlocked.Exchange(ref _appliedRevision, revision);
    }

    internal void SetBackfill(long pending, IReadOnlyList<string> definitions)
    {
        Interlocked.Exchange(ref _backfillPending, pending);
        Volatile.Write(ref _backfillDefinitions, definitions);
    }

    /// <summary>The write side of the gate, as a scope.</summary>
    internal readonly struct WriteScope : IDisposable
    {
        private readonly ReaderWriterLockSlim _gate;

        public WriteScope(ReaderWriterLockSlim gate)
        {
            _gate = gate;
            _gate.EnterWriteLock();
        }

        public void Dispose() => _gate.ExitWriteLock();
    }
}
