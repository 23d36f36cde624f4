using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;

namespace EdgeProfile.Semantic.Text;

/// <summary>
/// Keyed vectors made by one text embedder (e.g. product id → embedding of its name and description): add and look
/// up, the normalised mean of several keys (a customer's taste from the products they bought), exact cosine nearest
/// neighbours, batched building from texts, and a versioned binary file format. Vectors from embedders with another
/// <see cref="Name"/> are not comparable with these. Reads may run on several threads at once; writes
/// (<see cref="Add"/>, <see cref="Set"/>) need exclusive access.
/// </summary>
public sealed class EmbeddingTable
{
    /// <summary>The format version <see cref="Save"/> writes (and the only one <see cref="Load"/> reads).</summary>
    public const int FormatVersion = 1;

    /// <summary>The largest key or embedder name <see cref="Load"/> accepts, in UTF-8 bytes.</summary>
    public const int MaxStringBytes = 1 << 20;

    /// <summary>The largest vector length <see cref="Load"/> accepts.</summary>
    public const int MaxDimensions = 1 << 16;

    private static ReadOnlySpan<byte> Magic => "EPTEMB\r\n"u8;

    private readonly List<string> _keys = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private float[] _data = [];
    private float[] _norms = [];

    /// <summary>Creates an empty table for vectors of the embedder named <paramref name="name"/>.</summary>
    /// <param name="name">The <see cref="ITextEmbedder.Name"/> of the embedder that makes the vectors.</param>
    /// <param name="dimensions">The length of every vector.</param>
    public EmbeddingTable(string name, int dimensions)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        Name = name;
        Dimensions = dimensions;
    }

    /// <summary>Creates an empty table for vectors of <paramref name="embedder"/>.</summary>
    public EmbeddingTable(ITextEmbedder embedder)
        : this((embedder ?? throw new ArgumentNullException(nameof(embedder))).Name, embedder.Dimensions)
    {
    }

    /// <summary>The name of the embedder that made the vectors.</summary>
    public string Name { get; }

    /// <summary>The length of every vector.</summary>
    public int Dimensions { get; }

    /// <summary>The number of keys.</summary>
    public int Count => _keys.Count;

    /// <summary>The keys in the order they were first added.</summary>
    public IReadOnlyList<string> Keys => _keys;

    /// <summary>Whether <paramref name="key"/> has a vector.</summary>
    public bool Contains(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _index.ContainsKey(key);
    }

    /// <summary>Adds the vector of a new key (the vector is copied).</summary>
    /// <exception cref="ArgumentException">The key is already present, the vector has the wrong length or a value
    /// that is not finite.</exception>
    public void Add(string key, ReadOnlySpan<float> vector)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_index.ContainsKey(key))
        {
            throw new ArgumentException($"The key '{key}' is already in the table.", nameof(key));
        }
        Set(key, vector);
    }

    /// <summary>Adds the vector of <paramref name="key"/>, or replaces it when the key is present (the vector is
    /// copied).</summary>
    /// <exception cref="ArgumentException">The vector has the wrong length or a value that is not finite.</exception>
    public void Set(string key, ReadOnlySpan<float> vector)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (vector.Length != Dimensions)
        {
            throw new ArgumentException($"The vector has {vector.Length} values; this table's vectors have {Dimensions}.", nameof(vector));
        }
        foreach (float v in vector)
        {
            if (!float.IsFinite(v))
            {
                throw new ArgumentException($"The vector of '{key}' has a value that is not finite.", nameof(vector));
            }
        }

        if (!_index.TryGetValue(key, out int row))
        {
            row = _keys.Count;
            EnsureCapacity(row + 1);
            _keys.Add(key);
            _index.Add(key, row);
        }
        vector.CopyTo(_data.AsSpan(row * Dimensions, Dimensions));
        _norms[row] = Norm(vector);
    }

    /// <summary>A copy of the vector of <paramref name="key"/>, when present.</summary>
    public bool TryGet(string key, [NotNullWhen(true)] out float[]? vector)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_index.TryGetValue(key, out int row))
        {
            vector = Row(row).ToArray();
            return true;
        }
        vector = null;
        return false;
    }

    /// <summary>
    /// The mean of the vectors of the known keys among <paramref name="keys"/> (a key listed twice counts twice;
    /// unknown keys are skipped), scaled to unit length; the zero vector when the known vectors sum to zero, and
    /// <see langword="null"/> when no key is known.
    /// </summary>
    public float[]? Mean(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        double[] sum = new double[Dimensions];
        int known = 0;
        foreach (var key in keys)
        {
            if (key is not null && _index.TryGetValue(key, out int row))
            {
                var vector = Row(row);
                for (int i = 0; i < sum.Length; i++)
                {
                    sum[i] += vector[i];
                }
                known++;
            }
        }
        if (known == 0)
        {
            return null;
        }

        double norm = 0;
        foreach (double v in sum)
        {
            norm += v * v;
        }
        var mean = new float[Dimensions];
        if (norm > 0)
        {
            double scale = 1.0 / Math.Sqrt(norm);
            for (int i = 0; i < mean.Length; i++)
            {
                mean[i] = (float)(sum[i] * scale);
            }
        }
        return mean;
    }

    /// <summary>
    /// The <paramref name="k"/> keys whose vectors have the highest cosine similarity to <paramref name="query"/>
    /// (exact: every vector is compared), best first, ties in key order. Keys with a zero vector (blank texts) and keys
    /// <paramref name="filter"/> rejects are skipped; a zero query gives no results.
    /// </summary>
    /// <param name="query">A vector of <see cref="Dimensions"/> values (need not be unit length).</param>
    /// <param name="k">The largest number of results.</param>
    /// <param name="filter">Which keys may be returned (all when <see langword="null"/>).</param>
    public IReadOnlyList<EmbeddingMatch> MostSimilar(ReadOnlySpan<float> query, int k, Func<string, bool>? filter = null)
    {
        if (query.Length != Dimensions)
        {
            throw new ArgumentException($"The query has {query.Length} values; this table's vectors have {Dimensions}.", nameof(query));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        float queryNorm = Norm(query);
        if (k == 0 || queryNorm == 0 || !float.IsFinite(queryNorm))
        {
            return [];
        }

        // A min-heap of the best k so far; the priority orders worse (lower similarity, then later row) first.
        var heap = new PriorityQueue<int, (float Similarity, int Row)>(k + 1, WorstFirst.Instance);
        for (int row = 0; row < _keys.Count; row++)
        {
            float norm = _norms[row];
            if (norm == 0 || (filter is not null && !filter(_keys[row])))
            {
                continue;
            }
            float similarity = Math.Clamp(Dot(query, Row(row)) / (queryNorm * norm), -1f, 1f);
            if (heap.Count < k)
            {
                heap.Enqueue(row, (similarity, row));
            }
            else if (heap.TryPeek(out _, out var worst) && WorstFirst.Instance.Compare((similarity, row), worst) > 0)
            {
                heap.EnqueueDequeue(row, (similarity, row));
            }
        }

        var matches = new EmbeddingMatch[heap.Count];
        for (int i = matches.Length - 1; i >= 0; i--)
        {
            heap.TryDequeue(out int row, out var priority);
            matches[i] = new EmbeddingMatch(_keys[row], priority.Similarity);
        }
        return matches;
    }

    /// <summary>
    /// Embeds every item's text with <paramref name="embedder"/> in batches of <paramref name="batchSize"/> and returns
    /// the table of the keys' vectors (named after the embedder).
    /// </summary>
    /// <exception cref="ArgumentException">A key occurs twice.</exception>
    /// <exception cref="InvalidOperationException">The embedder returned the wrong number or length of vectors.</exception>
    public static EmbeddingTable Build(ITextEmbedder embedder, IEnumerable<(string Key, string Text)> items, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var table = new EmbeddingTable(embedder);
        var keys = new List<string>(batchSize);
        var texts = new List<string>(batchSize);
        var pending = new HashSet<string>(StringComparer.Ordinal);

        void Flush()
        {
            if (keys.Count == 0)
            {
                return;
            }
            var vectors = embedder.Embed(texts);
            if (vectors is null || vectors.Length != keys.Count)
            {
                throw new InvalidOperationException($"The embedder '{embedder.Name}' returned {vectors?.Length ?? 0} vectors for {keys.Count} texts.");
            }
            for (int i = 0; i < keys.Count; i++)
            {
                if (vectors[i] is null || vectors[i].Length != table.Dimensions)
                {
                    throw new InvalidOperationException($"The embedder '{embedder.Name}' returned a vector of {vectors[i]?.Length ?? 0} values; it declares {table.Dimensions}.");
                }
                table.Add(keys[i], vectors[i]);
            }
            keys.Clear();
            texts.Clear();
            pending.Clear();
        }

        foreach (var (key, text) in items)
        {
            ArgumentNullException.ThrowIfNull(key, nameof(items));
            if (table.Contains(key) || !pending.Add(key))
            {
                throw new ArgumentException($"The key '{key}' occurs more than once.", nameof(items));
            }
            keys.Add(key);
            texts.Add(text ?? string.Empty);
            if (keys.Count == batchSize)
            {
                Flush();
            }
        }
        Flush();
        return table;
    }

    /// <summary>
    /// Writes the table: the magic bytes <c>EPTEMB\r\n</c>, the format version, the embedder name, the dimensions, the
    /// count, then every key (UTF-8, length-prefixed) with its vector (little-endian float32), and a checksum of
    /// everything before it. The stream is left open.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var writer = new ChecksumWriter(stream);
        writer.Write(Magic);
        writer.WriteInt32(FormatVersion);
        writer.WriteString(Name);
        writer.WriteInt32(Dimensions);
        writer.WriteInt32(Count);
        for (int row = 0; row < _keys.Count; row++)
        {
            writer.WriteString(_keys[row]);
            writer.WriteFloats(Row(row));
        }
        writer.WriteChecksum();
        stream.Flush();
    }

    /// <summary>Reads a table written by <see cref="Save"/> (reads exactly its bytes; the stream is left open).</summary>
    /// <exception cref="InvalidDataException">The stream is not such a table, is of another version, truncated or
    /// corrupt.</exception>
    public static EmbeddingTable Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            var reader = new ChecksumReader(stream);
            Span<byte> magic = stackalloc byte[Magic.Length];
            reader.Read(magic);
            if (!magic.SequenceEqual(Magic))
            {
                throw new InvalidDataException("Not an embedding table (wrong magic bytes).");
            }
            int version = reader.ReadInt32();
            if (version != FormatVersion)
            {
                throw new InvalidDataException($"Embedding table format version {version} is not supported (expected {FormatVersion}).");
            }
            string name = reader.ReadString();
            int dimensions = reader.ReadInt32();
            if (string.IsNullOrWhiteSpace(name) || dimensions < 1 || dimensions > MaxDimensions)
            {
                throw new InvalidDataException($"Corrupt embedding table header (embedder '{name}', {dimensions} dimensions).");
            }
            int count = reader.ReadInt32();
            if (count < 0 || (stream.CanSeek && (long)count * (4L + 4L * dimensions) > stream.Length - stream.Position))
            {
                throw new InvalidDataException($"Corrupt or truncated embedding table ({count} vectors declared).");
            }

            var table = new EmbeddingTable(name, dimensions);
            table.EnsureCapacity(count);
            var vector = new float[dimensions];
            for (int i = 0; i < count; i++)
            {
                string key = reader.ReadString();
                reader.ReadFloats(vector);
                if (table.Contains(key))
                {
                    throw new InvalidDataException($"Corrupt embedding table: the key '{key}' occurs twice.");
                }
                foreach (float v in vector)
                {
                    if (!float.IsFinite(v))
                    {
                        throw new InvalidDataException($"Corrupt embedding table: the vector of '{key}' is not finite.");
                    }
                }
                table.Set(key, vector);
            }
            reader.VerifyChecksum();
            return table;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The embedding table is truncated.", e);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException("Corrupt embedding table: a key is not valid UTF-8.", e);
        }
    }

    /// <summary>Writes the table to a file (replacing it).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.Create(path);
        Save(stream);
    }

    /// <summary>Reads a table from a file written by <see cref="Save(string)"/>.</summary>
    public static EmbeddingTable Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        return Load(stream);
    }

    private ReadOnlySpan<float> Row(int row) => _data.AsSpan(row * Dimensions, Dimensions);

    private void EnsureCapacity(int rows)
    {
        if (_norms.Length >= rows)
        {
            return;
        }
        int capacity = Math.Max(rows, Math.Max(16, (int)Math.Min(int.MaxValue / Dimensions, 2L * _norms.Length)));
        Array.Resize(ref _norms, capacity);
        Array.Resize(ref _data, checked(capacity * Dimensions));
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = Vector<float>.Zero;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
            for (int v = 0; v < va.Length; v++)
            {
                sum += va[v] * vb[v];
            }
            i = va.Length * Vector<float>.Count;
        }
        float total = Vector.Sum(sum);
        for (; i < a.Length; i++)
        {
            total += a[i] * b[i];
        }
        return total;
    }

    private static float Norm(ReadOnlySpan<float> v) => MathF.Sqrt(Dot(v, v));

    private sealed class WorstFirst : IComparer<(float Similarity, int Row)>
    {
        public static readonly WorstFirst Instance = new();

        // Lower similarity is worse; among equal similarities the later row is worse.
        public int Compare((float Similarity, int Row) x, (float Similarity, int Row) y)
        {
            int c = x.Similarity.CompareTo(y.Similarity);
            return c != 0 ? c : y.Row.CompareTo(x.Row);
        }
    }

    private sealed class ChecksumWriter(Stream stream)
    {
        private readonly byte[] _buffer = new byte[8];
        private ulong _hash = StableHash.Fnv1aOffsetBasis;

        public void Write(ReadOnlySpan<byte> bytes)
        {
            _hash = StableHash.Checksum(bytes, _hash);
            stream.Write(bytes);
        }

        public void WriteInt32(int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(_buffer, value);
            Write(_buffer.AsSpan(0, 4));
        }

        public void WriteString(string value)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(value);
            WriteInt32(bytes.Length);
            Write(bytes);
        }

        public void WriteFloats(ReadOnlySpan<float> values)
        {
            if (BitConverter.IsLittleEndian)
            {
                Write(MemoryMarshal.AsBytes(values));
                return;
            }
            var bytes = new byte[4 * values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i, 4), values[i]);
            }
            Write(bytes);
        }

        public void WriteChecksum()
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_buffer, _hash);
            stream.Write(_buffer);
        }
    }

    private sealed class ChecksumReader(Stream stream)
    {
        private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        private readonly byte[] _buffer = new byte[8];
        private ulong _hash = StableHash.Fnv1aOffsetBasis;

        public void Read(Span<byte> bytes)
        {
            stream.ReadExactly(bytes);
            _hash = StableHash.Checksum(bytes, _hash);
        }

        public int ReadInt32()
        {
            Read(_buffer.AsSpan(0, 4));
            return BinaryPrimitives.ReadInt32LittleEndian(_buffer);
        }

        public string ReadString()
        {
            int length = ReadInt32();
            if (length < 0 || length > MaxStringBytes || (stream.CanSeek && length > stream.Length - stream.Position))
            {
                throw new InvalidDataException($"Corrupt embedding table: a string of {length} bytes.");
            }
            byte[] bytes = new byte[length];
            Read(bytes);
            return StrictUtf8.GetString(bytes);
        }

        public void ReadFloats(Span<float> values)
        {
            Read(MemoryMarshal.AsBytes(values));
            if (!BitConverter.IsLittleEndian)
            {
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(MemoryMarshal.AsBytes(values.Slice(i, 1)));
                }
            }
        }

        public void VerifyChecksum()
        {
            ulong expected = _hash;
            stream.ReadExactly(_buffer);
            if (BinaryPrimitives.ReadUInt64LittleEndian(_buffer) != expected)
            {
                throw new InvalidDataException("Corrupt embedding table: the checksum does not match.");
            }
        }
    }
}
