using EdgeProfile.Synthesis.Loading;

namespace EdgeProfile.Synthesis.Dfs;

/// <summary>
/// Aggregates of one parent entity (products, stores or categories) over all customers' transactions before any
/// cutoff, answered by binary search: per key, the transaction times in order with running sums of amount, and the
/// times at which each customer first bought under that key.
/// </summary>
internal sealed class ParentIndex
{
    private readonly int[] offsets;
    private readonly long[] times;
    private readonly double[] cumulativeAmount;
    private readonly int[] firstOffsets;
    private readonly long[] firstTimes;

    public ParentIndex(EntitySet set, int[] keyOfRow, int keyCount)
    {
        var n = keyOfRow.Length;
        offsets = new int[keyCount + 1];
        foreach (var k in keyOfRow)
        {
            if (k >= 0)
            {
                offsets[k + 1]++;
            }
        }

        for (var k = 0; k < keyCount; k++)
        {
            offsets[k + 1] += offsets[k];
        }

        var total = offsets[keyCount];
        var order = new int[total];
        var fill = (int[])offsets.Clone();
        for (var r = 0; r < n; r++)
        {
            if (keyOfRow[r] >= 0)
            {
                order[fill[keyOfRow[r]]++] = r;
            }
        }

        times = new long[total];
        cumulativeAmount = new double[total + 1];
        firstOffsets = new int[keyCount + 1];
        var firsts = new List<long>();
        var seen = new HashSet<int>();
        for (var k = 0; k < keyCount; k++)
        {
            // Rows of one key, by time (rows are in customer order, so sort each group).
            Array.Sort(order, offsets[k], offsets[k + 1] - offsets[k], Comparer<int>.Create((a, b) =>
            {
                var d = set.Time[a].CompareTo(set.Time[b]);
                return d != 0 ? d : a.CompareTo(b);
            }));
            seen.Clear();
            for (var i = offsets[k]; i < offsets[k + 1]; i++)
            {
                var r = order[i];
                times[i] = set.Time[r];
                cumulativeAmount[i + 1] = cumulativeAmount[i] + set.Amount[r];
                if (seen.Add(set.Customer[r]))
                {
                    firsts.Add(set.Time[r]);
                }
            }

            firstOffsets[k + 1] = firsts.Count;
        }

        firstTimes = [.. firsts];
    }

    /// <summary>The key's aggregate over rows strictly before <paramref name="cutoff"/>; NaN for a missing key or a mean of nothing.</summary>
    public double Value(ParentAggregate aggregate, int key, long cutoff)
    {
        if (key < 0)
        {
            return double.NaN;
        }

        switch (aggregate)
        {
            case ParentAggregate.UniqueCustomers:
                return LowerBound(firstTimes, firstOffsets[key], firstOffsets[key + 1], cutoff) - firstOffsets[key];
            case ParentAggregate.Count:
                return LowerBound(times, offsets[key], offsets[key + 1], cutoff) - offsets[key];
            default:
                var end = LowerBound(times, offsets[key], offsets[key + 1], cutoff);
                var count = end - offsets[key];
                return count == 0 ? double.NaN : (cumulativeAmount[end] - cumulativeAmount[offsets[key]]) / count;
        }
    }

    private static int LowerBound(long[] values, int lo, int hi, long value)
    {
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (values[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
