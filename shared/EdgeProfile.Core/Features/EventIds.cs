namespace EdgeProfile.Core.Features;

/// <summary>
/// The event ids one customer's panes refer to (for lineage and tie-breaks), each pane holding an index here instead
/// of the string. An event updates dozens of panes; storing its id (a new string) into each of those long-lived
/// objects made every young garbage collection scan them all, which was most of its pause at the edge
/// (bench-features, README). Now an event adds its id here once. <see cref="CustomerState"/> drops the ids no pane
/// refers to any more when the table fills. Not thread-safe: one writer per customer.
/// </summary>
internal sealed class EventIds
{
    private const int InitialCapacity = 16;

    private string?[] _ids = new string?[InitialCapacity];
    private int _count;

    /// <summary>Ids held (some may no longer be referred to).</summary>
    public int Count => _count;

    /// <summary>Whether the next new id needs room: time to compact.</summary>
    public bool Full => _count == _ids.Length;

    /// <summary>The id at <paramref name="index"/>; null for a negative index (no event).</summary>
    public string? this[int index] => index < 0 ? null : _ids[index];

    /// <summary>The index of <paramref name="id"/>, added unless it is the latest one added; -1 for null.</summary>
    public int Ref(string? id)
    {
        if (id is null)
        {
            return -1;
        }

        if (_count > 0 && string.Equals(_ids[_count - 1], id, StringComparison.Ordinal))
        {
            return _count - 1;
        }

        if (_count == _ids.Length)
        {
            Array.Resize(ref _ids, _ids.Length * 2);
        }

        _ids[_count] = id;
        return _count++;
    }

    /// <summary>
    /// Keeps only the ids whose <paramref name="used"/> flag is set, in their order, and returns each old index's new
    /// one (-1: dropped). Leaves at least half the table free, growing it if need be.
    /// </summary>
    public int[] Compact(bool[] used)
    {
        var remap = new int[_count];
        var kept = 0;
        for (var i = 0; i < _count; i++)
        {
            if (used[i])
            {
                _ids[kept] = _ids[i];
                remap[i] = kept++;
            }
            else
            {
                remap[i] = -1;
            }
        }

        Array.Clear(_ids, kept, _count - kept);
        _count = kept;
        if (kept * 2 > _ids.Length)
        {
            Array.Resize(ref _ids, _ids.Length * 2);
        }

        return remap;
    }
}
