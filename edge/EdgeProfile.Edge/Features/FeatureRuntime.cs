using System.Collections.Concurrent;
using EdgeProfile.Core.Features;
using EdgeProfile.Edge.Log;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Features;

/// <summary>
/// The edge's online feature store as readers see it: the engine that serves the current definitions, the
/// committed per-customer state (memory for customers the writer touched, then SQLite) and the backfill progress. Only the log writer changes it.
/// </summary>
public sealed class FeatureRuntime
{
    private readonly ConcurrentDictionary<string, byte[]> _memory = new(StringComparer.Ordinal);
    private readonly int _memoryLimit;
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
        _memoryLimit = o.Features.MemoryCustomers;
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

    /// <summary>The committed state of a customer (by primary key), or null when the customer has none.</summary>
    public CustomerState? Find(EdgeDatabase db, string customerKey)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (_memory.TryGetValue(customerKey, out var bytes))
        {
            return CustomerState.Deserialize(bytes);
        }

        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT state FROM feature_state WHERE customer_key = $k";
        cmd.Parameters.AddWithValue("$k", customerKey);
        // Only the writer fills the memory: a reader that put what it read here could overwrite a newer commit.
        return cmd.ExecuteScalar() is byte[] stored ? CustomerState.Deserialize(stored) : null;
    }

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

    /// <summary>Keeps a committed state in memory (bounded: past the limit the memory starts over).</summary>
    internal void Remember(string customerKey, byte[] state)
    {
        if (_memoryLimit == 0)
        {
            return;
        }

        if (_memory.Count >= _memoryLimit && !_memory.ContainsKey(customerKey))
        {
            _memory.Clear();
        }

        _memory[customerKey] = state;
    }

    /// <summary>Forgets memory copies (after a rolled-back commit or a definition change).</summary>
    internal void ForgetAll() => _memory.Clear();
}
