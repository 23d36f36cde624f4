using EdgeProfile.Synthesis.Loading;

namespace EdgeProfile.Synthesis.Dfs;

/// <summary>Computes one feature for one customer at one cutoff, from the customer's rows before the cutoff. Not thread-safe (scratch sets); one per thread.</summary>
internal sealed class FeatureEvaluator(EntitySet set, IReadOnlyDictionary<ParentEntity, ParentIndex> parents)
{
    public const double MsPerDay = 86_400_000.0;
    private const long DayMs = 86_400_000L;
    private readonly HashSet<int> distinct = [];
    private readonly Dictionary<int, int> counts = [];

    /// <summary>The feature's value; <paramref name="end"/> is the customer's first row at or after the cutoff.</summary>
    public double Evaluate(FeaturePlan p, int customer, long cutoff, int end)
    {
        var start = set.CustomerStart[customer];
        if (p.Window is { } w)
        {
            start = Math.Max(start, set.FirstRowAtOrAfter(customer, cutoff - (long)w.TotalMilliseconds));
        }

        switch (p.Aggregation)
        {
            case Primitive.Count:
                {
                    var n = 0;
                    for (var r = start; r < end; r++)
                    {
                        if (Pass(p, r))
                        {
                            n++;
                        }
                    }

                    return n;
                }

            case Primitive.TimeSinceLast:
                for (var r = end - 1; r >= start; r--)
                {
                    if (Pass(p, r))
                    {
                        return (cutoff - set.Time[r]) / MsPerDay;
                    }
                }

                return double.NaN;

            case Primitive.TimeSinceFirst:
                for (var r = start; r < end; r++)
                {
                    if (Pass(p, r))
                    {
                        return (cutoff - set.Time[r]) / MsPerDay;
                    }
                }

                return double.NaN;

            case Primitive.AvgTimeBetween:
                {
                    long first = 0, last = 0;
                    var n = 0;
                    for (var r = start; r < end; r++)
                    {
                        if (Pass(p, r))
                        {
                            if (n == 0)
                            {
                                first = set.Time[r];
                            }

                            last = set.Time[r];
                            n++;
                        }
                    }

                    return n < 2 ? double.NaN : (last - first) / MsPerDay / (n - 1);
                }

            case Primitive.NUnique:
                distinct.Clear();
                for (var r = start; r < end; r++)
                {
                    if (Pass(p, r) && Code(p.Input, r) is var c and >= 0)
                    {
                        distinct.Add(c);
                    }
                }

                return distinct.Count;

            case Primitive.Mode:
                {
                    counts.Clear();
                    for (var r = start; r < end; r++)
                    {
                        if (Pass(p, r) && Code(p.Input, r) is var c and >= 0)
                        {
                            counts[c] = counts.GetValueOrDefault(c) + 1;
                        }
                    }

                    if (counts.Count == 0)
                    {
                        return double.NaN;
                    }

                    int best = -1, bestCount = 0;
                    foreach (var (c, k) in counts)
                    {
                        if (k > bestCount || (k == bestCount && c < best))
                        {
                            (best, bestCount) = (c, k);
                        }
                    }

                    return best;
                }

            case Primitive.Trend:
                return Trend(p, start, end, cutoff);

            default:
                return Numeric(p, start, end, cutoff);
        }
    }

    private double Numeric(FeaturePlan p, int start, int end, long cutoff)
    {
        var n = 0;
        double sum = 0, mean = 0, m2 = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        for (var r = start; r < end; r++)
        {
            if (!Pass(p, r))
            {
                continue;
            }

            var v = Number(p, r, cutoff);
            if (double.IsNaN(v))
            {
                continue;
            }

            n++;
            sum += v;
            var delta = v - mean;
            mean += delta / n;
            m2 += delta * (v - mean);
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        return p.Aggregation switch
        {
            Primitive.Sum => sum,
            Primitive.Mean => n == 0 ? double.NaN : sum / n,
            Primitive.Std => n < 2 ? double.NaN : Math.Sqrt(Math.Max(0, m2 / (n - 1))),
            Primitive.Min => n == 0 ? double.NaN : min,
            Primitive.Max => n == 0 ? double.NaN : max,
            _ => throw new InvalidOperationException($"{p.Aggregation} is not a numeric aggregation"),
        };
    }

    private double Trend(FeaturePlan p, int start, int end, long cutoff)
    {
        // Two passes, centred, so that large epoch times do not cancel.
        var n = 0;
        double sx = 0, sy = 0;
        var origin = start < end ? set.Time[start] : 0;
        for (var r = start; r < end; r++)
        {
            if (Pass(p, r) && Number(p, r, cutoff) is var v && !double.IsNaN(v))
            {
                n++;
                sx += (set.Time[r] - origin) / MsPerDay;
                sy += v;
            }
        }

        if (n < 2)
        {
            return double.NaN;
        }

        double mx = sx / n, my = sy / n, sxx = 0, sxy = 0;
        for (var r = start; r < end; r++)
        {
            if (Pass(p, r) && Number(p, r, cutoff) is var v && !double.IsNaN(v))
            {
                var dx = ((set.Time[r] - origin) / MsPerDay) - mx;
                sxx += dx * dx;
                sxy += dx * (v - my);
            }
        }

        return sxx <= 1e-12 ? double.NaN : sxy / sxx;
    }

    private bool Pass(FeaturePlan p, int row) => p.WhereVariable == RowVariable.None || Code(p.WhereVariable, row) == p.WhereCode;

    private double Number(FeaturePlan p, int row, long cutoff) => p.Input switch
    {
        RowVariable.Amount => set.Amount[row],
        RowVariable.Quantity => set.Quantity[row],
        RowVariable.Hour => HourOf(set.Time[row]),
        RowVariable.IsWeekend => DayOfWeekOf(set.Time[row]) >= 5 ? 1 : 0,
        RowVariable.Parent => parents[p.Parent].Value(p.ParentAggregate, p.Parent switch
        {
            ParentEntity.Products => set.Product[row],
            ParentEntity.Stores => set.Store[row],
            _ => set.Category[row],
        }, cutoff),
        _ => throw new InvalidOperationException($"{p.Input} is not numeric"),
    };

    public int Code(RowVariable variable, int row) => variable switch
    {
        RowVariable.Product => set.Product[row],
        RowVariable.Category => set.Category[row],
        RowVariable.CategoryTop => set.CategoryTop[row],
        RowVariable.Store => set.Store[row],
        RowVariable.Channel => set.Channel[row],
        RowVariable.Basket => set.Basket[row],
        RowVariable.DayOfWeek => DayOfWeekOf(set.Time[row]),
        RowVariable.Month => MonthOf(set.Time[row]),
        RowVariable.Hour => HourOf(set.Time[row]),
        _ => throw new InvalidOperationException($"{variable} is not categorical"),
    };

    /// <summary>Monday 0 … Sunday 6; 1970-01-01 was a Thursday (3).</summary>
    public static int DayOfWeekOf(long ms) => (int)(((FloorDay(ms) + 3) % 7 + 7) % 7);

    private static long FloorDay(long ms) => ms >= 0 ? ms / DayMs : ((ms + 1) / DayMs) - 1;

    public static int HourOf(long ms) => (int)((ms % DayMs + DayMs) % DayMs / 3_600_000L);

    public static int MonthOf(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.Month;
}
