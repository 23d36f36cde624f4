using System.Globalization;
using EdgeProfile.Hub.Api;

namespace EdgeProfile.Hub.Profiles;

/// <summary>
/// How each store's view of a customer is combined into the global profile, declared per field
/// (<c>Hub:Profiles:Merge:{field}</c>): numbers <c>sum</c> (default), <c>max</c>, <c>min</c> or <c>latest</c> (the store
/// that saw the customer last); <c>last_category</c> <c>latest</c> (default) or <c>first</c>. The per-store breakdown is
/// always in the profile's <c>stores</c>.
/// </summary>
internal sealed class MergePolicies
{
    /// <summary>The numeric fields and the text field a policy may be declared for.</summary>
    public static readonly IReadOnlyList<string> NumericFields = ["visits_7d", "visits_30d", "spend_7d", "spend_30d"];

    private static readonly string[] NumericPolicies = ["sum", "max", "min", "latest"];
    private static readonly string[] TextPolicies = ["latest", "first"];
    private readonly Dictionary<string, string> _policies = new(StringComparer.Ordinal);

    /// <summary>Policies from configuration (already validated).</summary>
    public MergePolicies(IReadOnlyDictionary<string, string> declared)
    {
        ArgumentNullException.ThrowIfNull(declared);
        foreach (var field in NumericFields)
        {
            _policies[field] = "sum";
        }

        _policies["last_category"] = "latest";
        foreach (var (field, policy) in declared)
        {
            _policies[field] = policy.Trim().ToLowerInvariant();
        }
    }

    /// <summary>Every problem with <paramref name="declared"/>, naming <c>Hub:Profiles:Merge:{field}</c>.</summary>
    public static IEnumerable<string> Validate(IReadOnlyDictionary<string, string> declared)
    {
        ArgumentNullException.ThrowIfNull(declared);
        foreach (var (field, policy) in declared)
        {
            var p = policy?.Trim().ToLowerInvariant() ?? "";
            if (NumericFields.Contains(field))
            {
                if (!NumericPolicies.Contains(p))
                {
                    yield return $"Hub:Profiles:Merge:{field}: '{policy}' is not a policy for a number (use {string.Join(", ", NumericPolicies)})";
                }
            }
            else if (field == "last_category")
            {
                if (!TextPolicies.Contains(p))
                {
                    yield return $"Hub:Profiles:Merge:{field}: '{policy}' is not a policy for a text (use {string.Join(", ", TextPolicies)})";
                }
            }
            else
            {
                yield return $"Hub:Profiles:Merge:{field}: unknown field (fields: {string.Join(", ", NumericFields)}, last_category)";
            }
        }
    }

    /// <summary>The global features of <paramref name="stores"/> under these policies.</summary>
    public GlobalFeatures Combine(IReadOnlyList<StoreProfileEntry> stores)
    {
        ArgumentNullException.ThrowIfNull(stores);
        var byRecency = stores.Where(s => s.LastSeen is not null).OrderByDescending(s => s.LastSeen).ToList();
        var latest = byRecency.FirstOrDefault();
        double Number(string field, Func<StoreProfileEntry, double> value) => stores.Count == 0 ? 0 : _policies[field] switch
        {
            "max" => stores.Max(value),
            "min" => stores.Min(value),
            "latest" => latest is null ? 0 : value(latest),
            _ => stores.Sum(value),
        };

        var categories = byRecency.Where(s => s.LastCategory is not null).ToList();
        return new GlobalFeatures(
            (int)Number("visits_7d", s => s.Visits7d),
            (int)Number("visits_30d", s => s.Visits30d),
            Math.Round(Number("spend_7d", s => s.Spend7d), 2),
            Math.Round(Number("spend_30d", s => s.Spend30d), 2),
            latest?.LastSeen,
            (_policies["last_category"] == "first" ? categories.LastOrDefault() : categories.FirstOrDefault())?.LastCategory,
            stores.Select(s => s.LastChannel).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            stores.Select(s => s.StoreId).Distinct(StringComparer.Ordinal).Count());
    }

    /// <summary>The reason line that says how the numbers were combined.</summary>
    public string Explain(IReadOnlyList<string> storeIds)
    {
        ArgumentNullException.ThrowIfNull(storeIds);
        var byPolicy = NumericFields.GroupBy(f => _policies[f]).Select(g => $"{string.Join(", ", g)}: {Verb(g.Key)}");
        return string.Create(CultureInfo.InvariantCulture,
            $"{string.Join("; ", byPolicy)} over {storeIds.Count} store(s): {string.Join(", ", storeIds)}; last_category: {_policies["last_category"]}");
    }

    private static string Verb(string policy) => policy switch
    {
        "max" => "the highest store value",
        "min" => "the lowest store value",
        "latest" => "the value of the store that saw the customer last",
        _ => "summed",
    };
}
