namespace EdgeProfile.Core.Features;

/// <summary>
/// A computed value: a number, a text (last value of a text field) or a ranking (top-k: value and share of weight,
/// largest first). All null means "no value" (e.g. the mean of an empty window).
/// </summary>
public sealed record FeatureValue(double? Number = null, string? Text = null, IReadOnlyList<RankedValue>? Ranking = null)
{
    /// <summary>No value.</summary>
    public static FeatureValue None { get; } = new();

    /// <summary>Whether there is no value.</summary>
    public bool IsNone => Number is null && Text is null && (Ranking is null || Ranking.Count == 0);

    /// <summary>Compact text for tables and CSV: the number, the text, or <c>a:0.61|b:0.3</c>.</summary>
    public override string ToString() =>
        Number is { } n ? n.ToString("G10", System.Globalization.CultureInfo.InvariantCulture)
        : Text ?? (Ranking is { Count: > 0 } r ? string.Join('|', r.Select(x => $"{x.Value}:{x.Share.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}")) : "");
}

/// <summary>One entry of a top-k ranking: the value, its total weight and its share of the window's weight.</summary>
public sealed record RankedValue(string Value, double Weight, double Share);
