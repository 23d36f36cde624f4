namespace EdgeProfile.Bench.HubReads;

/// <summary>Latency percentiles in milliseconds and the rate they were measured at.</summary>
internal sealed record Percentiles(long Count, double P50, double P99, double Max, double OpsPerSecond)
{
    public static Percentiles Of(List<double> ms, double seconds)
    {
        if (ms.Count == 0)
        {
            return new Percentiles(0, double.NaN, double.NaN, double.NaN, 0);
        }

        ms.Sort();
        double At(double q) => ms[Math.Min(ms.Count - 1, (int)Math.Ceiling(q * ms.Count) - 1)];
        return new Percentiles(ms.Count, At(0.50), At(0.99), ms[^1], ms.Count / seconds);
    }
}
