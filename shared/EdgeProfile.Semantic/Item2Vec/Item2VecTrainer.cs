using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgeProfile.Semantic.Item2Vec;

/// <summary>Progress of <see cref="Item2VecTrainer.Train"/>, reported about every percent of the work.</summary>
/// <param name="TokensProcessed">Tokens read so far over all epochs and threads (before subsampling).</param>
/// <param name="TotalTokens">Tokens to read in all: tokens of the vocabulary in the sequences × epochs.</param>
/// <param name="LearningRate">Current learning rate.</param>
public sealed record Item2VecProgress(long TokensProcessed, long TotalTokens, double LearningRate);

/// <summary>What a training run did and how fast.</summary>
/// <param name="VocabularySize">Items with a vector (occurring at least MinCount times).</param>
/// <param name="Tokens">Tokens of those items in the sequences (one epoch).</param>
/// <param name="Epochs">Passes made.</param>
/// <param name="TokensProcessed">Tokens read over all epochs (Tokens × Epochs), before subsampling.</param>
/// <param name="TokensTrained">Tokens kept by subsampling and trained on (gensim's "effective words").</param>
/// <param name="Elapsed">Wall time of the training passes (threads started to threads joined; vocabulary and
/// initialisation excluded, as in gensim's <c>train</c>).</param>
/// <param name="Threads">Worker threads used.</param>
public sealed record Item2VecTrainingReport(int VocabularySize, long Tokens, int Epochs, long TokensProcessed, long TokensTrained, TimeSpan Elapsed, int Threads)
{
    /// <summary>Training speed: <see cref="TokensProcessed"/> / <see cref="Elapsed"/> seconds (tokens × epochs per second).</summary>
    public double TokensPerSecond => Elapsed > TimeSpan.Zero ? TokensProcessed / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Skip-gram with negative sampling over behaviour sequences, as word2vec.c trains it: for every kept token (after
/// word2vec's subsampling of frequent items) a reduced window is drawn uniformly in 1..Window, and every context item in
/// it is trained to predict the centre item against <see cref="Item2VecOptions.Negatives"/> items drawn from the
/// unigram distribution raised to <see cref="Item2VecOptions.NegativeExponent"/> (alias sampling, exact). The learning
/// rate falls linearly from StartLearningRate to MinLearningRate over tokens × epochs. Threads train lock-free on shared
/// weights (Hogwild), each on its own contiguous share of the sequences with its own random stream; one thread and a
/// seed make the result reproducible bit for bit.
/// </summary>
public static class Item2VecTrainer
{
    private const int SigmoidTableSize = 1000;
    private const float MaxExp = 6f;
    private const int FlushEvery = 10_000;
    private static readonly float[] SigmoidTable = BuildSigmoidTable();

    /// <summary>Trains item vectors on <paramref name="sequences"/> (items 1..<paramref name="itemCount"/>, each
    /// sequence in chronological order; 0 and other ids are refused).</summary>
    /// <param name="sequences">One sequence per customer; a sequence is a sentence, an item a word.</param>
    /// <param name="itemCount">Largest item id; the result has rows 0..itemCount (row 0, padding, stays zero).</param>
    /// <param name="options">Settings; validated first.</param>
    /// <param name="progress">Receives <see cref="Item2VecProgress"/> about every percent (from worker threads).</param>
    /// <param name="cancellationToken">Stops training (checked about every 10,000 tokens per thread and after every epoch).</param>
    /// <returns>The input vectors (word2vec's syn0) of the items, with <see cref="ItemVectors.Training"/> set.</returns>
    /// <exception cref="ArgumentException">A sequence is null or holds an id outside 1..itemCount, or no item
    /// occurs MinCount times.</exception>
    public static ItemVectors Train(IReadOnlyList<int[]> sequences, int itemCount, Item2VecOptions options,
        IProgress<Item2VecProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(itemCount, 1);
        options.Validate();
        var dim = options.Dimensions;
        if ((long)(itemCount + 1) * dim > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(itemCount), itemCount, "itemCount × Dimensions is too large for one array");
        }

        var counts = new long[itemCount + 1];
        var longest = 0;
        for (var s = 0; s < sequences.Count; s++)
        {
            var sequence = sequences[s] ?? throw new ArgumentException($"sequence {s} is null", nameof(sequences));
            longest = Math.Max(longest, sequence.Length);
            foreach (var item in sequence)
            {
                if ((uint)(item - 1) >= (uint)itemCount)
                {
                    throw new ArgumentException($"sequence {s} holds item {item}, outside 1..{itemCount}", nameof(sequences));
                }
                counts[item]++;
            }
        }

        var known = new bool[itemCount + 1];
        var vocabulary = new List<int>();
        long tokens = 0;
        for (var item = 1; item <= itemCount; item++)
        {
            if (counts[item] >= options.MinCount)
            {
                known[item] = true;
                vocabulary.Add(item);
                tokens += counts[item];
            }
        }
        if (vocabulary.Count == 0)
        {
            throw new ArgumentException($"no item occurs at least MinCount = {options.MinCount} times", nameof(sequences));
        }

        // word2vec's subsampling: keep an occurrence with probability (sqrt(f/s) + 1)·s/f, f = count/tokens.
        var keep = new double[itemCount + 1];
        foreach (var item in vocabulary)
        {
            if (options.Subsample > 0)
            {
                var threshold = options.Subsample * tokens;
                keep[item] = (Math.Sqrt(counts[item] / threshold) + 1) * threshold / counts[item];
            }
            else
            {
                keep[item] = 1;
            }
        }
        var negatives = AliasTable.Build(vocabulary, counts, options.NegativeExponent);

        // word2vec's initialisation: input vectors uniform in [-scale, scale)/dim, output vectors zero.
        var scale = (float)(2 * options.InitialScale);
        var input = new float[(itemCount + 1) * dim];
        var output = new float[(itemCount + 1) * dim];
        var init = new Rng((ulong)(uint)options.Seed);
        foreach (var item in vocabulary)
        {
            var row = input.AsSpan(item * dim, dim);
            for (var d = 0; d < dim; d++)
            {
                row[d] = (init.NextFloat() - 0.5f) * scale / dim;
            }
        }

        var threads = (int)Math.Min(options.Threads, Math.Max(1, sequences.Count));
        var state = new SharedState(options, input, output, keep, known, negatives, tokens * options.Epochs, longest, progress, cancellationToken);
        var ranges = Partition(sequences, known, tokens, threads);
        var start = Stopwatch.GetTimestamp();
        if (threads == 1)
        {
            Work(state, sequences, ranges[0], 0);
        }
        else
        {
            var errors = new Exception?[threads];
            var workers = new Thread[threads];
            for (var t = 0; t < threads; t++)
            {
                var index = t;
                workers[t] = new Thread(() =>
                {
                    try
                    {
                        Work(state, sequences, ranges[index], index);
                    }
                    catch (Exception e)
                    {
                        errors[index] = e;
                    }
                })
                { IsBackground = true, Name = $"item2vec-{index}" };
                workers[t].Start();
            }
            foreach (var worker in workers)
            {
                worker.Join();
            }
            var failures = errors.Where(e => e is not null).Select(e => e!).ToList();
            if (failures.Count > 0)
            {
                if (failures.All(e => e is OperationCanceledException))
                {
                    throw failures[0];
                }
                throw new AggregateException("item2vec training failed", failures);
            }
        }
        var elapsed = Stopwatch.GetElapsedTime(start);
        cancellationToken.ThrowIfCancellationRequested();

        for (var item = 0; item <= itemCount; item++)
        {
            if (!known[item])
            {
                input.AsSpan(item * dim, dim).Clear();
            }
        }
        var report = new Item2VecTrainingReport(vocabulary.Count, tokens, options.Epochs, Interlocked.Read(ref state.Processed),
            Interlocked.Read(ref state.Trained), elapsed, threads);
        progress?.Report(new Item2VecProgress(report.TokensProcessed, state.TotalWork, options.MinLearningRate));
        return new ItemVectors(itemCount, dim, input, known, report);
    }

    private static void Work(SharedState state, IReadOnlyList<int[]> sequences, (int Start, int End) range, int thread)
    {
        var options = state.Options;
        var dim = options.Dimensions;
        var window = options.Window;
        var negativesPerPair = options.Negatives;
        var input = state.Input;
        var output = state.Output;
        var keep = state.Keep;
        var known = state.Known;
        var aliases = state.Negatives.Entries;
        var aliasCount = (ulong)aliases.Length;
        var sigmoid = SigmoidTable;
        var rng = new Rng(Rng.Mix((ulong)(uint)options.Seed, (ulong)thread + 1));
        var buffer = new int[Math.Max(1, state.Longest)];
        var gradient = new float[dim];
        long pending = 0, trained = 0;
        var alpha = (float)options.StartLearningRate;

        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            for (var s = range.Start; s < range.End; s++)
            {
                var sequence = sequences[s];
                var n = 0;
                foreach (var item in sequence)
                {
                    if (!known[item])
                    {
                        continue;
                    }
                    pending++;
                    var p = keep[item];
                    if (p < 1 && rng.NextDouble() >= p)
                    {
                        continue;
                    }
                    buffer[n++] = item;
                }
                trained += n;
                if (pending >= FlushEvery)
                {
                    alpha = state.Flush(pending);
                    pending = 0;
                    state.Cancellation.ThrowIfCancellationRequested();
                }

                for (var pos = 0; pos < n; pos++)
                {
                    var centre = buffer[pos];
                    var reduced = window - rng.NextInt(window);
                    var lo = Math.Max(0, pos - reduced);
                    var hi = Math.Min(n - 1, pos + reduced);
                    for (var c = lo; c <= hi; c++)
                    {
                        if (c == pos)
                        {
                            continue;
                        }
                        ref var l1 = ref input[buffer[c] * dim];
                        Array.Clear(gradient);
                        ref var g1 = ref MemoryMarshal.GetArrayDataReference(gradient);
                        for (var k = 0; k <= negativesPerPair; k++)
                        {
                            int target;
                            float label;
                            if (k == 0)
                            {
                                target = centre;
                                label = 1;
                            }
                            else
                            {
                                var r = rng.Next();
                                ref readonly var entry = ref aliases[(int)(((r >> 32) * aliasCount) >> 32)];
                                target = (uint)r < entry.Threshold ? entry.Item : entry.Alias;
                                if (target == centre)
                                {
                                    continue;
                                }
                                label = 0;
                            }
                            ref var l2 = ref output[target * dim];
                            var f = Dot(ref l1, ref l2, dim);
                            float g;
                            if (f > MaxExp)
                            {
                                g = (label - 1) * alpha;
                            }
                            else if (f < -MaxExp)
                            {
                                g = label * alpha;
                            }
                            else
                            {
                                g = (label - sigmoid[(int)((f + MaxExp) * (SigmoidTableSize / MaxExp / 2))]) * alpha;
                            }
                            // gradient += g·l2 (for l1, applied after all targets); l2 += g·l1.
                            Update(g, ref l1, ref l2, ref g1, dim);
                        }
                        AddTo(ref g1, ref l1, dim);
                    }
                }
            }
            state.Cancellation.ThrowIfCancellationRequested();
        }
        state.Flush(pending);
        Interlocked.Add(ref state.Trained, trained);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(ref float a, ref float b, int n)
    {
        var i = 0;
        var sum = 0f;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var acc = Vector<float>.Zero;
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                acc += Vector.LoadUnsafe(ref a, (nuint)i) * Vector.LoadUnsafe(ref b, (nuint)i);
            }
            sum = Vector.Sum(acc);
        }
        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(float g, ref float l1, ref float l2, ref float gradient, int n)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var gv = new Vector<float>(g);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var out2 = Vector.LoadUnsafe(ref l2, (nuint)i);
                (Vector.LoadUnsafe(ref gradient, (nuint)i) + gv * out2).StoreUnsafe(ref gradient, (nuint)i);
                (out2 + gv * Vector.LoadUnsafe(ref l1, (nuint)i)).StoreUnsafe(ref l2, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            var out2 = Unsafe.Add(ref l2, i);
            Unsafe.Add(ref gradient, i) += g * out2;
            Unsafe.Add(ref l2, i) = out2 + g * Unsafe.Add(ref l1, i);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo(ref float source, ref float target, int n)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                (Vector.LoadUnsafe(ref target, (nuint)i) + Vector.LoadUnsafe(ref source, (nuint)i)).StoreUnsafe(ref target, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref target, i) += Unsafe.Add(ref source, i);
        }
    }

    /// <summary>Contiguous shares of the sequences with about equal numbers of vocabulary tokens.</summary>
    private static (int Start, int End)[] Partition(IReadOnlyList<int[]> sequences, bool[] known, long tokens, int threads)
    {
        var ranges = new (int Start, int End)[threads];
        var start = 0;
        long seen = 0;
        var t = 0;
        for (var s = 0; s < sequences.Count && t < threads - 1; s++)
        {
            foreach (var item in sequences[s])
            {
                if (known[item])
                {
                    seen++;
                }
            }
            if (seen * threads >= tokens * (t + 1))
            {
                ranges[t++] = (start, s + 1);
                start = s + 1;
            }
        }
        for (; t < threads; t++)
        {
            ranges[t] = (start, t == threads - 1 ? sequences.Count : start);
        }
        return ranges;
    }

    private static float[] BuildSigmoidTable()
    {
        var table = new float[SigmoidTableSize + 1];
        for (var i = 0; i <= SigmoidTableSize; i++)
        {
            var e = Math.Exp(((double)i / SigmoidTableSize * 2 - 1) * MaxExp);
            table[i] = (float)(e / (e + 1));
        }
        return table;
    }

    private sealed class SharedState(Item2VecOptions options, float[] input, float[] output, double[] keep, bool[] known, AliasTable negatives,
        long totalWork, int longest, IProgress<Item2VecProgress>? progress, CancellationToken cancellation)
    {
        public long Processed;
        public long Trained;
        private long reportedPercent;

        public Item2VecOptions Options { get; } = options;
        public float[] Input { get; } = input;
        public float[] Output { get; } = output;
        public double[] Keep { get; } = keep;
        public bool[] Known { get; } = known;
        public AliasTable Negatives { get; } = negatives;
        public long TotalWork { get; } = totalWork;
        public int Longest { get; } = longest;
        public CancellationToken Cancellation { get; } = cancellation;

        /// <summary>Adds a thread's count and returns the learning rate for the shared progress (word2vec updates it
        /// every 10,000 tokens).</summary>
        public float Flush(long pending)
        {
            var done = Interlocked.Add(ref Processed, pending);
            var share = Math.Min(1.0, (double)done / (TotalWork + 1));
            var alpha = Math.Max(Options.MinLearningRate, Options.StartLearningRate - (Options.StartLearningRate - Options.MinLearningRate) * share);
            if (progress is not null)
            {
                var percent = (long)(share * 100);
                var last = Interlocked.Read(ref reportedPercent);
                if (percent > last && Interlocked.CompareExchange(ref reportedPercent, percent, last) == last)
                {
                    progress.Report(new Item2VecProgress(done, TotalWork, alpha));
                }
            }
            return (float)alpha;
        }
    }

    /// <summary>Vose's alias method over the vocabulary: one random 64-bit draw picks a slot (high half) and decides
    /// between the slot's item and its alias (low half).</summary>
    private sealed class AliasTable
    {
        public required Entry[] Entries { get; init; }

        public static AliasTable Build(List<int> vocabulary, long[] counts, double exponent)
        {
            var n = vocabulary.Count;
            var weights = new double[n];
            var sum = 0.0;
            for (var i = 0; i < n; i++)
            {
                weights[i] = Math.Pow(counts[vocabulary[i]], exponent);
                sum += weights[i];
            }
            var scaled = new double[n];
            var small = new Stack<int>();
            var large = new Stack<int>();
            for (var i = 0; i < n; i++)
            {
                scaled[i] = weights[i] / sum * n;
                (scaled[i] < 1 ? small : large).Push(i);
            }
            var entries = new Entry[n];
            while (small.Count > 0 && large.Count > 0)
            {
                var s = small.Pop();
                var l = large.Pop();
                entries[s] = new Entry(ToThreshold(scaled[s]), vocabulary[s], vocabulary[l]);
                scaled[l] = scaled[l] + scaled[s] - 1;
                (scaled[l] < 1 ? small : large).Push(l);
            }
            // What is left is 1 up to rounding: the slot always gives its own item.
            foreach (var i in large.Concat(small))
            {
                entries[i] = new Entry(uint.MaxValue, vocabulary[i], vocabulary[i]);
            }
            return new AliasTable { Entries = entries };
        }

        private static uint ToThreshold(double p) => p >= 1 ? uint.MaxValue : (uint)(p * 4294967296.0);

        public readonly record struct Entry(uint Threshold, int Item, int Alias);
    }

    /// <summary>SplitMix64: fast, and good enough in every bit (word2vec's LCG is weak in its low bits).</summary>
    private struct Rng(ulong seed)
    {
        private ulong state = seed;

        public static ulong Mix(ulong a, ulong b)
        {
            var z = a * 0x9E3779B97F4A7C15UL + b;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ulong Next()
        {
            var z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform in 0..bound-1.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int NextInt(int bound) => (int)(((Next() >> 32) * (ulong)bound) >> 32);

        /// <summary>Uniform in [0, 1).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

        /// <summary>Uniform in [0, 1).</summary>
        public float NextFloat() => (Next() >> 40) * (1f / (1 << 24));
    }
}
