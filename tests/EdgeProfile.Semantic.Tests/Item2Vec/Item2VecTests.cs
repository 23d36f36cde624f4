using EdgeProfile.Semantic.Item2Vec;
using EdgeProfile.Semantic.Sequences;

namespace EdgeProfile.Semantic.Tests.Item2Vec;

public sealed class Item2VecTests
{
    private const int GroupSize = 20;
    private const int ItemCount = 2 * GroupSize;

    private static readonly Item2VecOptions Small = new() { Dimensions = 16, Epochs = 5, Threads = 1, Seed = 7 };

    /// <summary>Two disjoint groups of items (1..20 and 21..40): each sequence draws from one group only.</summary>
    private static List<int[]> PlantedCorpus(int sequences = 400, int length = 20, int seed = 3)
    {
        var rng = new Random(seed);
        var corpus = new List<int[]>(sequences);
        for (var s = 0; s < sequences; s++)
        {
            var offset = s % 2 == 0 ? 0 : GroupSize;
            var sequence = new int[length];
            for (var i = 0; i < length; i++)
            {
                sequence[i] = offset + 1 + rng.Next(GroupSize);
            }
            corpus.Add(sequence);
        }
        return corpus;
    }

    private static int Group(int item) => (item - 1) / GroupSize;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Nearest_neighbours_stay_in_their_group(int threads)
    {
        var vectors = Item2VecTrainer.Train(PlantedCorpus(), ItemCount, Small with { Threads = threads });

        Assert.Equal(ItemCount, vectors.KnownCount);
        for (var item = 1; item <= ItemCount; item++)
        {
            var neighbours = vectors.MostSimilar(item, 5);
            Assert.Equal(5, neighbours.Count);
            Assert.All(neighbours, n => Assert.Equal(Group(item), Group(n.Item)));
            Assert.DoesNotContain(neighbours, n => n.Item == item);
            Assert.True(neighbours[0].Similarity >= neighbours[^1].Similarity);
        }
    }

    [Fact]
    public void One_thread_with_a_seed_is_deterministic()
    {
        var corpus = PlantedCorpus();
        var a = Item2VecTrainer.Train(corpus, ItemCount, Small);
        var b = Item2VecTrainer.Train(corpus, ItemCount, Small);
        var c = Item2VecTrainer.Train(corpus, ItemCount, Small with { Seed = 8 });

        for (var item = 0; item <= ItemCount; item++)
        {
            Assert.True(a[item].SequenceEqual(b[item]), $"item {item} differs between two runs with the same seed");
        }
        Assert.False(a[1].SequenceEqual(c[1]));
    }

    [Fact]
    public void Training_report_counts_tokens_over_epochs()
    {
        var corpus = PlantedCorpus(sequences: 100, length: 10);
        var vectors = Item2VecTrainer.Train(corpus, ItemCount, Small with { Epochs = 3, Subsample = 0 });

        var report = Assert.IsType<Item2VecTrainingReport>(vectors.Training);
        Assert.Equal(1000, report.Tokens);
        Assert.Equal(3000, report.TokensProcessed);
        Assert.Equal(3000, report.TokensTrained); // no subsampling: every token is trained
        Assert.Equal(ItemCount, report.VocabularySize);
        Assert.True(report.TokensPerSecond > 0);
    }

    [Fact]
    public void Subsampling_drops_tokens_of_a_dominant_item()
    {
        // Item 1 is half of all tokens: with sample 1e-3 most of its occurrences are dropped.
        var corpus = Enumerable.Range(0, 200).Select(s => Enumerable.Range(0, 10).Select(i => i % 2 == 0 ? 1 : 2 + (s + i) % 30).ToArray()).ToList();
        var vectors = Item2VecTrainer.Train(corpus, ItemCount, Small with { Epochs = 1 });

        var report = vectors.Training!;
        Assert.Equal(2000, report.TokensProcessed);
        Assert.InRange(report.TokensTrained, 1, 1500);
    }

    [Fact]
    public void Items_below_min_count_are_unknown_and_left_out()
    {
        var corpus = PlantedCorpus();
        corpus.Add([1, 2, ItemCount + 1]); // item 41 occurs once
        var vectors = Item2VecTrainer.Train(corpus, ItemCount + 2, Small with { MinCount = 2 });

        Assert.False(vectors.IsKnown(ItemCount + 1)); // below MinCount
        Assert.False(vectors.IsKnown(ItemCount + 2)); // never seen
        Assert.False(vectors.IsKnown(0));
        Assert.True(vectors[ItemCount + 1].ToArray().All(v => v == 0));
        Assert.Empty(vectors.MostSimilar(ItemCount + 1, 5));
        Assert.DoesNotContain(vectors.MostSimilar(1, ItemCount + 2), n => n.Item > ItemCount);
        Assert.Equal(ItemCount - 1, vectors.MostSimilar(1, 100).Count);
    }

    [Fact]
    public void Empty_sequences_and_more_threads_than_sequences_are_fine()
    {
        var corpus = PlantedCorpus(sequences: 4);
        corpus.Insert(1, []);
        corpus.Add([]);
        var vectors = Item2VecTrainer.Train(corpus, ItemCount, Small with { Threads = 16 });

        Assert.Equal(6, vectors.Training!.Threads);
        Assert.Equal(5 * 4 * 20, vectors.Training.TokensProcessed);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Training_stops_when_cancelled(int threads)
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => Item2VecTrainer.Train(PlantedCorpus(), ItemCount, Small with { Threads = threads }, cancellationToken: cancel.Token));
    }

    [Fact]
    public void Train_refuses_items_outside_the_range()
    {
        var error = Assert.Throws<ArgumentException>(() => Item2VecTrainer.Train([[1, 2], [3, 0]], 5, Small));
        Assert.Contains("sequence 1", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Item2VecTrainer.Train([[1, 6]], 5, Small));
        Assert.Throws<ArgumentException>(() => Item2VecTrainer.Train([[1, 2]], 5, Small with { MinCount = 2 }));
    }

    public static TheoryData<string, Item2VecOptions> BadOptions() => new()
    {
        { nameof(Item2VecOptions.Dimensions), new Item2VecOptions { Dimensions = 0 } },
        { nameof(Item2VecOptions.Window), new Item2VecOptions { Window = 0 } },
        { nameof(Item2VecOptions.Negatives), new Item2VecOptions { Negatives = 0 } },
        { nameof(Item2VecOptions.NegativeExponent), new Item2VecOptions { NegativeExponent = double.NaN } },
        { nameof(Item2VecOptions.Subsample), new Item2VecOptions { Subsample = -1e-3 } },
        { nameof(Item2VecOptions.Epochs), new Item2VecOptions { Epochs = 0 } },
        { nameof(Item2VecOptions.StartLearningRate), new Item2VecOptions { StartLearningRate = 0 } },
        { nameof(Item2VecOptions.MinLearningRate), new Item2VecOptions { MinLearningRate = 0.5 } },
        { nameof(Item2VecOptions.MinCount), new Item2VecOptions { MinCount = 0 } },
        { nameof(Item2VecOptions.Threads), new Item2VecOptions { Threads = 0 } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Options_validation_names_the_option(string option, Item2VecOptions options)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(option, error.ParamName);
        Assert.Contains($"Item2VecOptions.{option}", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Item2VecTrainer.Train([[1, 2]], 2, options));
    }

    [Fact]
    public void Default_options_are_valid_and_word2vec_like()
    {
        var options = new Item2VecOptions();
        options.Validate();
        Assert.Equal((64, 5, 5, 0.75, 1e-3, 5), (options.Dimensions, options.Window, options.Negatives, options.NegativeExponent, options.Subsample, options.Epochs));
        Assert.Equal((0.025, 0.0001, 1), (options.StartLearningRate, options.MinLearningRate, options.MinCount));
    }

    [Fact]
    public void Save_and_load_round_trip()
    {
        var corpus = PlantedCorpus();
        corpus.Add([ItemCount + 1]);
        var vectors = Item2VecTrainer.Train(corpus, ItemCount + 3, Small with { MinCount = 2 });
        using var stream = new MemoryStream();
        vectors.Save(stream);
        stream.Position = 0;

        var loaded = ItemVectors.Load(stream);

        Assert.Equal(vectors.ItemCount, loaded.ItemCount);
        Assert.Equal(vectors.Dimensions, loaded.Dimensions);
        Assert.Equal(vectors.KnownCount, loaded.KnownCount);
        Assert.Null(loaded.Training);
        for (var item = 0; item <= vectors.ItemCount; item++)
        {
            Assert.Equal(vectors.IsKnown(item), loaded.IsKnown(item));
            Assert.True(vectors[item].SequenceEqual(loaded[item]), $"item {item} differs after the round trip");
        }
        Assert.Equal(vectors.MostSimilar(3, 5), loaded.MostSimilar(3, 5));
    }

    private static byte[] SavedBytes()
    {
        var vectors = Item2VecTrainer.Train(PlantedCorpus(sequences: 50), ItemCount, Small with { Epochs = 1 });
        using var stream = new MemoryStream();
        vectors.Save(stream);
        return stream.ToArray();
    }

    [Fact]
    public void Truncated_files_are_refused()
    {
        var bytes = SavedBytes();
        foreach (var length in new[] { 0, 3, 8, 15, 20, 60, bytes.Length / 2, bytes.Length - 8, bytes.Length - 1 })
        {
            // Seekable and non-seekable streams take different paths to the same answer.
            Assert.Throws<InvalidDataException>(() => ItemVectors.Load(new MemoryStream(bytes, 0, length)));
            Assert.Throws<InvalidDataException>(() => ItemVectors.Load(new ForwardOnlyStream(bytes.AsMemory(0, length))));
        }
    }

    [Fact]
    public void Corrupt_files_are_refused()
    {
        var bytes = SavedBytes();
        ItemVectors.Load(new MemoryStream(bytes)); // intact: fine

        foreach (var offset in new[] { 0, 9, 12, 16, 20, 30, bytes.Length / 2, bytes.Length - 1 })
        {
            var corrupt = (byte[])bytes.Clone();
            corrupt[offset] ^= 0x5A;
            var error = Assert.Throws<InvalidDataException>(() => ItemVectors.Load(new MemoryStream(corrupt)));
            Assert.Contains("item-vectors", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Vectors_built_from_arrays_check_their_input()
    {
        var values = new float[3 * 2];
        values[2] = 3;
        values[3] = 4;
        var vectors = new ItemVectors(2, 2, values, [false, true, false]);

        Assert.Equal([0.6f, 0.8f], vectors.GetNormalized(1));
        Assert.Equal([0f, 0f], vectors.GetNormalized(2));
        Assert.Equal(1f, vectors.ToNormalized()[1][1] / 0.8f, 5);
        Assert.Throws<ArgumentException>(() => new ItemVectors(2, 2, new float[5], [false, true, false]));
        Assert.Throws<ArgumentException>(() => new ItemVectors(2, 2, values, [true, true, false]));
        Assert.Throws<ArgumentOutOfRangeException>(() => vectors[3].Length);
    }

    [Fact]
    public void Scorer_ranks_in_group_items_above_out_of_group_items()
    {
        var vectors = Item2VecTrainer.Train(PlantedCorpus(), ItemCount, Small);
        var scorer = vectors.ToScorer();
        int[] history = [3, 7, 12, 5];
        int[] candidates = [9, 25, 30, 40, 14, 21, 0];
        var scores = new float[candidates.Length];

        scorer.Score(history, candidates, scores);

        var inGroup = new[] { scores[0], scores[4] };
        var outOfGroup = new[] { scores[1], scores[2], scores[3], scores[5] };
        Assert.True(inGroup.Min() > outOfGroup.Max(), $"in-group {string.Join(", ", inGroup)} vs out-of-group {string.Join(", ", outOfGroup)}");
        Assert.Equal(float.NegativeInfinity, scores[6]); // padding is never a candidate worth anything
    }

    [Fact]
    public void Scorer_uses_only_the_last_items_and_is_thread_safe()
    {
        var vectors = Item2VecTrainer.Train(PlantedCorpus(), ItemCount, Small);
        var scorer = new ItemVectorScorer(vectors, lastItems: 2);
        int[] candidates = [.. Enumerable.Range(1, ItemCount)];

        // The history moved from group 0 to group 1: its last two items decide.
        int[] history = [1, 2, 3, 4, 5, 6, 22, 23];
        var scores = new float[ItemCount];
        scorer.Score(history, candidates, scores);
        Assert.True(scores[GroupSize..].Min() > scores[..GroupSize].Max());

        var parallel = new float[64][];
        Parallel.For(0, parallel.Length, i =>
        {
            parallel[i] = new float[ItemCount];
            scorer.Score(history, candidates, parallel[i]);
        });
        Assert.All(parallel, p => Assert.Equal(scores, p));
        Assert.Throws<ArgumentException>(() => scorer.Score(history, candidates, new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ItemVectorScorer(vectors, 0));
    }

    [Fact]
    public void Scorer_beats_popularity_on_the_leave_one_out_protocol()
    {
        var data = SequenceDataset.FromSequences(PlantedCorpus(sequences: 300), ItemCount);
        var vectors = Item2VecTrainer.Train(data.TrainingPrefixes(), data.ItemCount, Small);

        var ours = NextItemEvaluator.Evaluate(data, vectors.ToScorer(), CandidateSet.AllItems);
        var popular = NextItemEvaluator.Evaluate(data, new MostPopularScorer(data), CandidateSet.AllItems);

        // The target's group is known from the history: our top 10 of 40 items should hold it about half the time.
        Assert.True(ours.HitRate10 > popular.HitRate10 + 0.15, $"item2vec HR@10 {ours.HitRate10:F3}, popularity {popular.HitRate10:F3}");
    }

    [Fact]
    public void Progress_is_reported_up_to_the_end()
    {
        var reports = new List<Item2VecProgress>();
        var progress = new SynchronousProgress(reports);
        Item2VecTrainer.Train(PlantedCorpus(sequences: 2000), ItemCount, Small with { Epochs = 2, Dimensions = 8 }, progress);

        Assert.NotEmpty(reports);
        Assert.Equal(reports[^1].TotalTokens, reports[^1].TokensProcessed);
        Assert.Equal(2 * 2000 * 20, reports[^1].TotalTokens);
    }

    private sealed class SynchronousProgress(List<Item2VecProgress> reports) : IProgress<Item2VecProgress>
    {
        public void Report(Item2VecProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }

    /// <summary>A stream that cannot seek, so Load has to find a truncation by reading.</summary>
    private sealed class ForwardOnlyStream(ReadOnlyMemory<byte> bytes) : Stream
    {
        private int position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(count, bytes.Length - position);
            bytes.Span.Slice(position, n).CopyTo(buffer.AsSpan(offset, n));
            position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
