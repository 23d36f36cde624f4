using System.Globalization;

namespace EdgeProfile.Semantic.Sequences;

/// <summary>
/// Customers' behaviour sequences over a dense item vocabulary: items are <c>1..ItemCount</c> and 0 is padding. This is
/// the shape of the SASRec/BERT4Rec benchmark files (one "user item" line per interaction, 1-based ids, each user's
/// lines in time order) and of the sequences the edge keeps per customer.
/// </summary>
public sealed class SequenceDataset
{
    private readonly int[][] sequences;

    private SequenceDataset(int[][] sequences, int itemCount)
    {
        this.sequences = sequences;
        ItemCount = itemCount;
    }

    /// <summary>The number of items; ids run from 1 to this number.</summary>
    public int ItemCount { get; }

    /// <summary>One sequence per user, oldest item first.</summary>
    public IReadOnlyList<int[]> Sequences => sequences;

    /// <summary>The number of interactions over all users.</summary>
    public long InteractionCount => sequences.Sum(s => (long)s.Length);

    /// <summary>
    /// Reads a file of "user item" lines (whitespace-separated, 1-based ids, each user's lines in time order; users in
    /// order of first appearance). A malformed line fails with its line number.
    /// </summary>
    public static SequenceDataset Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var byUser = new Dictionary<long, List<int>>();
        var order = new List<List<int>>();
        var maxItem = 0;
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            var text = line.AsSpan().Trim();
            if (text.IsEmpty)
            {
                continue;
            }

            var split = text.IndexOfAny(' ', '\t');
            if (split <= 0
                || !long.TryParse(text[..split], NumberStyles.Integer, CultureInfo.InvariantCulture, out var user)
                || !int.TryParse(text[(split + 1)..].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var item)
                || item <= 0)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: expected \"user item\" with a positive integer item id, got \"{line}\"");
            }

            if (!byUser.TryGetValue(user, out var list))
            {
                list = [];
                byUser.Add(user, list);
                order.Add(list);
            }

            list.Add(item);
            maxItem = Math.Max(maxItem, item);
        }

        return new SequenceDataset([.. order.Select(l => l.ToArray())], maxItem);
    }

    /// <summary>Wraps sequences of item ids in <c>1..itemCount</c> (checked).</summary>
    public static SequenceDataset FromSequences(IReadOnlyList<int[]> sequences, int itemCount)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentOutOfRangeException.ThrowIfNegative(itemCount);
        var copy = new int[sequences.Count][];
        for (var u = 0; u < copy.Length; u++)
        {
            var s = sequences[u] ?? throw new ArgumentException($"sequence {u} is null", nameof(sequences));
            foreach (var item in s)
            {
                if (item < 1 || item > itemCount)
                {
                    throw new ArgumentException($"sequence {u} holds item {item}, outside 1..{itemCount}", nameof(sequences));
                }
            }

            copy[u] = [.. s];
        }

        return new SequenceDataset(copy, itemCount);
    }

    /// <summary>How often each item occurs over all sequences (index = item id; index 0 is always 0).</summary>
    public long[] ItemFrequencies()
    {
        var counts = new long[ItemCount + 1];
        foreach (var s in sequences)
        {
            foreach (var item in s)
            {
                counts[item]++;
            }
        }

        return counts;
    }

    /// <summary>The leave-one-out training prefixes of every user (see <see cref="LeaveOneOut.TrainingPrefix"/>).</summary>
    public IReadOnlyList<int[]> TrainingPrefixes() => [.. sequences.Select(LeaveOneOut.TrainingPrefix)];
}
