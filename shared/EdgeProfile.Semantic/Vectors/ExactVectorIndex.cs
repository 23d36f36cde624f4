namespace EdgeProfile.Semantic.Vectors;

/// <summary>
/// Brute-force cosine search: every query is compared with every stored vector (SIMD dot products over one
/// contiguous array, split across cores when the set is large). Exact by construction, so it is the reference the
/// approximate <see cref="HnswIndex"/> is measured against, and at one store's scale (tens of thousands of vectors)
/// often fast enough on its own. Concurrent searches with one writer are safe (a reader-writer lock).
/// </summary>
public sealed class ExactVectorIndex : IVectorIndex, IDisposable
{
    /// <summary>Below this many stored floats (vectors × dimensions) a query runs on one thread.</summary>
    public const int ParallelThreshold = 1 << 20;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<long, int> _slots = [];
    private readonly int _maxDegreeOfParallelism;
    private float[] _vectors;
    private long[] _keys;
    private int _count;

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimensions">The length of every vector (at least 1).</param>
    /// <param name="maxDegreeOfParallelism">How many threads one query may use on large sets (-1 = all cores, 1 = never
    /// parallel).</param>
    public ExactVectorIndex(int dimensions, int maxDegreeOfParallelism = -1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        if (maxDegreeOfParallelism == 0 || maxDegreeOfParallelism < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism, "Use -1 (all cores) or a positive thread count.");
        }

        Dimensions = dimensions;
        _maxDegreeOfParallelism = maxDegreeOfParallelism == -1 ? Environment.ProcessorCount : maxDegreeOfParallelism;
        _vectors = new float[16 * dimensions];
        _keys = new long[16];
    }

    /// <inheritdoc />
    public int Dimensions { get; }

    /// <inheritdoc />
    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _count;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>The bytes held by the vectors and keys (capacity included), without the key dictionary.</summary>
    public long MemoryBytes => ((long)_vectors.Length * sizeof(float)) + ((long)_keys.Length * sizeof(long));

    /// <inheritdoc />
    public void Upsert(long key, ReadOnlySpan<float> vector)
    {
        var normalised = new float[Dimensions];
        VectorMath.Normalize(vector, normalised, Dimensions, nameof(vector));
        _lock.EnterWriteLock();
        try
        {
            if (!_slots.TryGetValue(key, out var slot))
            {
                if (_count == _keys.Length)
                {
                    var capacity = _keys.Length * 2;
                    Array.Resize(ref _keys, capacity);
                    Array.Resize(ref _vectors, capacity * Dimensions);
                }

                slot = _count++;
                _slots[key] = slot;
                _keys[slot] = key;
            }

            normalised.CopyTo(_vectors.AsSpan(slot * Dimensions, Dimensions));
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
            if (!_slots.Remove(key, out var slot))
            {
                return false;
            }

            var last = --_count;
            if (slot != last)
            {
                var moved = _keys[last];
                _keys[slot] = moved;
                _vectors.AsSpan(last * Dimensions, Dimensions).CopyTo(_vectors.AsSpan(slot * Dimensions, Dimensions));
                _slots[moved] = slot;
            }

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
            return _slots.ContainsKey(key);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, Func<long, bool>? filter = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var q = new float[Dimensions];
        VectorMath.Normalize(query, q, Dimensions, nameof(query));
        _lock.EnterReadLock();
        try
        {
            var n = _count;
            if (n == 0)
            {
                return [];
            }

            var parts = (long)n * Dimensions >= ParallelThreshold ? Math.Min(_maxDegreeOfParallelism, Math.Max(1, n / 4096)) : 1;
            DistanceHeap merged;
            if (parts <= 1)
            {
                merged = new DistanceHeap(k + 1);
                Scan(q, 0, n, k, filter, merged);
            }
            else
            {
                var heaps = new DistanceHeap[parts];
                Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, p =>
                {
                    var heap = new DistanceHeap(k + 1);
                    Scan(q, (int)((long)n * p / parts), (int)((long)n * (p + 1) / parts), k, filter, heap);
                    heaps[p] = heap;
                });
                merged = heaps[0];
                for (var p = 1; p < parts; p++)
                {
                    var heap = heaps[p];
                    while (heap.Count > 0)
                    {
                        Offer(merged, k, heap.TopPriority, heap.TopNode);
                        heap.Pop();
                    }
                }
            }

            var count = merged.Count;
            var distances = new float[count];
            var slots = new int[count];
            merged.DrainAscending(distances, slots);
            var hits = new VectorHit[count];
            for (var i = 0; i < count; i++)
            {
                hits[i] = new VectorHit(_keys[slots[i]], 1f - distances[i]);
            }

            return hits;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Releases the reader-writer lock.</summary>
    public void Dispose() => _lock.Dispose();

    private void Scan(float[] query, int from, int to, int k, Func<long, bool>? filter, DistanceHeap heap)
    {
        var dimensions = Dimensions;
        var vectors = _vectors;
        for (var slot = from; slot < to; slot++)
        {
            var distance = 1f - VectorMath.Dot(query, vectors.AsSpan(slot * dimensions, dimensions));
            if (heap.Count == k && distance >= heap.TopPriority)
            {
                continue;
            }

            if (filter is not null && !filter(_keys[slot]))
            {
                continue;
            }

            Offer(heap, k, distance, slot);
        }
    }

    private static void Offer(DistanceHeap heap, int k, float distance, int slot)
    {
        if (heap.Count < k)
        {
            heap.Push(distance, slot);
        }
        else if (distance < heap.TopPriority)
        {
            heap.Pop();
            heap.Push(distance, slot);
        }
    }
}
