using System.Runtime.CompilerServices;

namespace EdgeProfile.Semantic.Vectors;

/// <summary>A binary max-heap of (priority, node) pairs on plain arrays, reused across searches. A min-heap is the same
/// heap fed with negated priorities.</summary>
internal sealed class DistanceHeap
{
    private float[] _priorities;
    private int[] _nodes;

    public DistanceHeap(int capacity = 64)
    {
        _priorities = new float[Math.Max(capacity, 4)];
        _nodes = new int[_priorities.Length];
    }

    /// <summary>The number of entries.</summary>
    public int Count { get; private set; }

    /// <summary>The largest priority (the heap must not be empty).</summary>
    public float TopPriority
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _priorities[0];
    }

    /// <summary>The node of the largest priority (the heap must not be empty).</summary>
    public int TopNode
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _nodes[0];
    }

    /// <summary>Empties the heap (keeps its arrays).</summary>
    public void Clear() => Count = 0;

    /// <summary>Adds an entry.</summary>
    public void Push(float priority, int node)
    {
        if (Count == _priorities.Length)
        {
            Array.Resize(ref _priorities, Count * 2);
            Array.Resize(ref _nodes, Count * 2);
        }

        var i = Count++;
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (_priorities[parent] >= priority)
            {
                break;
            }

            _priorities[i] = _priorities[parent];
            _nodes[i] = _nodes[parent];
            i = parent;
        }

        _priorities[i] = priority;
        _nodes[i] = node;
    }

    /// <summary>Removes the entry of the largest priority.</summary>
    public void Pop()
    {
        var last = --Count;
        if (last == 0)
        {
            return;
        }

        var priority = _priorities[last];
        var node = _nodes[last];
        var i = 0;
        while (true)
        {
            var child = (2 * i) + 1;
            if (child >= last)
            {
                break;
            }

            if (child + 1 < last && _priorities[child + 1] > _priorities[child])
            {
                child++;
            }

            if (_priorities[child] <= priority)
            {
                break;
            }

            _priorities[i] = _priorities[child];
            _nodes[i] = _nodes[child];
            i = child;
        }

        _priorities[i] = priority;
        _nodes[i] = node;
    }

    /// <summary>Empties the heap into <paramref name="priorities"/>/<paramref name="nodes"/> in ascending priority
    /// order; returns the count.</summary>
    public int DrainAscending(Span<float> priorities, Span<int> nodes)
    {
        var n = Count;
        for (var i = n - 1; i >= 0; i--)
        {
            priorities[i] = TopPriority;
            nodes[i] = TopNode;
            Pop();
        }

        return n;
    }
}
