using System.Globalization;

namespace EdgeProfile.Core.Identity;

/// <summary>
/// How identifiers may join into one profile (section <c>Hub:Identity</c>): values that never link anything (a shared
/// store tablet, <c>000000</c>, test cards), how many identifiers of a kind one profile may hold, and which kinds win
/// when a link would break a limit. Bound from configuration; <see cref="Validate"/> names the offending key.
/// </summary>
public sealed class IdentityRules
{
    /// <summary>Kinds in the order they win a conflict when <see cref="Priority"/> is empty.</summary>
    public static readonly IReadOnlyList<string> DefaultPriority = ["loyalty", "app", "card", "phone", "email", "device"];

    /// <summary>Values that are blocked in every kind, whatever the configuration adds.</summary>
    public static readonly IReadOnlyList<string> BuiltInBlockedValues = ["0", "000000", "00000000", "unknown", "none", "null", "n/a", "test", "anonymous"];

    /// <summary>Whole keys that never link, e.g. <c>device:store2-tablet</c> (a device every customer uses).</summary>
    public List<string> BlockedKeys { get; set; } = [];

    /// <summary>Raw values blocked in every kind, besides <see cref="BuiltInBlockedValues"/> (compared ignoring case).</summary>
    public List<string> BlockedValues { get; set; } = [];

    /// <summary>
    /// Most identifiers of a kind that one profile may hold; kinds not listed are unlimited. Defaults: one loyalty id,
    /// one app user, 5 devices, 3 emails, 3 phones, 10 cards.
    /// </summary>
    public Dictionary<string, int> Limits { get; set; } = new(StringComparer.Ordinal)
    {
        ["loyalty"] = 1,
        ["app"] = 1,
        ["device"] = 5,
        ["email"] = 3,
        ["phone"] = 3,
        ["card"] = 10,
    };

    /// <summary>Kinds, strongest first; empty: <see cref="DefaultPriority"/>. Kinds not listed rank after those listed.</summary>
    public List<string> Priority { get; set; } = [];

    /// <summary>Every problem, each naming its key under <paramref name="section"/> (e.g. <c>Hub:Identity</c>).</summary>
    public IReadOnlyList<string> Validate(string section)
    {
        var errors = new List<string>();
        for (var i = 0; i < BlockedKeys.Count; i++)
        {
            var key = BlockedKeys[i];
            var colon = key?.IndexOf(':', StringComparison.Ordinal) ?? -1;
            if (colon <= 0 || colon == key!.Length - 1)
            {
                errors.Add($"{section}:BlockedKeys:{i}: '{key}' is not a typed key such as device:store2-tablet");
            }
        }

        for (var i = 0; i < BlockedValues.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(BlockedValues[i]))
            {
                errors.Add($"{section}:BlockedValues:{i}: empty value");
            }
        }

        foreach (var (kind, limit) in Limits)
        {
            if (limit < 1)
            {
                errors.Add($"{section}:Limits:{kind}: must be at least 1 (got {limit.ToString(CultureInfo.InvariantCulture)}); remove the entry for no limit");
            }
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Priority.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(Priority[i]) || Priority[i].Contains(':', StringComparison.Ordinal))
            {
                errors.Add($"{section}:Priority:{i}: '{Priority[i]}' is not a key kind such as loyalty");
            }
            else if (!seen.Add(Priority[i]))
            {
                errors.Add($"{section}:Priority:{i}: '{Priority[i]}' is listed twice");
            }
        }

        return errors;
    }
}
