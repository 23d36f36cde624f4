namespace EdgeProfile.Core.Features;

/// <summary>
/// The event ids one customer's panes refer to (for lineage and tie-breaks), each pane holding an index here instead
/// of the string. An event updates dozens of panes; storing its id (a new string) into each of those long-lived
/// objects made every young garbage collection scan them all, which was most of its pause at the edge
/// (bench-features, README). Now an event adds its id here once, and as characters: the table holds no string, so
/// adding one writes no reference to a young object into this long-lived one (a census of the agent's heap found
/// these ids the largest group of old-to-young references while they were strings). <see cref="CustomerState"/>
/// drops the ids no pane refers to any more when the table fills. Not thread-safe: one writer per customer.
/// </summary>
internal sealed class EventIds
{
    private const int InitialCapacity = 16;
    private const int InitialChars = InitialCapacity * 16;

    [ThreadStatic]
    private static (EventIds? Owner, int Index, int Version, string? Text) t_last;

    private char[] _chars = new char[InitialChars];
    private int[] _start = new int[InitialCapacity];
    private int[] _length = new int[InitialCapacity];
    private int _count;
    private int _used;

    // Changes whenever an index may start naming another id (compaction), so a cached string is never stale.
    private int _version;

    /// <summary>Ids held (some may no longer be referred to).</summary>
    public int Count => _count;

    /// <summary>Whether the next new id needs room: time to compact.</summary>
    public bool Full => _count == _start.Length;

    /// <summary>
    /// The id at <paramref name="index"/> as a string; null for a negative index (no event). The last string made on
    /// this thread is kept, so the features of one event, which mostly name that event, share one string.
    /// </summary>
    public string? this[int index]
    {
        get
        {
            if (index < 0)
            {
                return null;
            }

            var last = t_last;
            if (ReferenceEquals(last.Owner, this) && last.Index == index && last.Version == _version)
            {
                return last.Text;
            }

            var text = new string(Span(index));
            t_last = (this, index, _version, text);
            return text;
        }
    }

    /// <summary>The characters of the id at <paramref name="index"/> (≥ 0).</summary>
    public ReadOnlySpan<char> Span(int index) => _chars.AsSpan(_start[index], _length[index]);

    /// <summary>
    /// Orders <paramref name="id"/> against the id at <paramref name="index"/> as <see cref="string.CompareOrdinal(string, string)"/>
    /// orders strings (null, or a negative index, first).
    /// </summary>
    public int Compare(string? id, int index) =>
        id is null ? (index < 0 ? 0 : -1)
        : index < 0 ? 1
        : id.AsSpan().SequenceCompareTo(Span(index));

    /// <summary>Orders the ids at two indexes (a negative index, no id, first).</summary>
    public int Compare(int left, int right) =>
        left < 0 ? (right < 0 ? 0 : -1)
        : right < 0 ? 1
        : Span(left).SequenceCompareTo(Span(right));

    /// <summary>The index of <paramref name="id"/>, added unless it is the latest one added; -1 for null.</summary>
    public int Ref(string? id) => id is null ? -1 : Ref(id.AsSpan());

    /// <summary>The index of <paramref name="id"/>, added unless it is the latest one added.</summary>
    public int Ref(ReadOnlySpan<char> id)
    {
        if (_count > 0 && id.SequenceEqual(Span(_count - 1)))
        {
            return _count - 1;
        }

        if (_count == _start.Length)
        {
            Array.Resize(ref _start, _start.Length * 2);
            Array.Resize(ref _length, _length.Length * 2);
        }

        if (_used + id.Length > _chars.Length)
        {
            Array.Resize(ref _chars, Math.Max(_chars.Length * 2, _used + id.Length));
        }

        id.CopyTo(_chars.AsSpan(_used));
        _start[_count] = _used;
        _length[_count] = id.Length;
        _used += id.Length;
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
        var chars = 0;
        for (var i = 0; i < _count; i++)
        {
            if (used[i])
            {
                // Kept ids move towards the front in order, so the copy never overwrites one still to move.
                _chars.AsSpan(_start[i], _length[i]).CopyTo(_chars.AsSpan(chars));
                _start[kept] = chars;
                _length[kept] = _length[i];
                chars += _length[i];
                remap[i] = kept++;
            }
            else
            {
                remap[i] = -1;
            }
        }

        _count = kept;
        _used = chars;
        _version++;
        if (kept * 2 > _start.Length)
        {
            Array.Resize(ref _start, _start.Length * 2);
            Array.Resize(ref _length, _length.Length * 2);
        }

        return remap;
    }
}
