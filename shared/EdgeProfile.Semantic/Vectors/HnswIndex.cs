using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;

namespace EdgeProfile.Semantic.Vectors;

/// <summary>
/// Approximate cosine nearest-neighbour search with a Hierarchical Navigable Small World graph (Malkov &amp; Yashunin,
/// 2018): layered proximity graphs, greedy descent through the upper layers, a best-first beam of width ef on layer 0,
/// and the paper's heuristic neighbour selection (algorithm 4, without candidate extension or kept pruned links) both
/// for new nodes and when an over-full neighbour list is shrunk.
/// <para>
/// Updates: <see cref="Upsert"/> of a new key inserts a node; of an existing key it tombstones the old node and inserts
/// a freshly linked node with the new vector (an identical vector is a no-op). <see cref="Remove"/> tombstones the node.
/// Deletion is lazy: a tombstoned node stays in the graph as a routing node (searches walk through it so the graph
/// keeps its connectivity) but is never returned and its key is free; <see cref="DeletedCount"/> says how many there
/// are and <see cref="Compact"/> rebuilds a graph of the live vectors only when they become a large share.
/// </para>
/// <para>
/// Threads: any number of concurrent searches with one writer at a time (a reader-writer lock: searches share it,
/// each update holds it exclusively). <see cref="UpsertRange"/> inserts a batch on several threads inside that
/// exclusive section, with striped per-node locks around neighbour lists as hnswlib does.
/// </para>
/// <para>
/// Persistence: <see cref="Save"/> writes a versioned little-endian binary file (options including
/// <see cref="HnswOptions.EfSearch"/>, the layer RNG state, keys, tombstones, vectors and all links) ending in a 64-bit
/// checksum; <see cref="Load"/> restores an index that returns identical results and refuses truncated, corrupt or
/// inconsistent files with <see cref="InvalidDataException"/>.
/// </para>
/// </summary>
public sealed class HnswIndex : IVectorIndex, IDisposable
{
    private const int FormatVersion = 1;
    private const int MaxLevelCap = 31;
    private const int StripeCount = 1024;
    private static readonly byte[] Magic = "EPHNSW\u001A\0"u8.ToArray();

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly object _entryLock = new();
    private readonly object[] _stripes;
    private readonly ConcurrentBag<SearchContext> _contexts = [];
    private readonly Dictionary<long, int> _nodesByKey = [];
    private readonly int _m;
    private readonly int _maxM0;
    private readonly int _stride0;
    private readonly int _strideUpper;
    private readonly double _levelMultiplier;

    private float[] _vectors;
    private long[] _keys;
    private byte[] _levels;
    private byte[] _deleted;
    private int[] _links0;
    private int[]?[] _upper;
    private int _capacity;
    private int _nodeCount;
    private int _liveCount;
    private int _entry = -1;
    private int _maxLevel = -1;
    private ulong _rngState;
    private volatile bool _concurrent;

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimensions">The length of every vector (at least 1).</param>
    /// <param name="options">The graph settings; <see langword="null"/> uses the defaults.</param>
    public HnswIndex(int dimensions, HnswOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimensions, 1 << 16);
        options ??= new HnswOptions();
        options.Validate();
        Dimensions = dimensions;
        Options = options;
        _m = options.M;
        _maxM0 = options.LevelZeroMaxConnections;
        _stride0 = _maxM0 + 1;
        _strideUpper = _m + 1;
        _levelMultiplier = 1.0 / Math.Log(_m);
        _rngState = unchecked((ulong)options.Seed * 0x9E3779B97F4A7C15UL) ^ 0xD1B54A32D192ED03UL;
        _stripes = new object[StripeCount];
        for (var i = 0; i < StripeCount; i++)
        {
            _stripes[i] = new object();
        }

        _capacity = 16;
        _vectors = new float[_capacity * dimensions];
        _keys = new long[_capacity];
        _levels = new byte[_capacity];
        _deleted = new byte[_capacity];
        _links0 = new int[_capacity * _stride0];
        _upper = new int[_capacity][];
    }

    /// <inheritdoc />
    public int Dimensions { get; }

    /// <summary>The settings of this index (restored by <see cref="Load"/>).</summary>
    public HnswOptions Options { get; }

    /// <inheritdoc />
    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _liveCount;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>Graph nodes that are tombstoned (removed or replaced keys still used for routing).</summary>
    public int DeletedCount
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _nodeCount - _liveCount;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>Bytes held by the index's arrays (vectors, keys, links, capacity included) plus an estimate of the key
    /// dictionary.</summary>
    public long MemoryBytes
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                long bytes = ((long)_vectors.Length * sizeof(float)) + ((long)_keys.Length * sizeof(long)) + _levels.Length + _deleted.Length
                    + ((long)_links0.Length * sizeof(int)) + ((long)_upper.Length * IntPtr.Size);
                for (var i = 0; i < _nodeCount; i++)
                {
                    if (_upper[i] is { } list)
                    {
                        bytes += 24 + ((long)list.Length * sizeof(int));
                    }
                }

                return bytes + ((long)_nodesByKey.Count * 24);
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <inheritdoc />
    public void Upsert(long key, ReadOnlySpan<float> vector)
    {
        var normalised = new float[Dimensions];
        VectorMath.Normalize(vector, normalised, Dimensions, nameof(vector));
        _lock.EnterWriteLock();
        try
        {
            if (_nodesByKey.TryGetValue(key, out var old))
            {
                if (normalised.AsSpan().SequenceEqual(VectorOf(old)))
                {
                    return;
                }

                Tombstone(old);
            }

            EnsureCapacity(_nodeCount + 1);
            var node = Allocate(key, normalised);
            var context = Rent();
            try
            {
                Insert(node, context);
            }
            finally
            {
                _contexts.Add(context);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Adds or replaces many vectors at once, linking them on several threads (striped per-node locks guard the
    /// neighbour lists while the batch is inserted; searches wait for the batch). If the same key appears more than once
    /// the last vector wins. All vectors are validated before anything changes.
    /// </summary>
    /// <param name="keys">The keys, one per vector.</param>
    /// <param name="vectors">The vectors, each of length <see cref="Dimensions"/>.</param>
    /// <param name="maxDegreeOfParallelism">Insertion threads (-1 = all cores, 1 = sequential and reproducible).</param>
    /// <exception cref="ArgumentException">The lists differ in length, or a vector has the wrong length, is zero or is
    /// not finite.</exception>
    public void UpsertRange(IReadOnlyList<long> keys, IReadOnlyList<float[]> vectors, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(vectors);
        if (keys.Count != vectors.Count)
        {
            throw new ArgumentException($"{keys.Count} keys but {vectors.Count} vectors.", nameof(vectors));
        }

        if (maxDegreeOfParallelism == 0 || maxDegreeOfParallelism < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism, "Use -1 (all cores) or a positive thread count.");
        }

        var n = keys.Count;
        var normalised = new float[(long)n * Dimensions];
        for (var i = 0; i < n; i++)
        {
            ArgumentNullException.ThrowIfNull(vectors[i], nameof(vectors));
            VectorMath.Normalize(vectors[i], normalised.AsSpan(i * Dimensions, Dimensions), Dimensions, nameof(vectors));
        }

        _lock.EnterWriteLock();
        try
        {
            EnsureCapacity(_nodeCount + n);
            var first = _nodeCount;
            for (var i = 0; i < n; i++)
            {
                if (_nodesByKey.TryGetValue(keys[i], out var old))
                {
                    Tombstone(old);
                }

                Allocate(keys[i], normalised.AsSpan(i * Dimensions, Dimensions));
            }

            var end = _nodeCount;
            var next = first;
            var context = Rent();
            try
            {
                // The first node of an empty graph becomes the entry point; link sequentially until there is one.
                while (next < end && (_entry < 0 || maxDegreeOfParallelism == 1 || end - next < 64))
                {
                    if (_deleted[next] == 0)
                    {
                        Insert(next, context);
                    }

                    next++;
                }
            }
            finally
            {
                _contexts.Add(context);
            }

            if (next < end)
            {
                _concurrent = true;
                try
                {
                    var threads = maxDegreeOfParallelism == -1 ? Environment.ProcessorCount : maxDegreeOfParallelism;
                    Parallel.For(next, end, new ParallelOptions { MaxDegreeOfParallelism = threads }, Rent, (node, _, ctx) =>
                    {
                        if (_deleted[node] == 0)
                        {
                            Insert(node, ctx);
                        }

                        return ctx;
                    }, _contexts.Add);
                }
                finally
                {
                    _concurrent = false;
                }
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public bool Remove(long key)
    {
        _lock.EnterWriteLock();
        try
        {
            if (!_nodesByKey.TryGetValue(key, out var node))
            {
                return false;
            }

            Tombstone(node);
            return true;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public bool Contains(long key)
    {
        _lock.EnterReadLock();
        try
        {
            return _nodesByKey.ContainsKey(key);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>The stored (unit-length) vector of <paramref name="key"/>, or <see langword="null"/> if absent.</summary>
    /// <param name="key">The caller's key.</param>
    /// <returns>A copy of the normalised vector.</returns>
    public float[]? GetVector(long key)
    {
        _lock.EnterReadLock();
        try
        {
            return _nodesByKey.TryGetValue(key, out var node) ? VectorOf(node).ToArray() : null;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, Func<long, bool>? filter = null) =>
        Search(query, k, Options.EfSearch, filter);

    /// <summary>The (up to) <paramref name="k"/> most similar live vectors, best first, searching layer 0 with a
    /// candidate list of max(<paramref name="ef"/>, <paramref name="k"/>) (larger = better recall, slower).</summary>
    /// <param name="query">The query vector; its length must be <see cref="Dimensions"/>.</param>
    /// <param name="k">How many results to return at most (at least 1).</param>
    /// <param name="ef">The candidate-list size (at least 1).</param>
    /// <param name="filter">If given, only keys for which it returns <see langword="true"/> are returned (filtered-out
    /// and removed nodes are still walked through, so a selective filter costs more graph steps).</param>
    /// <returns>Hits ordered by descending cosine similarity.</returns>
    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, int ef, Func<long, bool>? filter = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ef, 1);
        var context = Rent();
        try
        {
            var q = context.Query(Dimensions);
            VectorMath.Normalize(query, q, Dimensions, nameof(query));
            _lock.EnterReadLock();
            try
            {
                if (_liveCount == 0)
                {
                    return [];
                }

                context.EnsureVisited(_capacity);
                var current = _entry;
                var distance = Distance(q, current);
                for (var level = _maxLevel; level > 0; level--)
                {
                    current = Greedy(q, current, ref distance, level, context);
                }

                SearchLayer(context, q, current, distance, Math.Max(ef, k), 0, true, filter);
                var found = context.Results.Count;
                var distances = context.Distances(found);
                var nodes = context.Nodes(found);
                context.Results.DrainAscending(distances, nodes);
                var hits = new VectorHit[Math.Min(k, found)];
                for (var i = 0; i < hits.Length; i++)
                {
                    hits[i] = new VectorHit(_keys[nodes[i]], 1f - distances[i]);
                }

                return hits;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
        finally
        {
            _contexts.Add(context);
        }
    }

    /// <summary>A new index with the same options holding only the live vectors (no tombstones), built on all cores.</summary>
    /// <returns>The compacted index; this one is unchanged.</returns>
    public HnswIndex Compact()
    {
        var keys = new List<long>();
        var vectors = new List<float[]>();
        _lock.EnterReadLock();
        try
        {
            for (var node = 0; node < _nodeCount; node++)
            {
                if (_deleted[node] == 0)
                {
                    keys.Add(_keys[node]);
                    vectors.Add(VectorOf(node).ToArray());
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }

        var compacted = new HnswIndex(Dimensions, Options);
        compacted.UpsertRange(keys, vectors);
        return compacted;
    }

    /// <summary>Writes the whole index (format version 1, see the class remarks) to <paramref name="stream"/>.</summary>
    /// <param name="stream">A writable stream; left open.</param>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The index file format is little-endian.");
        }

        _lock.EnterReadLock();
        try
        {
            var hashed = new ChecksumStream(stream);
            using (var writer = new BinaryWriter(hashed, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(FormatVersion);
                writer.Write(Dimensions);
                writer.Write(Options.M);
                writer.Write(Options.MaxM0 ?? 0);   // 0 = "2 × M"
                writer.Write(Options.EfConstruction);
                writer.Write(Options.EfSearch);
                writer.Write(Options.Seed);
                writer.Write(_rngState);
                writer.Write(_nodeCount);
                writer.Write(_liveCount);
                writer.Write(_entry);
                writer.Write(_maxLevel);
                var n = _nodeCount;
                writer.Write(MemoryMarshal.AsBytes(_keys.AsSpan(0, n)));
                writer.Write(_levels.AsSpan(0, n));
                writer.Write(_deleted.AsSpan(0, n));
                writer.Write(MemoryMarshal.AsBytes(_vectors.AsSpan(0, n * Dimensions)));
                writer.Write(MemoryMarshal.AsBytes(_links0.AsSpan(0, n * _stride0)));
                for (var node = 0; node < n; node++)
                {
                    if (_levels[node] > 0)
                    {
                        writer.Write(MemoryMarshal.AsBytes(_upper[node].AsSpan(0, _levels[node] * _strideUpper)));
                    }
                }

                writer.Flush();
            }

            Span<byte> trailer = stackalloc byte[sizeof(ulong)];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(trailer, hashed.Hash);
            stream.Write(trailer);
            stream.Flush();
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Reads an index written by <see cref="Save"/>, options (including <see cref="HnswOptions.EfSearch"/>)
    /// and all.</summary>
    /// <param name="stream">A readable stream positioned at the start of the index; left open.</param>
    /// <returns>The index, answering exactly as the saved one did.</returns>
    /// <exception cref="InvalidDataException">The data is not an index file of a supported version, is truncated, fails
    /// its checksum, or is internally inconsistent.</exception>
    public static HnswIndex Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The index file format is little-endian.");
        }

        try
        {
            return LoadCore(stream);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The HNSW index file is truncated.", e);
        }
    }

    /// <summary>Releases the reader-writer lock.</summary>
    public void Dispose() => _lock.Dispose();

    private static HnswIndex LoadCore(Stream stream)
    {
        var remaining = stream.CanSeek ? stream.Length - stream.Position : long.MaxValue;
        var hashed = new ChecksumStream(stream);
        using var reader = new BinaryReader(hashed, Encoding.UTF8, leaveOpen: true);
        Span<byte> magic = stackalloc byte[Magic.Length];
        hashed.ReadExactly(magic);
        if (!magic.SequenceEqual(Magic))
        {
            throw new InvalidDataException("Not an EdgeProfile HNSW index file (bad magic bytes).");
        }

        var version = reader.ReadInt32();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Unsupported HNSW index file version {version} (this build reads version {FormatVersion}).");
        }

        var dimensions = reader.ReadInt32();
        var m = reader.ReadInt32();
        var savedMaxM0 = reader.ReadInt32();
        var maxM0 = savedMaxM0 == 0 ? 2 * m : savedMaxM0;
        var efConstruction = reader.ReadInt32();
        var efSearch = reader.ReadInt32();
        var seed = reader.ReadInt32();
        var rngState = reader.ReadUInt64();
        var nodeCount = reader.ReadInt32();
        var liveCount = reader.ReadInt32();
        var entry = reader.ReadInt32();
        var maxLevel = reader.ReadInt32();
        if (dimensions < 1 || dimensions > 1 << 16 || m < 2 || m > 1024 || maxM0 < m || maxM0 > 4096 || efConstruction < 1 || efSearch < 1)
        {
            throw new InvalidDataException($"The HNSW index header is invalid (dimensions {dimensions}, M {m}, MaxM0 {maxM0}, efConstruction {efConstruction}, efSearch {efSearch}).");
        }

        var minimumBytes = (long)nodeCount * (sizeof(long) + 2 + ((long)dimensions * sizeof(float)) + ((long)(maxM0 + 1) * sizeof(int)));
        if (nodeCount < 0 || liveCount < 0 || liveCount > nodeCount || entry < -1 || entry >= nodeCount || (entry == -1) != (nodeCount == 0)
            || maxLevel < -1 || maxLevel > MaxLevelCap || (long)nodeCount * dimensions > Array.MaxLength || minimumBytes > remaining)
        {
            throw new InvalidDataException($"The HNSW index header is invalid or the file is truncated ({nodeCount} nodes, {liveCount} live, entry {entry}, top layer {maxLevel}).");
        }

        var options = new HnswOptions { M = m, MaxM0 = savedMaxM0 == 0 ? null : savedMaxM0, EfConstruction = efConstruction, EfSearch = efSearch, Seed = seed };
        var index = new HnswIndex(dimensions, options);
        index.EnsureCapacity(nodeCount);
        index._rngState = rngState;
        hashed.ReadExactly(MemoryMarshal.AsBytes(index._keys.AsSpan(0, nodeCount)));
        hashed.ReadExactly(index._levels.AsSpan(0, nodeCount));
        hashed.ReadExactly(index._deleted.AsSpan(0, nodeCount));
        hashed.ReadExactly(MemoryMarshal.AsBytes(index._vectors.AsSpan(0, nodeCount * dimensions)));
        hashed.ReadExactly(MemoryMarshal.AsBytes(index._links0.AsSpan(0, nodeCount * index._stride0)));
        for (var node = 0; node < nodeCount; node++)
        {
            var level = index._levels[node];
            if (level > MaxLevelCap)
            {
                throw new InvalidDataException($"Node {node} claims layer {level} (at most {MaxLevelCap}).");
            }

            if (level > 0)
            {
                var lists = new int[level * index._strideUpper];
                hashed.ReadExactly(MemoryMarshal.AsBytes(lists.AsSpan()));
                index._upper[node] = lists;
            }
        }

        var expected = hashed.Hash;
        Span<byte> trailer = stackalloc byte[sizeof(ulong)];
        stream.ReadExactly(trailer);
        if (System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(trailer) != expected)
        {
            throw new InvalidDataException("The HNSW index file is corrupt (checksum mismatch).");
        }

        index._nodeCount = nodeCount;
        index.Validate(liveCount, entry, maxLevel);
        index._liveCount = liveCount;
        index._entry = entry;
        index._maxLevel = maxLevel;
        return index;
    }

    private void Validate(int liveCount, int entry, int maxLevel)
    {
        var live = 0;
        for (var node = 0; node < _nodeCount; node++)
        {
            if (_deleted[node] > 1)
            {
                throw new InvalidDataException($"Node {node} has an invalid deletion flag {_deleted[node]}.");
            }

            if (_levels[node] > maxLevel)
            {
                throw new InvalidDataException($"Node {node} is on layer {_levels[node]}, above the top layer {maxLevel}.");
            }

            foreach (var value in VectorOf(node))
            {
                if (!float.IsFinite(value))
                {
                    throw new InvalidDataException($"Node {node} has a non-finite vector component.");
                }
            }

            for (var level = 0; level <= _levels[node]; level++)
            {
                var (array, offset) = ListOf(node, level);
                var count = array[offset];
                if (count < 0 || count > (level == 0 ? _maxM0 : _m))
                {
                    throw new InvalidDataException($"Node {node} has {count} links on layer {level}.");
                }

                for (var j = 1; j <= count; j++)
                {
                    var neighbour = array[offset + j];
                    if (neighbour < 0 || neighbour >= _nodeCount || neighbour == node || _levels[neighbour] < level)
                    {
                        throw new InvalidDataException($"Node {node} has an invalid link to {neighbour} on layer {level}.");
                    }
                }
            }

            if (_deleted[node] == 0)
            {
                live++;
                if (!_nodesByKey.TryAdd(_keys[node], node))
                {
                    throw new InvalidDataException($"Key {_keys[node]} is stored twice.");
                }
            }
        }

        if (live != liveCount)
        {
            throw new InvalidDataException($"The header says {liveCount} live vectors but {live} are stored.");
        }

        if (entry >= 0 && _levels[entry] != maxLevel)
        {
            throw new InvalidDataException($"The entry point {entry} is on layer {_levels[entry]}, not the top layer {maxLevel}.");
        }
    }

    private ReadOnlySpan<float> VectorOf(int node) => new(_vectors, node * Dimensions, Dimensions);

    private float Distance(ReadOnlySpan<float> query, int node) => 1f - VectorMath.Dot(query, new ReadOnlySpan<float>(_vectors, node * Dimensions, Dimensions));

    private (int[] Array, int Offset) ListOf(int node, int level) =>
        level == 0 ? (_links0, node * _stride0) : (_upper[node]!, (level - 1) * _strideUpper);

    private int ReadNeighbours(int node, int level, int[] buffer)
    {
        var (array, offset) = ListOf(node, level);
        if (_concurrent)
        {
            lock (_stripes[node & (StripeCount - 1)])
            {
                var count = array[offset];
                Array.Copy(array, offset + 1, buffer, 0, count);
                return count;
            }
        }

        var n = array[offset];
        Array.Copy(array, offset + 1, buffer, 0, n);
        return n;
    }

    private void EnsureCapacity(int nodes)
    {
        if (nodes <= _capacity)
        {
            return;
        }

        var capacity = Math.Max(nodes, (int)Math.Min(Array.MaxLength / Math.Max(Dimensions, _stride0), _capacity * 2L));
        if ((long)capacity * Dimensions > Array.MaxLength || (long)capacity * _stride0 > Array.MaxLength)
        {
            throw new InvalidOperationException($"The index cannot grow beyond {_capacity} nodes of {Dimensions} dimensions.");
        }

        Array.Resize(ref _vectors, capacity * Dimensions);
        Array.Resize(ref _keys, capacity);
        Array.Resize(ref _levels, capacity);
        Array.Resize(ref _deleted, capacity);
        Array.Resize(ref _links0, capacity * _stride0);
        Array.Resize(ref _upper, capacity);
        _capacity = capacity;
    }

    private int Allocate(long key, ReadOnlySpan<float> normalised)
    {
        var node = _nodeCount++;
        normalised.CopyTo(_vectors.AsSpan(node * Dimensions, Dimensions));
        _keys[node] = key;
        _deleted[node] = 0;
        var level = RandomLevel();
        _levels[node] = (byte)level;
        _links0[node * _stride0] = 0;
        _upper[node] = level > 0 ? new int[level * _strideUpper] : null;
        _nodesByKey[key] = node;
        _liveCount++;
        return node;
    }

    private void Tombstone(int node)
    {
        _deleted[node] = 1;
        _nodesByKey.Remove(_keys[node]);
        _liveCount--;
    }

    private int RandomLevel()
    {
        // SplitMix64, so the layer sequence survives Save/Load.
        var z = _rngState += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        var uniform = ((z >> 11) + 1) * (1.0 / (1UL << 53)); // (0, 1]
        return (int)Math.Min(MaxLevelCap, -Math.Log(uniform) * _levelMultiplier);
    }

    private SearchContext Rent()
    {
        if (!_contexts.TryTake(out var context))
        {
            context = new SearchContext(Math.Max(_maxM0, _m) + 1);
        }

        context.EnsureVisited(_capacity);
        return context;
    }

    private void Insert(int node, SearchContext context)
    {
        var q = VectorOf(node);
        var level = (int)_levels[node];
        int entry, maxLevel;
        lock (_entryLock)
        {
            entry = _entry;
            maxLevel = _maxLevel;
            if (entry < 0)
            {
                _entry = node;
                _maxLevel = level;
                return;
            }
        }

        var current = entry;
        var distance = Distance(q, current);
        for (var lc = maxLevel; lc > level; lc--)
        {
            current = Greedy(q, current, ref distance, lc, context);
        }

        var selected = context.Selected;
        for (var lc = Math.Min(level, maxLevel); lc >= 0; lc--)
        {
            SearchLayer(context, q, current, distance, Options.EfConstruction, lc, false, null);
            var found = context.Results.Count;
            var distances = context.Distances(found);
            var nodes = context.Nodes(found);
            context.Results.DrainAscending(distances, nodes);
            var chosen = SelectNeighbours(distances[..found], nodes[..found], _m, node, selected);

            var (array, offset) = ListOf(node, lc);
            lock (_stripes[node & (StripeCount - 1)])
            {
                selected.AsSpan(0, chosen).CopyTo(array.AsSpan(offset + 1));
                array[offset] = chosen;
            }

            for (var i = 0; i < chosen; i++)
            {
                Connect(selected[i], node, lc, context);
            }

            if (found > 0)
            {
                current = nodes[0];
                distance = distances[0];
            }
        }

        if (level > maxLevel)
        {
            lock (_entryLock)
            {
                if (level > _maxLevel)
                {
                    _entry = node;
                    _maxLevel = level;
                }
            }
        }
    }

    /// <summary>Adds <paramref name="node"/> to <paramref name="target"/>'s list on <paramref name="level"/>, shrinking
    /// an over-full list with the heuristic.</summary>
    private void Connect(int target, int node, int level, SearchContext context)
    {
        var maxConnections = level == 0 ? _maxM0 : _m;
        var (array, offset) = ListOf(target, level);
        lock (_stripes[target & (StripeCount - 1)])
        {
            var count = array[offset];
            for (var j = 1; j <= count; j++)
            {
                if (array[offset + j] == node)
                {
                    return;
                }
            }

            if (count < maxConnections)
            {
                array[offset + 1 + count] = node;
                array[offset] = count + 1;
                return;
            }

            var distances = context.PruneDistances;
            var nodes = context.PruneNodes;
            var t = VectorOf(target);
            for (var j = 0; j < count; j++)
            {
                var neighbour = array[offset + 1 + j];
                nodes[j] = neighbour;
                distances[j] = Distance(t, neighbour);
            }

            nodes[count] = node;
            distances[count] = Distance(t, node);
            distances.AsSpan(0, count + 1).Sort(nodes.AsSpan(0, count + 1));
            var kept = SelectNeighbours(distances.AsSpan(0, count + 1), nodes.AsSpan(0, count + 1), maxConnections, target, context.PruneSelected);
            context.PruneSelected.AsSpan(0, kept).CopyTo(array.AsSpan(offset + 1));
            array[offset] = kept;
        }
    }

    /// <summary>Algorithm 4 of the paper: walk the candidates nearest first and keep one only if it is closer to the
    /// base than to every candidate kept so far.</summary>
    private int SelectNeighbours(ReadOnlySpan<float> distances, ReadOnlySpan<int> candidates, int m, int self, int[] selected)
    {
        var count = 0;
        for (var i = 0; i < candidates.Length && count < m; i++)
        {
            var candidate = candidates[i];
            if (candidate == self)
            {
                continue;
            }

            var vector = VectorOf(candidate);
            var good = true;
            for (var j = 0; j < count; j++)
            {
                if (Distance(vector, selected[j]) < distances[i])
                {
                    good = false;
                    break;
                }
            }

            if (good)
            {
                selected[count++] = candidate;
            }
        }

        return count;
    }

    private int Greedy(ReadOnlySpan<float> q, int current, ref float distance, int level, SearchContext context)
    {
        var buffer = context.Neighbours;
        var changed = true;
        while (changed)
        {
            changed = false;
            var count = ReadNeighbours(current, level, buffer);
            for (var j = 0; j < count; j++)
            {
                var candidate = buffer[j];
                var d = Distance(q, candidate);
                if (d < distance)
                {
                    distance = d;
                    current = candidate;
                    changed = true;
                }
            }
        }

        return current;
    }

    /// <summary>Algorithm 2 of the paper (best-first beam of width <paramref name="ef"/>) from one entry point; the
    /// result heap holds only nodes that pass the tombstone and filter checks when <paramref name="queryMode"/> is set,
    /// every reached node otherwise.</summary>
    private void SearchLayer(SearchContext context, ReadOnlySpan<float> q, int entry, float entryDistance, int ef, int level, bool queryMode, Func<long, bool>? filter)
    {
        var visited = context.Visited;
        var epoch = context.NextEpoch();
        var candidates = context.Candidates;
        var results = context.Results;
        var buffer = context.Neighbours;
        candidates.Clear();
        results.Clear();
        visited[entry] = epoch;
        candidates.Push(-entryDistance, entry);
        var bound = float.MaxValue;
        if (!queryMode || Accept(entry, filter))
        {
            results.Push(entryDistance, entry);
            bound = entryDistance;
        }

        while (candidates.Count > 0)
        {
            var distance = -candidates.TopPriority;
            if (distance > bound && results.Count >= ef)
            {
                break;
            }

            var current = candidates.TopNode;
            candidates.Pop();
            var count = ReadNeighbours(current, level, buffer);
            for (var j = 0; j < count; j++)
            {
                var neighbour = buffer[j];
                if (visited[neighbour] == epoch)
                {
                    continue;
                }

                visited[neighbour] = epoch;
                var d = Distance(q, neighbour);
                if (results.Count < ef || d < bound)
                {
                    candidates.Push(-d, neighbour);
                    if (!queryMode || Accept(neighbour, filter))
                    {
                        results.Push(d, neighbour);
                        if (results.Count > ef)
                        {
                            results.Pop();
                        }

                        bound = results.TopPriority;
                    }
                }
            }
        }
    }

    private bool Accept(int node, Func<long, bool>? filter) => _deleted[node] == 0 && (filter is null || filter(_keys[node]));

    /// <summary>Per-thread scratch space of a search or an insertion (rented from a pool).</summary>
    private sealed class SearchContext(int neighbourCapacity)
    {
        private float[] _distances = new float[256];
        private int[] _nodes = new int[256];
        private float[] _query = [];
        private int _epoch;

        public int[] Visited { get; private set; } = [];

        public DistanceHeap Candidates { get; } = new(256);

        public DistanceHeap Results { get; } = new(256);

        public int[] Neighbours { get; } = new int[neighbourCapacity];

        public int[] Selected { get; } = new int[neighbourCapacity];

        public float[] PruneDistances { get; } = new float[neighbourCapacity + 1];

        public int[] PruneNodes { get; } = new int[neighbourCapacity + 1];

        public int[] PruneSelected { get; } = new int[neighbourCapacity + 1];

        public void EnsureVisited(int capacity)
        {
            if (Visited.Length < capacity)
            {
                Visited = new int[capacity];
                _epoch = 0;
            }
        }

        public int NextEpoch()
        {
            if (_epoch == int.MaxValue)
            {
                Array.Clear(Visited);
                _epoch = 0;
            }

            return ++_epoch;
        }

        public Span<float> Query(int dimensions)
        {
            if (_query.Length != dimensions)
            {
                _query = new float[dimensions];
            }

            return _query;
        }

        public Span<float> Distances(int count)
        {
            if (_distances.Length < count)
            {
                _distances = new float[count * 2];
            }

            return _distances.AsSpan(0, count);
        }

        public Span<int> Nodes(int count)
        {
            if (_nodes.Length < count)
            {
                _nodes = new int[count * 2];
            }

            return _nodes.AsSpan(0, count);
        }
    }
}
