using System.Diagnostics;
using EdgeProfile.Semantic.Sequences;
using static TorchSharp.torch;

namespace EdgeProfile.Training.Sequences;

/// <summary>
/// Trains a <see cref="SasRecModule"/> on the leave-one-out training prefixes of a <see cref="SequenceDataset"/>
/// (all but each user's last two items): one training sequence per user, input = prefix[..^1], targets = prefix[1..],
/// both keeping their last L positions and left-padded. Loss: cross-entropy over all items (full softmax) at every
/// non-padded position (logits are computed there only). Adam; mini-batches of users in a seeded shuffle; torch seeded
/// too, so a run is reproducible for a given seed and thread count. Early stopping on the full-ranking NDCG@10 of a
/// seeded sample of validation cases (target = each user's second-to-last item), keeping the best validation's weights.
/// </summary>
public static class SasRecTrainer
{
    /// <summary>Trains on <paramref name="data"/>; <paramref name="onEpoch"/> is called after every epoch.</summary>
    public static SasRecTrainingResult Train(SequenceDataset data, SasRecOptions? options = null, Action<SasRecEpoch>? onEpoch = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new SasRecOptions();
        options.Validate();
        if (data.ItemCount < 1)
        {
            throw new ArgumentException("the dataset has no items", nameof(data));
        }
        TorchEnvironment.Prepare();
        set_num_threads(options.Threads);
        manual_seed(options.Seed);

        var (inputs, targets, positions) = TrainingRows(data, options.MaxLength);
        if (inputs.Length == 0)
        {
            throw new ArgumentException("no user has a training prefix of at least two items (sequences of at least four)", nameof(data));
        }
        var (validationHistories, validationTargets) = ValidationSample(data, options.ValidationUsers, options.Seed);

        var watch = Stopwatch.StartNew();
        var module = new SasRecModule(data.ItemCount, options.MaxLength, options.Dimensions, options.Blocks, options.Heads, options.Dropout);
        Tensor[]? best = null;
        try
        {
            var random = new Random(options.Seed);
            using var optimizer = optim.Adam(module.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
            var epochs = new List<SasRecEpoch>();
            var bestEpoch = 0;
            var bestNdcg = double.NegativeInfinity;
            var sinceBest = 0;
            var order = Enumerable.Range(0, inputs.Length).ToArray();
            var sizes = inputs.Select(row => row.Count(id => id != 0)).ToArray();
            var batchStarts = Enumerable.Range(0, (order.Length + options.BatchSize - 1) / options.BatchSize).Select(b => b * options.BatchSize).ToArray();
            var maxLength = options.MaxLength;
            var batchInputs = new long[options.BatchSize * maxLength];
            var batchTargets = new long[options.BatchSize * maxLength];
            for (var epoch = 1; epoch <= options.MaxEpochs; epoch++)
            {
                module.train();
                random.Shuffle(order);
                if (options.BucketBatches)
                {
                    // Batches of similar lengths (sorted within groups of 50 batches, then the batches shuffled), so that
                    // TrainingHidden skips most of the padding columns.
                    var group = options.BatchSize * 50;
                    for (var g = 0; g < order.Length; g += group)
                    {
                        var length = Math.Min(group, order.Length - g);
                        var keys = order.AsSpan(g, length).ToArray().Select(u => sizes[u]).ToArray();
                        keys.AsSpan().Sort(order.AsSpan(g, length));
                    }
                    random.Shuffle(batchStarts);
                }
                double lossSum = 0;
                long lossCount = 0;
                foreach (var start in batchStarts)
                {
                    var count = Math.Min(options.BatchSize, order.Length - start);
                    for (var i = 0; i < count; i++)
                    {
                        inputs[order[start + i]].CopyTo(batchInputs, i * maxLength);
                        targets[order[start + i]].CopyTo(batchTargets, i * maxLength);
                    }
                    using var scope = NewDisposeScope();
                    optimizer.zero_grad();
                    var ids = tensor(batchInputs.AsSpan(0, count * maxLength).ToArray(), [count, maxLength]);
                    var next = tensor(batchTargets.AsSpan(0, count * maxLength).ToArray(), [count, maxLength]);
                    // Full softmax over the items, computed in chunks of positions so that each chunk's [chunk, items]
                    // logits stay in cache: the encoder output is detached, every chunk's loss is back-propagated into
                    // the item embedding and the detached copy, then the accumulated gradient goes through the encoder
                    // once. The gradients are those of the mean cross-entropy over all the batch's positions.
                    var (hidden, labels) = module.TrainingHidden(ids, next);
                    var n = labels.shape[0];
                    var detached = hidden.detach().requires_grad_(true);
                    double batchLoss = 0;
                    for (var c = 0; c < n; c += options.LossChunk)
                    {
                        using var chunkScope = NewDisposeScope();
                        var length = Math.Min(options.LossChunk, n - c);
                        var logits = module.ItemLogits(detached.narrow(0, c, length));
                        var loss = nn.functional.cross_entropy(logits, labels.narrow(0, c, length), reduction: nn.Reduction.Sum) / n;
                        loss.backward();
                        batchLoss += loss.item<float>();
                    }
                    (hidden * detached.grad!).sum().backward();
                    optimizer.step();
                    module.ZeroPadding();
                    lossSum += batchLoss * n;
                    lossCount += n;
                }

                double? ndcg = null, hitRate = null;
                var validate = options.Patience > 0 && (epoch % options.ValidateEvery == 0 || epoch == options.MaxEpochs);
                if (validate)
                {
                    var ranks = SasRecTorchScorer.FullRankingRanks(module, validationHistories, validationTargets);
                    var metrics = SasRecTorchScorer.Metrics("all-items/validation", ranks);
                    ndcg = metrics.Ndcg10;
                    hitRate = metrics.HitRate10;
                }
                var record = new SasRecEpoch(epoch, lossSum / Math.Max(1, lossCount), ndcg, hitRate, watch.Elapsed.TotalSeconds);
                epochs.Add(record);
                onEpoch?.Invoke(record);

                if (ndcg is { } value)
                {
                    if (value > bestNdcg)
                    {
                        bestNdcg = value;
                        bestEpoch = epoch;
                        sinceBest = 0;
                        DisposeAll(best);
                        best = module.Snapshot();
                    }
                    else if (++sinceBest >= options.Patience)
                    {
                        break;
                    }
                }
                else if (options.Patience == 0)
                {
                    bestEpoch = epoch;
                }
                if (options.TimeLimit is { } limit && watch.Elapsed >= limit)
                {
                    break;
                }
            }

            if (best is not null && bestEpoch != epochs[^1].Epoch)
            {
                module.Restore(best);
            }
            else if (best is null)
            {
                bestEpoch = epochs[^1].Epoch;
            }
            module.eval();
            watch.Stop();
            return new SasRecTrainingResult(module, options, epochs, bestEpoch, watch.Elapsed, inputs.Length, positions);
        }
        catch
        {
            module.Dispose();
            throw;
        }
        finally
        {
            DisposeAll(best);
        }
    }

    /// <summary>
    /// The padded training rows: per user with a training prefix of at least two items, input = prefix[..^1] and
    /// targets = prefix[1..], each keeping its last <paramref name="maxLength"/> items, left-padded with 0. Also returns
    /// the number of non-padded targets.
    /// </summary>
    public static (long[][] Inputs, long[][] Targets, long Positions) TrainingRows(SequenceDataset data, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        var inputs = new List<long[]>();
        var targets = new List<long[]>();
        long positions = 0;
        foreach (var sequence in data.Sequences)
        {
            var prefix = LeaveOneOut.TrainingPrefix(sequence);
            if (prefix.Length < 2)
            {
                continue;
            }
            var input = new long[maxLength];
            var target = new long[maxLength];
            SasRecModule.LeftPad(prefix.AsSpan(0, prefix.Length - 1), maxLength, data.ItemCount, input);
            SasRecModule.LeftPad(prefix.AsSpan(1), maxLength, data.ItemCount, target);
            inputs.Add(input);
            targets.Add(target);
            positions += Math.Min(maxLength, prefix.Length - 1);
        }
        return ([.. inputs], [.. targets], positions);
    }

    /// <summary>
    /// Validation cases (history = all but the last two items, target = the second-to-last) of up to
    /// <paramref name="users"/> users with at least three items, drawn by a shuffle seeded with <paramref name="seed"/>
    /// (in user order).
    /// </summary>
    public static (int[][] Histories, int[] Targets) ValidationSample(SequenceDataset data, int users, int seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(users, 1);
        var eligible = Enumerable.Range(0, data.Sequences.Count).Where(u => data.Sequences[u].Length >= 3).ToArray();
        if (users < eligible.Length)
        {
            new Random(seed).Shuffle(eligible);
            eligible = eligible[..users];
            Array.Sort(eligible);
        }
        var cases = eligible.Select(u => LeaveOneOut.Case(data.Sequences[u], Holdout.Validation)).ToArray();
        return ([.. cases.Select(c => c.History)], [.. cases.Select(c => c.Target)]);
    }

    private static void DisposeAll(Tensor[]? tensors)
    {
        if (tensors is null)
        {
            return;
        }
        foreach (var t in tensors)
        {
            t.Dispose();
        }
    }
}
