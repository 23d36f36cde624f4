using EdgeProfile.Core.Events;

namespace EdgeProfile.Core.Features;

/// <summary>
/// A feature set compiled for the hot path: per definition its type mask, split category prefix, window sizes in
/// milliseconds and aggregator; per event type the definitions that accept it.
/// </summary>
internal sealed class StreamPlan
{
    private readonly int[][] _byType;
    private readonly int[] _anyType;

    public StreamPlan(IReadOnlyList<FeatureDefinition> definitions)
    {
        Definitions = new CompiledDefinition[definitions.Count];
        ById = new Dictionary<string, CompiledDefinition>(definitions.Count, StringComparer.Ordinal);
        for (var i = 0; i < definitions.Count; i++)
        {
            var cd = new CompiledDefinition(definitions[i], this, i);
            if (!ById.TryAdd(cd.Id, cd))
            {
                throw new ArgumentException($"feature set: definition '{cd.Id}' appears twice", nameof(definitions));
            }

            Definitions[i] = cd;
        }

        var typeCount = Enum.GetValues<EventType>().Max(t => (int)t) + 1;
        _byType = new int[typeCount][];
        for (var t = 0; t < typeCount; t++)
        {
            var bit = 1UL << t;
            _byType[t] = [.. Definitions.Where(d => d.TypeMask == 0 || (d.TypeMask & bit) != 0).Select(d => d.Index)];
        }

        _anyType = [.. Definitions.Where(d => d.TypeMask == 0).Select(d => d.Index)];
    }

    public CompiledDefinition[] Definitions { get; }

    public Dictionary<string, CompiledDefinition> ById { get; }

    /// <summary>Indexes of the definitions whose type filter lets <paramref name="typeIndex"/> through.</summary>
    public int[] ForType(int typeIndex) => (uint)typeIndex < (uint)_byType.Length ? _byType[typeIndex] : _anyType;
}

/// <summary>One definition compiled: everything the engine needs per event without touching the record again.</summary>
internal sealed class CompiledDefinition
{
    public CompiledDefinition(FeatureDefinition definition, StreamPlan? plan, int index)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (definition.Window is null || definition.Aggregation is null)
        {
            throw new ArgumentException($"feature '{definition.Name}': window and aggregation are required", nameof(definition));
        }

        Definition = definition;
        Plan = plan;
        Index = index;
        Id = definition.Id;
        TypeMask = Aggregator.MaskOf(definition.EventTypes);
        PrefixLevels = definition.CategoryPrefix?.Split('>', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Kind = definition.Window.Kind;
        var w = definition.Window;
        switch (Kind)
        {
            case WindowKind.Tumbling:
                SizeMs = StreamMath.Ms(w.Size);
                HopMs = SizeMs;
                break;
            case WindowKind.Sliding:
                SizeMs = StreamMath.Ms(w.Size);
                HopMs = StreamMath.Ms(w.Hop);
                break;
            case WindowKind.Session:
                GapMs = StreamMath.Ms(w.Gap);
                break;
        }

        if (Kind is WindowKind.Tumbling or WindowKind.Sliding && (SizeMs <= 0 || HopMs <= 0 || HopMs > SizeMs || SizeMs % HopMs != 0))
        {
            throw new ArgumentException($"feature '{Id}': window {w} needs a positive size that is a multiple of the hop", nameof(definition));
        }

        if (Kind == WindowKind.Session && GapMs <= 0)
        {
            throw new ArgumentException($"feature '{Id}': a session window needs a positive gap", nameof(definition));
        }

        TtlMs = definition.Ttl is { } ttl ? StreamMath.Ms(ttl) : null;
        Aggregator = Aggregator.Compile(definition.Aggregation);
        Scratch = Aggregator.Create();
    }

    public FeatureDefinition Definition { get; }

    /// <summary>The plan this definition is part of; null for one compiled on its own (replay, read of another set).</summary>
    public StreamPlan? Plan { get; }

    public int Index { get; }

    public string Id { get; }

    public ulong TypeMask { get; }

    public string[]? PrefixLevels { get; }

    public WindowKind Kind { get; }

    public long SizeMs { get; }

    public long HopMs { get; }

    public long GapMs { get; }

    public long? TtlMs { get; }

    public Aggregator Aggregator { get; }

    /// <summary>Reused to merge panes when a window is read or emitted (the engine is single-threaded).</summary>
    public Accumulator Scratch { get; }

    /// <summary>A new, empty pane starting at <paramref name="start"/>, reusing a purged one when there is one.</summary>
    public Accumulator NewPane(long start)
    {
        if (_pool.TryPop(out var pane))
        {
            pane.Reset(start);
            return pane;
        }

        var fresh = Aggregator.Create();
        fresh.Start = start;
        return fresh;
    }

    /// <summary>Keeps a purged pane for reuse (bounded), so steady-state processing allocates little.</summary>
    public void Recycle(Accumulator pane)
    {
        if (_pool.Count < PoolLimit)
        {
            _pool.Push(pane);
        }
    }

    private const int PoolLimit = 1024;
    private readonly Stack<Accumulator> _pool = new();

    public bool AcceptsCategory(EventFacts e) => PrefixLevels is null || EventFacts.MatchesPrefix(PrefixLevels, e.Input.Category);

    public bool Accepts(EventFacts e) => e.Passes(TypeMask) && AcceptsCategory(e);

    /// <summary>Whether restored state was built by this definition's layout.</summary>
    public bool Fits(DefinitionState state) =>
        state.Kind == Kind && state.SizeMs == SizeMs && state.HopMs == HopMs && state.GapMs == GapMs && state.Shape == Aggregator.Shape;

    public DefinitionState NewState(EventIds ids) => new(Id, Kind, SizeMs, HopMs, GapMs, Aggregator.Shape, ids);
}
