using System.Buffers.Binary;
using System.Runtime.InteropServices;
using EdgeProfile.Semantic.Sequences;

namespace EdgeProfile.Semantic.Item2Vec;

/// <summary>An item and its cosine similarity to the query item.</summary>
/// <param name="Item">Item id.</param>
/// <param name="Similarity">Cosine similarity in [-1, 1].</param>
public readonly record struct SimilarItem(int Item, float Similarity);

/// <summary>
/// One vector per item id 0..<see cref="ItemCount"/> (row 0 is padding and stays unknown), as trained by
/// <see cref="Item2VecTrainer"/> or loaded from another trainer. Items that never occurred in training are "unknown":
/// their row is zero and they are left out of similarity search. Immutable and thread-safe.
/// </summary>
public sealed class ItemVectors
{
    /// <summary>Default of <see cref="ToScorer"/>'s <c>lastItems</c>, chosen on the validation holdout (second-to-last
    /// item) of Amazon Beauty and MovieLens-100k: best or within 1 % of the best HR@10 of 1, 2, 3, 5, 10, 20 and all
    /// items under popularity negatives on both (bench/EdgeProfile.Bench.Item2Vec/README.md).</summary>
    public const int DefaultScorerItems = 3;

    private const int FormatVersion = 1;
    private static readonly byte[] Magic = "EPITEMV\0"u8.ToArray();

    private readonly float[] values;
    private readonly bool[] known;
    private float[]? unit;

    /// <summary>Copies <paramref name="values"/> ((itemCount + 1) × dimensions, row-major) and the
    /// <paramref name="known"/> mask (itemCount + 1; <c>known[0]</c> must be false). Unknown rows are stored as zeros.</summary>
    /// <exception cref="ArgumentException">A length does not match, known[0] is set, or a value is not finite.</exception>
    public ItemVectors(int itemCount, int dimensions, ReadOnlySpan<float> values, ReadOnlySpan<bool> known)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(itemCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        if (values.Length != (long)(itemCount + 1) * dimensions)
        {
            throw new ArgumentException($"values needs (itemCount + 1) × dimensions = {(long)(itemCount + 1) * dimensions} floats, got {values.Length}", nameof(values));
        }
        if (known.Length != itemCount + 1)
        {
            throw new ArgumentException($"known needs itemCount + 1 = {itemCount + 1} entries, got {known.Length}", nameof(known));
        }
        if (known[0])
        {
            throw new ArgumentException("item 0 is padding and cannot be known", nameof(known));
        }
        this.values = values.ToArray();
        this.known = known.ToArray();
        for (var item = 0; item <= itemCount; item++)
        {
            var row = this.values.AsSpan(item * dimensions, dimensions);
            if (!this.known[item])
            {
                row.Clear();
            }
            else
            {
                foreach (var v in row)
                {
                    if (!float.IsFinite(v))
                    {
                        throw new ArgumentException($"item {item} has a value that is not finite", nameof(values));
                    }
                }
            }
        }
        ItemCount = itemCount;
        Dimensions = dimensions;
        KnownCount = this.known.Count(k => k);
    }

    /// <summary>Takes ownership of arrays already checked (the trainer's and Load's).</summary>
    internal ItemVectors(int itemCount, int dimensions, float[] values, bool[] known, Item2VecTrainingReport? training)
    {
        this.values = values;
        this.known = known;
        ItemCount = itemCount;
        Dimensions = dimensions;
        Training = training;
        KnownCount = known.Count(k => k);
    }

    /// <summary>Largest item id; rows run from 0 to this.</summary>
    public int ItemCount { get; }

    /// <summary>Length of every vector.</summary>
    public int Dimensions { get; }

    /// <summary>Items with a vector (seen in training).</summary>
    public int KnownCount { get; }

    /// <summary>How training went; null for vectors built or loaded from a file.</summary>
    public Item2VecTrainingReport? Training { get; }

    /// <summary>The vector of <paramref name="item"/> (zeros when unknown).</summary>
    /// <exception cref="ArgumentOutOfRangeException">item is outside 0..ItemCount.</exception>
    public ReadOnlySpan<float> this[int item]
    {
        get
        {
            CheckItem(item);
            return values.AsSpan(item * Dimensions, Dimensions);
        }
    }

    /// <summary>Whether <paramref name="item"/> has a trained vector (false outside 1..ItemCount).</summary>
    public bool IsKnown(int item) => (uint)item < (uint)known.Length && known[item];

    /// <summary>A unit-length copy of the vector of <paramref name="item"/> (zeros when unknown or zero).</summary>
    public float[] GetNormalized(int item)
    {
        CheckItem(item);
        return Units().AsSpan(item * Dimensions, Dimensions).ToArray();
    }

    /// <summary>A copy in which every known vector has unit length.</summary>
    public ItemVectors ToNormalized() => new(ItemCount, Dimensions, (float[])Units().Clone(), (bool[])known.Clone(), null);

    /// <summary>Cosine similarity of two items (0 when either is unknown).</summary>
    public float Cosine(int a, int b)
    {
        CheckItem(a);
        CheckItem(b);
        var u = Units();
        return Dot(u.AsSpan(a * Dimensions, Dimensions), u.AsSpan(b * Dimensions, Dimensions));
    }

    /// <summary>
    /// The <paramref name="k"/> known items most similar (cosine) to <paramref name="item"/>, best first (ties by id),
    /// leaving out the item itself; empty when the item is unknown.
    /// </summary>
    public IReadOnlyList<SimilarItem> MostSimilar(int item, int k)
    {
        CheckItem(item);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 0);
        if (!IsKnown(item) || k == 0)
        {
            return [];
        }
        var u = Units();
        var query = u.AsSpan(item * Dimensions, Dimensions);
        var heap = new PriorityQueue<int, (float Similarity, int NegatedItem)>(k + 1);
        for (var other = 1; other <= ItemCount; other++)
        {
            if (other == item || !known[other])
            {
                continue;
            }
            var similarity = Dot(query, u.AsSpan(other * Dimensions, Dimensions));
            var key = (similarity, -other);
            if (heap.Count < k)
            {
                heap.Enqueue(other, key);
            }
            else if (heap.TryPeek(out _, out var worst) && key.CompareTo(worst) > 0)
            {
                heap.EnqueueDequeue(other, key);
            }
        }
        var result = new SimilarItem[heap.Count];
        for (var i = result.Length - 1; i >= 0; i--)
        {
            heap.TryDequeue(out var other, out var key);
            result[i] = new SimilarItem(other, key.Similarity);
        }
        return result;
    }

    /// <summary>
    /// A thread-safe next-item scorer: a candidate's score is its cosine with the mean of the unit vectors of the last
    /// <paramref name="lastItems"/> known items of the history (see <see cref="ItemVectorScorer"/>).
    /// </summary>
    public INextItemScorer ToScorer(int lastItems = DefaultScorerItems) => new ItemVectorScorer(this, lastItems);

    /// <summary>
    /// Writes the vectors: magic "EPITEMV\0", int32 version (1), int32 item count, int32 dimensions, one byte per row
    /// (1 = known), the rows as float32 (all little-endian), then a 64-bit FNV-1a checksum of everything after the magic.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var hash = new Fnv64();
        stream.Write(Magic);
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(header, FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], ItemCount);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], Dimensions);
        Write(stream, header, ref hash);
        var flags = new byte[known.Length];
        for (var i = 0; i < known.Length; i++)
        {
            flags[i] = known[i] ? (byte)1 : (byte)0;
        }
        Write(stream, flags, ref hash);
        var buffer = new byte[64 * 1024];
        var perChunk = buffer.Length / sizeof(float);
        for (var offset = 0; offset < values.Length; offset += perChunk)
        {
            var count = Math.Min(perChunk, values.Length - offset);
            for (var i = 0; i < count; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(i * sizeof(float)), values[offset + i]);
            }
            Write(stream, buffer.AsSpan(0, count * sizeof(float)), ref hash);
        }
        Span<byte> checksum = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, hash.Value);
        stream.Write(checksum);
    }

    /// <summary>Reads vectors written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The stream is not such a file, is of another version, is truncated or
    /// fails its checksum.</exception>
    public static ItemVectors Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var hash = new Fnv64();
        Span<byte> magic = stackalloc byte[8];
        ReadExactly(stream, magic, "magic header");
        if (!magic.SequenceEqual(Magic))
        {
            throw new InvalidDataException("not an item-vectors file (wrong magic header)");
        }
        Span<byte> header = stackalloc byte[12];
        ReadExactly(stream, header, "header");
        hash.Append(header);
        var version = BinaryPrimitives.ReadInt32LittleEndian(header);
        var itemCount = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        var dimensions = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"item-vectors format version {version} is not supported (expected {FormatVersion})");
        }
        if (itemCount < 1 || dimensions < 1 || dimensions > 65_536 || (long)(itemCount + 1) * dimensions > Array.MaxLength)
        {
            throw new InvalidDataException($"corrupt item-vectors header: {itemCount} items × {dimensions} dimensions");
        }
        if (stream.CanSeek)
        {
            var expected = (long)(itemCount + 1) * (1 + dimensions * sizeof(float)) + 8;
            if (stream.Length - stream.Position < expected)
            {
                throw new InvalidDataException($"truncated item-vectors file: {expected} more bytes expected, {stream.Length - stream.Position} left");
            }
        }
        var flags = new byte[itemCount + 1];
        ReadExactly(stream, flags, "known flags");
        hash.Append(flags);
        var known = new bool[itemCount + 1];
        for (var i = 0; i < flags.Length; i++)
        {
            if (flags[i] > 1 || (i == 0 && flags[i] != 0))
            {
                throw new InvalidDataException($"corrupt item-vectors file: bad flag {flags[i]} for item {i}");
            }
            known[i] = flags[i] == 1;
        }
        var values = new float[(itemCount + 1) * dimensions];
        var buffer = new byte[64 * 1024];
        var perChunk = buffer.Length / sizeof(float);
        for (var offset = 0; offset < values.Length; offset += perChunk)
        {
            var count = Math.Min(perChunk, values.Length - offset);
            var bytes = buffer.AsSpan(0, count * sizeof(float));
            ReadExactly(stream, bytes, "vectors");
            hash.Append(bytes);
            for (var i = 0; i < count; i++)
            {
                values[offset + i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * sizeof(float))..]);
            }
        }
        Span<byte> checksum = stackalloc byte[8];
        ReadExactly(stream, checksum, "checksum");
        if (BinaryPrimitives.ReadUInt64LittleEndian(checksum) != hash.Value)
        {
            throw new InvalidDataException("corrupt item-vectors file: checksum mismatch");
        }
        for (var item = 0; item <= itemCount; item++)
        {
            var row = values.AsSpan(item * dimensions, dimensions);
            foreach (var v in row)
            {
                if (!float.IsFinite(v) || (!known[item] && v != 0))
                {
                    throw new InvalidDataException($"corrupt item-vectors file: bad value in the row of item {item}");
                }
            }
        }
        return new ItemVectors(itemCount, dimensions, values, known, null);
    }

    /// <summary>Unit-length rows (computed once, on first use).</summary>
    internal float[] Units() => LazyInitializer.EnsureInitialized(ref unit, () =>
    {
        var result = (float[])values.Clone();
        for (var item = 0; item <= ItemCount; item++)
        {
            var row = result.AsSpan(item * Dimensions, Dimensions);
            var norm = MathF.Sqrt(Dot(row, row));
            if (norm > 0)
            {
                foreach (ref var v in row)
                {
                    v /= norm;
                }
            }
        }
        return result;
    });

    internal static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var i = 0;
        var sum = 0f;
        if (System.Numerics.Vector.IsHardwareAccelerated && a.Length >= System.Numerics.Vector<float>.Count)
        {
            var va = MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(b);
            var acc = System.Numerics.Vector<float>.Zero;
            for (var j = 0; j < va.Length; j++)
            {
                acc += va[j] * vb[j];
            }
            sum = System.Numerics.Vector.Sum(acc);
            i = va.Length * System.Numerics.Vector<float>.Count;
        }
        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }

    private void CheckItem(int item)
    {
        if ((uint)item > (uint)ItemCount)
        {
            throw new ArgumentOutOfRangeException(nameof(item), item, $"item ids run from 0 to {ItemCount}");
        }
    }

    private static void Write(Stream stream, ReadOnlySpan<byte> bytes, ref Fnv64 hash)
    {
        hash.Append(bytes);
        stream.Write(bytes);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string part)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"truncated item-vectors file: the stream ends inside the {part}", e);
        }
    }

    /// <summary>64-bit FNV-1a.</summary>
    private struct Fnv64()
    {
        public ulong Value { get; private set; } = 0xCBF29CE484222325UL;

        public void Append(ReadOnlySpan<byte> bytes)
        {
            var h = Value;
            foreach (var b in bytes)
            {
                h = (h ^ b) * 0x100000001B3UL;
            }
            Value = h;
        }
    }
}
