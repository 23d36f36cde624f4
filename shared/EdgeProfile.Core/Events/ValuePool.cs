using System.Collections.Concurrent;

namespace EdgeProfile.Core.Events;

/// <summary>
/// One shared string per distinct catalogue value (product id, name, category) seen in events, so that the
/// long-lived state they end up in (a profile's recent items, distinct-value sets, last values) points at strings
/// that are already old rather than at a fresh copy from each event. A fresh copy stored into old state is what made
/// the garbage collector's young collections slow at the edge: it has to scan every old object written with a young
/// reference (bench-features, README). Bounded: once <see cref="Capacity"/> values are held, new values are returned
/// unshared. Thread-safe. Never holds customers' own text (search terms, identifiers).
/// </summary>
public sealed class ValuePool
{
    /// <summary>Distinct values kept by <see cref="Shared"/> (at most ~25 MB of strings, a store's catalogue over).</summary>
    public const int DefaultCapacity = 100_000;

    /// <summary>Longest value shared; longer ones are returned as they are (profiles keep names up to 100 characters).</summary>
    public const int MaxLength = 128;

    private readonly ConcurrentDictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

    /// <summary>A pool holding at most <paramref name="capacity"/> values.</summary>
    public ValuePool(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
        _bySpan = _values.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The pool the event readers use.</summary>
    public static ValuePool Shared { get; } = new();

    /// <summary>Most values held.</summary>
    public int Capacity { get; }

    /// <summary>Values held.</summary>
    public int Count => _values.Count;

    /// <summary>The shared instance equal to <paramref name="value"/> (null stays null).</summary>
    public string? Intern(string? value)
    {
        if (value is null || value.Length > MaxLength)
        {
            return value;
        }

        if (_values.TryGetValue(value, out var shared))
        {
            return shared;
        }

        return _values.Count < Capacity ? _values.GetOrAdd(value, value) : value;
    }

    /// <summary>The shared instance equal to <paramref name="value"/>, made only when the pool has none yet.</summary>
    public string Intern(ReadOnlySpan<char> value)
    {
        if (value.Length <= MaxLength && _bySpan.TryGetValue(value, out var shared))
        {
            return shared;
        }

        var made = value.ToString();
        return value.Length <= MaxLength && _values.Count < Capacity ? _values.GetOrAdd(made, made) : made;
    }
}
