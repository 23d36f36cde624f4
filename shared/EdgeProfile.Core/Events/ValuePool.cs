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

    // Counted here: ConcurrentDictionary.Count takes every lock of the table, and a full pool asks on every new value.
    private int _count;

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
    public int Count => Volatile.Read(ref _count);

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

        return Add(value);
    }

    /// <summary>The shared instance equal to <paramref name="value"/>, made only when the pool has none yet.</summary>
    public string Intern(ReadOnlySpan<char> value)
    {
        if (value.Length <= MaxLength && _bySpan.TryGetValue(value, out var shared))
        {
            return shared;
        }

        var made = value.ToString();
        return value.Length <= MaxLength ? Add(made) : made;
    }

    // The shared instance once there is room (another thread may have added the same value first), else the value.
    private string Add(string value)
    {
        if (Count >= Capacity)
        {
            return value;
        }

        if (_values.TryAdd(value, value))
        {
            Interlocked.Increment(ref _count);
            return value;
        }

        return _values.TryGetValue(value, out var shared) ? shared : value;
    }
}
