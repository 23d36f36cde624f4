using System.Globalization;
using EdgeProfile.Core.Events;

namespace EdgeProfile.Core.Features;

/// <summary>
/// One event as the compiled definitions read it, reused from event to event: the type's bit, and the field texts
/// of <see cref="FeatureInput.Text"/> with small caches so that recurring categories, days and hours do not allocate
/// a new string per event. Product and store texts come through a small pool too: state keeps the strings it is given
/// (a distinct count's values, a top-k's keys) for as long as the windows last, and one string per recurring value is
/// kept instead of one per event. Not thread-safe; one per engine.
/// </summary>
internal sealed class EventFacts
{
    private const int CacheLimit = 4096;
    private static readonly int FieldCount = Enum.GetValues<FeatureField>().Max(f => (int)f) + 1;

    private readonly Dictionary<string, string> _normalized = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _topLevels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _pooled = new(StringComparer.Ordinal);
    private readonly long[] _numberBits = new long[FieldCount];
    private readonly string?[] _numberTexts = new string?[FieldCount];
    private readonly string?[] _memo = new string?[FieldCount];
    private readonly int[] _memoStamp = new int[FieldCount];
    private int _stamp;

    public FeatureInput Input { get; private set; } = null!;

    public int TypeIndex { get; private set; }

    public ulong TypeBit { get; private set; }

    public long TimestampMs { get; private set; }

    public void Reset(FeatureInput input)
    {
        Input = input;
        TimestampMs = input.TimestampMs;
        TypeIndex = (int)input.Type;
        TypeBit = TypeIndex is >= 0 and < 64 ? 1UL << TypeIndex : 0;
        if (++_stamp == 0)
        {
            Array.Clear(_memoStamp);
            _stamp = 1;
        }
    }

    /// <summary>Whether a compiled type mask (0: every type) lets this event through.</summary>
    public bool Passes(ulong typeMask) => typeMask == 0 || (typeMask & TypeBit) != 0;

    public double? Number(FeatureField field) => Input.Number(field);

    /// <summary>Exactly <see cref="FeatureInput.Text"/>, computed once per event and cached across events.</summary>
    public string? Text(FeatureField field)
    {
        var i = (int)field;
        if ((uint)i >= (uint)FieldCount)
        {
            return Input.Text(field);
        }

        if (_memoStamp[i] == _stamp)
        {
            return _memo[i];
        }

        var text = Compute(field, i);
        _memo[i] = text;
        _memoStamp[i] = _stamp;
        return text;
    }

    private string? Compute(FeatureField field, int i)
    {
        switch (field)
        {
            case FeatureField.None:
                return null;
            case FeatureField.Sku:
                return Input.Sku is { } sku ? Pooled(sku) : null;
            case FeatureField.Channel:
                return Input.Channel;
            case FeatureField.Store:
                return Input.Store is { } store ? Pooled(store) : null;
            case FeatureField.Type:
                return Input.Type.Name();
            case FeatureField.Category:
                return Input.Category is { } c ? Normalized(c) : null;
            case FeatureField.CategoryTop:
                return Input.Category is { } t ? TopLevel(t) : null;
        }

        if (Input.Number(field) is not { } n)
        {
            return null;
        }

        var bits = BitConverter.DoubleToInt64Bits(n);
        if (_numberTexts[i] is { } cached && _numberBits[i] == bits)
        {
            return cached;
        }

        var text = n.ToString(CultureInfo.InvariantCulture);
        _numberBits[i] = bits;
        _numberTexts[i] = text;
        return text;
    }

    /// <summary>An equal string seen before (the same instance from event to event), or this one, now pooled.</summary>
    private string Pooled(string text)
    {
        if (_pooled.TryGetValue(text, out var v))
        {
            return v;
        }

        if (_pooled.Count >= CacheLimit)
        {
            _pooled.Clear();
        }

        _pooled[text] = text;
        return text;
    }

    private string Normalized(string category)
    {
        if (_normalized.TryGetValue(category, out var v))
        {
            return v;
        }

        if (_normalized.Count >= CacheLimit)
        {
            _normalized.Clear();
        }

        v = CategoryMatcher.Normalize(category);
        _normalized[category] = v;
        return v;
    }

    private string? TopLevel(string category)
    {
        if (_topLevels.TryGetValue(category, out var v))
        {
            return v;
        }

        if (_topLevels.Count >= CacheLimit)
        {
            _topLevels.Clear();
        }

        v = CategoryMatcher.TopLevel(category);
        _topLevels[category] = v;
        return v;
    }

    /// <summary>
    /// <see cref="CategoryMatcher.Matches"/> without allocating: <paramref name="levels"/> is the prefix already split
    /// (trimmed, empty levels removed); the category is walked level by level the same way.
    /// </summary>
    public static bool MatchesPrefix(string[] levels, string? category)
    {
        if (category is null)
        {
            return false;
        }

        var level = 0;
        var pos = 0;
        while (level < levels.Length)
        {
            if (pos > category.Length)
            {
                return false;
            }

            var next = category.IndexOf('>', pos);
            if (next < 0)
            {
                next = category.Length;
            }

            var segment = category.AsSpan(pos, next - pos).Trim();
            pos = next + 1;
            if (segment.IsEmpty)
            {
                continue;
            }

            if (!segment.Equals(levels[level], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            level++;
        }

        return true;
    }
}
