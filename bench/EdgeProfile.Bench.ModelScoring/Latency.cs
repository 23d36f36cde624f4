using System.Diagnostics;

namespace EdgeProfile.Bench.ModelScoring;

/// <summary>Per-call timings of one variant, as <see cref="Stopwatch.GetTimestamp"/> ticks.</summary>
public sealed class Latency(string name, int capacity)
{
    private readonly long[] ticks = new long[capacity];
    private int count;

    /// <summary>What was timed.</summary>
    public string Name => name;

    /// <summary>Samples recorded.</summary>
    public int Count => count;

    /// <summary>Records one call timed from <paramref name="start"/> to <paramref name="end"/>.</summary>
    public void Add(long start, long end) => ticks[count++] = end - start;

    /// <summary>Percentile (0–100, nearest rank) in milliseconds.</summary>
    public double Percentile(double p)
    {
        var sorted = ticks.AsSpan(0, count).ToArray();
        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(p / 100.0 * count) - 1;
        return Ms(sorted[Math.Clamp(rank, 0, count - 1)]);
    }

    /// <summary>Largest sample in milliseconds.</summary>
    public double Max => Ms(ticks.AsSpan(0, count).ToArray().Max());

    /// <summary>Sum of all samples in seconds.</summary>
    public double TotalSeconds
    {
        get
        {
            long sum = 0;
            foreach (var t in ticks.AsSpan(0, count))
            {
                sum += t;
            }

            return (double)sum / Stopwatch.Frequency;
        }
    }

    /// <summary>Mean in milliseconds.</summary>
    public double Mean => TotalSeconds * 1000.0 / count;

    private static double Ms(long t) => t * 1000.0 / Stopwatch.Frequency;
}
