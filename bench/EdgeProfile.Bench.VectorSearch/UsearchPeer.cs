using System.Reflection;
using System.Runtime.InteropServices;
using Cloud.Unum.USearch;

namespace EdgeProfile.Bench.VectorSearch;

/// <summary>
/// Unum USearch 2.26.6 (C++ HNSW) through its NuGet C# wrapper, plus the few C-API calls the wrapper does not expose
/// (changing and reading the search expansion, the thread count for adds, the index's own memory figure), called on
/// the wrapper's native handle.
/// </summary>
internal sealed class UsearchPeer : IDisposable
{
    private static readonly FieldInfo HandleField = typeof(USearchIndex).GetField("_index", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("USearchIndex._index not found (wrapper changed?)");

    private readonly USearchIndex _index;

    private UsearchPeer(USearchIndex index) => _index = index;

    public static UsearchPeer Create(int dimensions, int connectivity, int expansionAdd, int expansionSearch, int capacity, int threads)
    {
        var index = new USearchIndex(MetricKind.Cos, ScalarKind.Float32, (ulong)dimensions, (ulong)connectivity, (ulong)expansionAdd, (ulong)expansionSearch, false);
        var peer = new UsearchPeer(index);
        peer.Reserve(capacity, threads);
        return peer;
    }

    public static UsearchPeer Load(string path) => new(new USearchIndex(path, false));

    public ulong Size => _index.Size();

    /// <summary>The search expansion the native index reports.</summary>
    public int ExpansionSearch
    {
        get
        {
            var value = Native.usearch_expansion_search(Handle, out var error);
            Check(error);
            return (int)value;
        }
        set
        {
            Native.usearch_change_expansion_search(Handle, (nuint)value, out var error);
            Check(error);
        }
    }

    /// <summary>The bytes the native index says it uses.</summary>
    public long MemoryBytes
    {
        get
        {
            var value = Native.usearch_memory_usage(Handle, out var error);
            Check(error);
            return (long)value;
        }
    }

    private IntPtr Handle => (IntPtr)HandleField.GetValue(_index)!;

    /// <summary>Reserves room for <paramref name="capacity"/> vectors in total (with the add-thread count).</summary>
    public void Reserve(int capacity, int threads)
    {
        Native.usearch_reserve(Handle, (nuint)capacity, out var error);
        Check(error);
        SetThreadsAdd(threads);
    }

    /// <summary>Adds vectors from <paramref name="threads"/> threads (the capacity must be reserved).</summary>
    public void AddParallel(long[] keys, float[][] vectors, int threads)
    {
        Parallel.For(0, keys.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, i => _index.Add((ulong)keys[i], vectors[i]));
    }

    /// <summary>The <paramref name="k"/> nearest keys and cosine similarities (1 - USearch's cosine distance).</summary>
    public int Search(float[] query, int k, long[] keys, float[] similarities)
    {
        var found = _index.Search(query, k, out var foundKeys, out var distances);
        for (var i = 0; i < found; i++)
        {
            keys[i] = (long)foundKeys[i];
            similarities[i] = 1f - distances[i];
        }

        return found;
    }

    public void Save(string path) => _index.Save(path);

    public void Dispose() => _index.Dispose();

    private void SetThreadsAdd(int threads)
    {
        Native.usearch_change_threads_add(Handle, (nuint)threads, out var error);
        Check(error);
    }

    private static void Check(IntPtr error)
    {
        if (error != IntPtr.Zero)
        {
            throw new InvalidOperationException("USearch: " + Marshal.PtrToStringAnsi(error));
        }
    }

    private static class Native
    {
        private const string Library = "libusearch_c";

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern nuint usearch_expansion_search(IntPtr index, out IntPtr error);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern void usearch_change_expansion_search(IntPtr index, nuint expansion, out IntPtr error);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern void usearch_change_threads_add(IntPtr index, nuint threads, out IntPtr error);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern nuint usearch_memory_usage(IntPtr index, out IntPtr error);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern void usearch_reserve(IntPtr index, nuint capacity, out IntPtr error);
    }
}
