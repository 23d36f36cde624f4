using EdgeProfile.Core.Events;

namespace EdgeProfile.Core.Features;

/// <summary>
/// An <see cref="AggregationSpec"/> compiled once per definition: decides what of an event goes into an
/// <see cref="Accumulator"/> and turns an accumulator into a <see cref="FeatureValue"/>.
/// </summary>
internal abstract class Aggregator
{
    private long? _shape;

    /// <summary>The layout of the accumulators this aggregator uses (see <see cref="Accumulator.Shape"/>).</summary>
    public long Shape => _shape ??= Create().Shape;

    public abstract Accumulator Create();

    public abstract void Add(Accumulator acc, EventFacts e);

    public abstract FeatureValue Value(Accumulator acc, long asOfMs);

    /// <summary>The value as a number, for ratio parts.</summary>
    public virtual double? Number(Accumulator acc, long asOfMs) => Value(acc, asOfMs).Number;

    public static Aggregator Compile(AggregationSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Kind switch
        {
            AggregationKind.Count => new CountAggregator(),
            AggregationKind.Sum or AggregationKind.Mean or AggregationKind.Min or AggregationKind.Max => new NumericAggregator(spec.Kind, spec.Field),
            AggregationKind.DistinctCount => new DistinctAggregator(spec.Field),
            AggregationKind.LastValue => new LastValueAggregator(spec.Field),
            AggregationKind.TimeSinceLast => new TimeSinceLastAggregator(),
            AggregationKind.TopK => new TopKAggregator(spec),
            AggregationKind.Ratio => new RatioAggregator(spec),
            _ => throw new ArgumentException($"aggregation '{spec.Kind}' is not supported", nameof(spec)),
        };
    }

    /// <summary>Bit mask of event types (0 for an empty list: every type).</summary>
    public static ulong MaskOf(IReadOnlyList<EventType>? types)
    {
        ulong mask = 0;
        if (types is null)
        {
            return 0;
        }

        foreach (var t in types)
        {
            var i = (int)t;
            if (i is < 0 or >= 64)
            {
                throw new ArgumentException($"event type {t} cannot be compiled into a type mask");
            }

            mask |= 1UL << i;
        }

        return mask;
    }

    public static bool IsNumeric(FeatureField field) =>
        field is FeatureField.Amount or FeatureField.Quantity or FeatureField.Price or FeatureField.Hour or FeatureField.Day;
}

internal sealed class CountAggregator : Aggregator
{
    public override Accumulator Create() => new CountAccumulator();

    public override void Add(Accumulator acc, EventFacts e) => ((CountAccumulator)acc).N++;

    public override FeatureValue Value(Accumulator acc, long asOfMs) => new(((CountAccumulator)acc).N);

    public override double? Number(Accumulator acc, long asOfMs) => ((CountAccumulator)acc).N;
}

internal sealed class NumericAggregator(AggregationKind kind, FeatureField field) : Aggregator
{
    public override Accumulator Create() => new NumericAccumulator();

    public override void Add(Accumulator acc, EventFacts e)
    {
        if (e.Number(field) is { } v)
        {
            ((NumericAccumulator)acc).Add(v);
        }
    }

    public override FeatureValue Value(Accumulator acc, long asOfMs) => Number(acc, asOfMs) is { } n ? new FeatureValue(n) : FeatureValue.None;

    public override double? Number(Accumulator acc, long asOfMs)
    {
        var a = (NumericAccumulator)acc;
        return kind switch
        {
            AggregationKind.Sum => a.Sum,
            _ when a.N == 0 => null,
            AggregationKind.Mean => a.Sum / a.N,
            AggregationKind.Min => a.Min,
            _ => a.Max,
        };
    }
}

internal sealed class DistinctAggregator(FeatureField field) : Aggregator
{
    public override Accumulator Create() => new DistinctAccumulator();

    public override void Add(Accumulator acc, EventFacts e)
    {
        if (e.Text(field) is { } t)
        {
            ((DistinctAccumulator)acc).Add(t);
        }
    }

    public override FeatureValue Value(Accumulator acc, long asOfMs) => new(((DistinctAccumulator)acc).Count);

    public override double? Number(Accumulator acc, long asOfMs) => ((DistinctAccumulator)acc).Count;
}

/// <summary>Last value: a number for numeric fields, a text otherwise; only events that have the field count.</summary>
internal sealed class LastValueAggregator(FeatureField field) : Aggregator
{
    private readonly bool _numeric = IsNumeric(field);

    public override Accumulator Create() => new LastValueAccumulator();

    public override void Add(Accumulator acc, EventFacts e)
    {
        var a = (LastValueAccumulator)acc;
        if (!a.Beats(e.TimestampMs, e.Input.EventId))
        {
            return;
        }

        if (_numeric)
        {
            if (e.Number(field) is { } n)
            {
                a.Set(e.TimestampMs, e.Input.EventId, n);
            }
        }
        else if (e.Text(field) is { } t)
        {
            a.Set(e.TimestampMs, e.Input.EventId, t);
        }
    }

    public override FeatureValue Value(Accumulator acc, long asOfMs)
    {
        var a = (LastValueAccumulator)acc;
        return !a.Has ? FeatureValue.None : a.IsNumber ? new FeatureValue(a.Number) : new FeatureValue(Text: a.Text);
    }

    public override double? Number(Accumulator acc, long asOfMs)
    {
        var a = (LastValueAccumulator)acc;
        return a.Has && a.IsNumber ? a.Number : null;
    }
}

/// <summary>Days from the latest event to the moment read (a window's end when emitted).</summary>
internal sealed class TimeSinceLastAggregator : Aggregator
{
    public override Accumulator Create() => new TimeSinceLastAccumulator();

    public override void Add(Accumulator acc, EventFacts e) => ((TimeSinceLastAccumulator)acc).Add(e.TimestampMs);

    public override FeatureValue Value(Accumulator acc, long asOfMs) => Number(acc, asOfMs) is { } n ? new FeatureValue(n) : FeatureValue.None;

    public override double? Number(Accumulator acc, long asOfMs)
    {
        var a = (TimeSinceLastAccumulator)acc;
        return a.Has ? (asOfMs - (double)a.MaxMs) / StreamMath.MsPerDay : null;
    }
}

/// <summary>
/// Top-k by weight: each event type weighs <see cref="AggregationSpec.WeightOf"/>; types of weight 0 do not count.
/// Event types of equal weight share a slot, so state holds counts and the weights multiply in at read time.
/// </summary>
internal sealed class TopKAggregator : Aggregator
{
    private static readonly EventType[] AllTypes = Enum.GetValues<EventType>();

    private readonly FeatureField _field;
    private readonly int _k;
    private readonly int[] _slotOfType;
    private readonly double[] _slotWeights;

    public TopKAggregator(AggregationSpec spec)
    {
        _field = spec.Field;
        _k = Math.Max(1, spec.K);
        var weights = new SortedSet<double>();
        var maxIndex = 0;
        foreach (var t in AllTypes)
        {
            maxIndex = Math.Max(maxIndex, (int)t);
            var w = spec.WeightOf(t);
            if (w > 0)
            {
                weights.Add(w);
            }
        }

        _slotWeights = [.. weights];
        _slotOfType = new int[maxIndex + 1];
        foreach (var t in AllTypes)
        {
            var w = spec.WeightOf(t);
            _slotOfType[(int)t] = w > 0 ? Array.IndexOf(_slotWeights, w) : -1;
        }
    }

    public override Accumulator Create() => new TopKAccumulator(_slotWeights.Length);

    public override void Add(Accumulator acc, EventFacts e)
    {
        var ti = e.TypeIndex;
        var slot = (uint)ti < (uint)_slotOfType.Length ? _slotOfType[ti] : -1;
        if (slot < 0)
        {
            return;
        }

        if (e.Text(_field) is { } t)
        {
            ((TopKAccumulator)acc).Add(t, slot);
        }
    }

    public override FeatureValue Value(Accumulator acc, long asOfMs)
    {
        var a = (TopKAccumulator)acc;
        if (a.ValueCount == 0)
        {
            return new FeatureValue(Ranking: Array.Empty<RankedValue>());
        }

        var total = Weigh(a.Totals);
        var entries = new (string Value, double Weight)[a.ValueCount];
        var i = 0;
        foreach (var (value, counts) in a.Entries)
        {
            entries[i++] = (value, Weigh(counts.Span));
        }

        Array.Sort(entries, static (x, y) =>
        {
            var c = y.Weight.CompareTo(x.Weight);
            return c != 0 ? c : string.CompareOrdinal(x.Value, y.Value);
        });
        var n = Math.Min(_k, entries.Length);
        var ranking = new RankedValue[n];
        for (var j = 0; j < n; j++)
        {
            ranking[j] = new RankedValue(entries[j].Value, entries[j].Weight, total > 0 ? entries[j].Weight / total : 0);
        }

        return new FeatureValue(Ranking: ranking);
    }

    public override double? Number(Accumulator acc, long asOfMs) => null;

    private double Weigh(ReadOnlySpan<long> counts)
    {
        double sum = 0;
        for (var s = 0; s < counts.Length; s++)
        {
            sum += counts[s] * _slotWeights[s];
        }

        return sum;
    }
}

/// <summary>Numerator value / denominator value; each part sees the definition's events filtered by its own types.</summary>
internal sealed class RatioAggregator : Aggregator
{
    private readonly Aggregator _numerator;
    private readonly Aggregator _denominator;
    private readonly ulong _numeratorTypes;
    private readonly ulong _denominatorTypes;

    public RatioAggregator(AggregationSpec spec)
    {
        if (spec.Numerator is null || spec.Denominator is null)
        {
            throw new ArgumentException("a ratio needs numerator and denominator", nameof(spec));
        }

        if (spec.Numerator.Kind == AggregationKind.Ratio || spec.Denominator.Kind == AggregationKind.Ratio)
        {
            throw new ArgumentException("a ratio part cannot itself be a ratio", nameof(spec));
        }

        _numerator = Compile(spec.Numerator);
        _denominator = Compile(spec.Denominator);
        _numeratorTypes = MaskOf(spec.Numerator.EventTypes);
        _denominatorTypes = MaskOf(spec.Denominator.EventTypes);
    }

    public override Accumulator Create() => new RatioAccumulator(_numerator.Create(), _denominator.Create());

    public override void Add(Accumulator acc, EventFacts e)
    {
        var a = (RatioAccumulator)acc;
        if (e.Passes(_numeratorTypes))
        {
            _numerator.Add(a.Numerator, e);
        }

        if (e.Passes(_denominatorTypes))
        {
            _denominator.Add(a.Denominator, e);
        }
    }

    public override FeatureValue Value(Accumulator acc, long asOfMs) => Number(acc, asOfMs) is { } n ? new FeatureValue(n) : FeatureValue.None;

    public override double? Number(Accumulator acc, long asOfMs)
    {
        var a = (RatioAccumulator)acc;
        var num = _numerator.Number(a.Numerator, asOfMs);
        var den = _denominator.Number(a.Denominator, asOfMs);
        return num is { } n && den is { } d && d != 0 ? n / d : null;
    }
}
