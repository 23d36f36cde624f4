using System.Runtime.CompilerServices;

namespace EdgeProfile.Knowledge.Rules;

/// <summary>A growable array of <see cref="long"/>s (no per-element objects).</summary>
internal sealed class LongBuffer
{
    private long[] items;

    public LongBuffer(int capacity = 16) => items = new long[Math.Max(4, capacity)];

    public int Count { get; private set; }

    public long this[int index] => items[index];

    public ReadOnlySpan<long> Span(int start, int length) => items.AsSpan(start, length);

    public void Add(long value)
    {
        if (Count == items.Length)
        {
            Array.Resize(ref items, items.Length * 2);
        }

        items[Count++] = value;
    }

    public void AddRange(ReadOnlySpan<long> values)
    {
        if (Count + values.Length > items.Length)
        {
            Array.Resize(ref items, Math.Max(items.Length * 2, Count + values.Length));
        }

        if (values.Length <= 8)
        {
            var target = items;
            for (var k = 0; k < values.Length; k++)
            {
                target[Count + k] = values[k];
            }
        }
        else
        {
            values.CopyTo(items.AsSpan(Count));
        }

        Count += values.Length;
    }

    public void Set(int index, long value) => items[index] = value;

    public void Clear() => Count = 0;
}

/// <summary>
/// Variable-length records of <see cref="long"/>s in fixed chunks (never copied when growing), each addressed by an
/// <see cref="int"/>: chunk number × 2^16 + offset, the record's length first.
/// </summary>
internal sealed class RecordStore
{
    private const int ChunkBits = 16;
    private const int ChunkSize = 1 << ChunkBits;
    private readonly List<long[]> chunks = [];
    private int used = ChunkSize;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Append(ReadOnlySpan<long> values)
    {
        var length = values.Length + 1;
        if (used + length > ChunkSize)
        {
            chunks.Add(new long[Math.Max(ChunkSize, length)]);
            used = 0;
        }

        var chunk = chunks[^1];
        var at = used;
        chunk[at] = values.Length;
        for (var k = 0; k < values.Length; k++)
        {
            chunk[at + 1 + k] = values[k];
        }

        used = length > ChunkSize ? ChunkSize : used + length;
        return ((chunks.Count - 1) << ChunkBits) | at;
    }

    public ReadOnlySpan<long> Get(int address)
    {
        var chunk = chunks[address >>> ChunkBits];
        var at = address & (ChunkSize - 1);
        return chunk.AsSpan(at + 1, (int)chunk[at]);
    }
}

/// <summary>Row hashing shared by tables and their indexes (the same mix over a row's values or a key's).</summary>
internal static class RowHash
{
    public const ulong Seed = 0x9E3779B97F4A7C15UL;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong h, long value)
    {
        h = (h ^ (ulong)value) * 0xBF58476D1CE4E5B9UL;
        return h ^ (h >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Finish(ulong h)
    {
        h *= 0x94D049BB133111EBUL;
        return (int)(h ^ (h >> 32));
    }

    public static int Of(ReadOnlySpan<long> values)
    {
        var h = Seed;
        foreach (var v in values)
        {
            h = Mix(h, v);
        }

        return Finish(h);
    }
}

/// <summary>
/// A hash index of a <see cref="Table"/> on some argument positions: per distinct key, the rows holding it in
/// ascending order (a linked list through <c>next</c>), so a scan can stop at the first row past its range.
/// Open addressing; no per-key objects.
/// </summary>
internal sealed class RowIndex
{
    private readonly Table table;
    private readonly int[] positions;
    private Slot[] slots = new Slot[16];
    private int[] next;
    private int used;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public RowIndex(Table table, int[] positions)
    {
        this.table = table;
        this.positions = positions;
        next = new int[Math.Max(16, table.Capacity)];
        for (var row = 0; row < table.Count; row++)
        {
            Insert(row);
        }
    }

    /// <summary>The first row with <paramref name="key"/> (values at the index positions), or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int First(ReadOnlySpan<long> key)
    {
        var hash = RowHash.Of(key);
        var all = slots;
        var mask = all.Length - 1;
        var data = table.Data;
        var arity = table.Arity;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            ref var slot = ref all[i];
            if (slot.Head == 0)
            {
                return -1;
            }

            if (slot.Hash == hash && Matches(data, (slot.Head - 1) * arity, key))
            {
                return slot.Head - 1;
            }
        }
    }

    /// <summary>The next row after <paramref name="row"/> with the same key, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Next(int row) => next[row] - 1;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Insert(int row)
    {
        if (row >= next.Length)
        {
            Array.Resize(ref next, Math.Max(next.Length * 2, row + 1));
        }

        if ((used + 1) * 2 > slots.Length)
        {
            Grow();
        }

        var data = table.Data;
        var arity = table.Arity;
        var offset = row * arity;
        var h = RowHash.Seed;
        foreach (var p in positions)
        {
            h = RowHash.Mix(h, data[offset + p]);
        }

        var hash = RowHash.Finish(h);
        var all = slots;
        var mask = all.Length - 1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            ref var slot = ref all[i];
            if (slot.Head == 0)
            {
                slot.Head = row + 1;
                slot.Tail = row + 1;
                slot.Hash = hash;
                used++;
                return;
            }

            if (slot.Hash == hash && SameKey(data, (slot.Head - 1) * arity, offset))
            {
                next[slot.Tail - 1] = row + 1;
                slot.Tail = row + 1;
                return;
            }
        }
    }

    private bool Matches(long[] data, int offset, ReadOnlySpan<long> key)
    {
        for (var k = 0; k < positions.Length; k++)
        {
            if (data[offset + positions[k]] != key[k])
            {
                return false;
            }
        }

        return true;
    }

    private bool SameKey(long[] data, int a, int b)
    {
        foreach (var p in positions)
        {
            if (data[a + p] != data[b + p])
            {
                return false;
            }
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Grow()
    {
        var old = slots;
        slots = new Slot[old.Length * 2];
        var mask = slots.Length - 1;
        foreach (var entry in old)
        {
            if (entry.Head == 0)
            {
                continue;
            }

            var i = entry.Hash & mask;
            while (slots[i].Head != 0)
            {
                i = (i + 1) & mask;
            }

            slots[i] = entry;
        }
    }

    private struct Slot
    {
        public int Head;
        public int Tail;
        public int Hash;
    }
}

/// <summary>
/// The facts of one predicate and arity as encoded rows (<see cref="Symbols"/>) in one flat row-major array, in
/// insertion order (a row's number is its sequence number, which semi-naive evaluation uses to tell old rows from the
/// delta), deduplicated by an open-addressing set of row numbers, with hash indexes on bound argument positions (built
/// on first use, kept up to date on insert) and, per derived row, a compact provenance record.
/// Rows at <see cref="Visible"/> and after were added in the current round and are not yet read by scans.
/// </summary>
internal sealed class Table
{
    private readonly Dictionary<int, RowIndex> indexes = [];
    private readonly Lock gate = new();
    private RowIndex[] indexList = [];
    private long[] data;
    private long[] set;
    private int capacity;
    private int[]? provenance;
    private RecordStore? records;

    public Table(string predicate, int arity, int capacity = 16)
    {
        Predicate = predicate;
        Arity = arity;
        this.capacity = Math.Max(16, capacity);
        data = new long[this.capacity * arity];
        set = new long[SetSize(this.capacity)];
    }

    public string Predicate { get; }

    public int Arity { get; }

    public long[] Data => data;

    /// <summary>Rows the arrays hold before they grow.</summary>
    public int Capacity => capacity;

    public int Count { get; private set; }

    /// <summary>Rows [0, Visible) are read by scans; later rows were added in the current round.</summary>
    public int Visible { get; set; }

    /// <summary>Rows [DeltaStart, Visible) are the current delta.</summary>
    public int DeltaStart { get; set; }

    /// <summary>Makes every row visible.</summary>
    public void Commit() => Visible = Count;

    public ReadOnlySpan<long> Row(int row) => data.AsSpan(row * Arity, Arity);

    /// <summary>The row equal to <paramref name="row"/>, or -1.</summary>
    public int Find(ReadOnlySpan<long> row) => Find(row, RowHash.Of(row));

    /// <summary>Makes room for <paramref name="rows"/> more rows without growing on the way.</summary>
    public void Reserve(int rows)
    {
        var needed = Count + rows;
        if (needed > capacity)
        {
            Resize(needed);
        }

        if (SetSize(needed) > set.Length)
        {
            Rehash(SetSize(needed));
        }
    }

    /// <summary>Adds <paramref name="row"/> when new: its row number, or -1 when it was there.</summary>
    public int Add(ReadOnlySpan<long> row) => Add(row, RowHash.Of(row));

    /// <summary>Reads the home slots of <paramref name="hashes"/> (rows about to be added), so that their cache misses
    /// overlap; returns a value only to keep the reads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long Touch(ReadOnlySpan<int> hashes)
    {
        var all = set;
        var mask = all.Length - 1;
        long sum = 0;
        foreach (var h in hashes)
        {
            sum += all[h & mask];
        }

        return sum;
    }

    /// <summary>Adds <paramref name="row"/> (whose <see cref="RowHash"/> is <paramref name="hash"/>) when new: its row
    /// number, or -1 when it was there.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Add(ReadOnlySpan<long> row, int hash)
    {
        var mask = set.Length - 1;
        var slot = hash & mask;
        var tag = (long)hash << 32;
        while (true)
        {
            var entry = set[slot];
            if (entry == 0)
            {
                break;
            }

            if ((entry & unchecked((long)0xFFFF_FFFF_0000_0000)) == tag && row.SequenceEqual(data.AsSpan(((int)entry - 1) * Arity, Arity)))
            {
                return -1;
            }

            slot = (slot + 1) & mask;
        }

        var index = Count;
        if (index == capacity)
        {
            Resize(capacity * 2);
        }

        var target = data;
        var offset = index * Arity;
        for (var k = 0; k < row.Length; k++)
        {
            target[offset + k] = row[k];
        }

        if (provenance is not null)
        {
            provenance[index] = -1;
        }

        Count = index + 1;
        set[slot] = tag | (uint)(index + 1);
        if (Count * 2 > set.Length)
        {
            // Grow big sets faster: every rehash rereads the whole set.
            Rehash(set.Length >= 1 << 16 ? set.Length * 4 : set.Length * 2);
        }

        foreach (var ix in indexList)
        {
            ix.Insert(index);
        }

        return index;
    }

    /// <summary>Records the provenance of derived row <paramref name="row"/>.</summary>
    public void SetProvenance(int row, ReadOnlySpan<long> record)
    {
        if (provenance is null)
        {
            provenance = new int[capacity];
            Array.Fill(provenance, -1);
            records = new RecordStore();
        }

        provenance[row] = records!.Append(record);
    }

    /// <summary>The provenance record of <paramref name="row"/>; empty for a base row.</summary>
    public ReadOnlySpan<long> Provenance(int row)
    {
        if (provenance is null || provenance[row] < 0)
        {
            return [];
        }

        return records!.Get(provenance[row]);
    }

    /// <summary>Whether <paramref name="row"/> was given rather than derived.</summary>
    public bool IsBase(int row) => provenance is null || provenance[row] < 0;

    /// <summary>Removes every row (for scratch tables; indexes are dropped).</summary>
    public void Clear()
    {
        if (Count == 0)
        {
            return;
        }

        if (set.Length > 1024 && Count * 16 < set.Length)
        {
            set = new long[1024];
        }
        else
        {
            Array.Clear(set);
        }

        Count = 0;
        Visible = 0;
        DeltaStart = 0;
        provenance = null;
        records = null;
        indexes.Clear();
        indexList = [];
    }

    /// <summary>The index on the positions in <paramref name="mask"/> (built on first use; thread-safe to build).</summary>
    public RowIndex Index(int mask)
    {
        lock (gate)
        {
            if (indexes.TryGetValue(mask, out var existing))
            {
                return existing;
            }

            var index = new RowIndex(this, Positions(mask));
            indexes[mask] = index;
            indexList = [.. indexList, index];
            return index;
        }
    }

    public static int[] Positions(int mask)
    {
        var list = new List<int>();
        for (var i = 0; i < 31; i++)
        {
            if ((mask & (1 << i)) != 0)
            {
                list.Add(i);
            }
        }

        return [.. list];
    }

    private static int SetSize(int rows) => (int)Math.Min(1 << 30, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, rows) * 2));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Find(ReadOnlySpan<long> row, int hash)
    {
        var mask = set.Length - 1;
        var tag = (long)hash << 32;
        for (var slot = hash & mask; ; slot = (slot + 1) & mask)
        {
            var entry = set[slot];
            if (entry == 0)
            {
                return -1;
            }

            if ((entry & unchecked((long)0xFFFF_FFFF_0000_0000)) == tag && row.SequenceEqual(data.AsSpan(((int)entry - 1) * Arity, Arity)))
            {
                return (int)entry - 1;
            }
        }
    }

    private void Resize(int rows)
    {
        capacity = rows;
        Array.Resize(ref data, rows * Arity);
        if (provenance is not null)
        {
            Array.Resize(ref provenance, rows);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Rehash(int size)
    {
        var old = set;
        set = new long[size];
        var mask = size - 1;
        foreach (var entry in old)
        {
            if (entry == 0)
            {
                continue;
            }

            var slot = (int)(entry >> 32) & mask;
            while (set[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }

            set[slot] = entry;
        }
    }
}
