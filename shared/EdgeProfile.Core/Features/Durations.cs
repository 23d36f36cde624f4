using System.Globalization;

namespace EdgeProfile.Core.Features;

/// <summary>Durations as people write them in definitions: <c>500ms</c>, <c>30s</c>, <c>15m</c>, <c>12h</c>, <c>30d</c>, <c>2w</c>.</summary>
public static class Durations
{
    /// <summary>Parses a duration; throws <see cref="FormatException"/> naming the text otherwise.</summary>
    public static TimeSpan Parse(string text)
    {
        if (TryParse(text, out var value))
        {
            return value;
        }

        throw new FormatException($"'{text}' is not a duration (use a number and ms, s, m, h, d or w, e.g. 30d)");
    }

    /// <summary>Parses a duration.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var t = text.Trim();
        var unitStart = t.Length;
        while (unitStart > 0 && char.IsAsciiLetter(t[unitStart - 1]))
        {
            unitStart--;
        }

        if (unitStart == 0 || unitStart == t.Length
            || !double.TryParse(t.AsSpan(0, unitStart), NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
            || n < 0 || double.IsNaN(n) || double.IsInfinity(n))
        {
            return false;
        }

        double? ms = t[unitStart..].ToLowerInvariant() switch
        {
            "ms" => n,
            "s" => n * 1000,
            "m" => n * 60_000,
            "h" => n * 3_600_000,
            "d" => n * 86_400_000,
            "w" => n * 7 * 86_400_000,
            _ => null,
        };
        if (ms is not { } v || v > TimeSpan.MaxValue.TotalMilliseconds)
        {
            return false;
        }

        value = TimeSpan.FromMilliseconds(Math.Round(v));
        return true;
    }

    /// <summary>The shortest exact spelling: <c>30d</c>, <c>1h</c>, <c>90s</c>.</summary>
    public static string Format(TimeSpan value)
    {
        var ms = (long)value.TotalMilliseconds;
        if (ms == 0)
        {
            return "0s";
        }

        foreach (var (unit, size) in Units)
        {
            if (ms % size == 0)
            {
                return (ms / size).ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return ms.ToString(CultureInfo.InvariantCulture) + "ms";
    }

    private static readonly (string Unit, long Size)[] Units = [("d", 86_400_000L), ("h", 3_600_000L), ("m", 60_000L), ("s", 1000L)];
}
