namespace EdgeProfile.Synthesis.Dfs;

/// <summary>The primitives deep feature synthesis stacks (Featuretools names in upper snake case).</summary>
public enum Primitive
{
    /// <summary><c>COUNT</c>: number of rows (0 when none).</summary>
    Count,

    /// <summary><c>SUM</c>: sum of a numeric variable (0 when no rows).</summary>
    Sum,

    /// <summary><c>MEAN</c>: arithmetic mean.</summary>
    Mean,

    /// <summary><c>STD</c>: sample standard deviation (n − 1), as pandas; missing for fewer than 2 values.</summary>
    Std,

    /// <summary><c>MIN</c>: smallest value.</summary>
    Min,

    /// <summary><c>MAX</c>: largest value.</summary>
    Max,

    /// <summary><c>N_UNIQUE</c>: number of distinct values (0 when no rows).</summary>
    NUnique,

    /// <summary><c>MODE</c>: most frequent value (ties: the smallest).</summary>
    Mode,

    /// <summary><c>TREND</c>: least-squares slope of the value over time, in value units per day; missing for fewer than 2 distinct times.</summary>
    Trend,

    /// <summary><c>TIME_SINCE_LAST</c>: days from the latest row to the cutoff.</summary>
    TimeSinceLast,

    /// <summary><c>TIME_SINCE_FIRST</c>: days from the first row to the cutoff.</summary>
    TimeSinceFirst,

    /// <summary><c>AVG_TIME_BETWEEN</c>: mean days between consecutive rows, (last − first) / (n − 1); missing for fewer than 2 rows.</summary>
    AvgTimeBetween,

    /// <summary><c>DAY_OF_WEEK</c> transform: Monday 0 … Sunday 6 (as pandas).</summary>
    DayOfWeek,

    /// <summary><c>HOUR</c> transform: hour of day 0–23.</summary>
    Hour,

    /// <summary><c>MONTH</c> transform: month 1–12.</summary>
    Month,

    /// <summary><c>IS_WEEKEND</c> transform: 1 on Saturday and Sunday, else 0.</summary>
    IsWeekend,

    /// <summary><c>DIVIDE_NUMERIC</c> (ratio) of two numeric aggregates; missing when the denominator is 0.</summary>
    Ratio,
}
