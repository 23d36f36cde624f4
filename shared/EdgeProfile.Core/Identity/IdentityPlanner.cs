namespace EdgeProfile.Core.Identity;

/// <summary>
/// Deterministic identity resolution for identifiers seen together (one event, one delta): blocked identifiers are
/// dropped; the others are taken strongest kind first (<see cref="IdentityPolicy.Rank"/>), each bringing its whole
/// current profile, and one is kept out when taking it would give the profile more identifiers of a kind than the
/// limit allows or would undo an operator's split. So a conflict is always lost by the weaker identifier.
/// </summary>
public static class IdentityPlanner
{
    /// <summary>Plans the links among <paramref name="keys"/>.</summary>
    public static IdentityPlan Plan(IReadOnlyList<string> keys, IIdentityView view, IdentityPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(policy);

        var rejected = new List<RejectedKey>();
        var candidates = new List<(string Key, string Kind, int Rank, int Order)>(keys.Count);
        var distinct = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (!distinct.Add(key))
            {
                continue;
            }

            if (policy.Blocked(key) is { } why)
            {
                rejected.Add(new RejectedKey(key, why, Blocked: true));
                continue;
            }

            var kind = IdentityPolicy.KindOf(key);
            candidates.Add((key, kind, policy.Rank(kind), candidates.Count));
        }

        candidates.Sort((a, b) => a.Rank != b.Rank ? a.Rank.CompareTo(b.Rank) : a.Order.CompareTo(b.Order));

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var profiles = new List<string>();
        var newKeys = new List<string>();
        foreach (var (key, kind, _, _) in candidates)
        {
            var profile = view.ProfileOf(key);
            if (profile is not null && profiles.Contains(profile))
            {
                continue;
            }

            IReadOnlyDictionary<string, int> unit = profile is null
                ? new Dictionary<string, int>(StringComparer.Ordinal) { [kind] = 1 }
                : view.KindCounts(profile);
            if (OverLimit(counts, unit, policy) is { } limitReason)
            {
                rejected.Add(new RejectedKey(key, limitReason, Blocked: false));
                continue;
            }

            if (profile is not null && profiles.FirstOrDefault(p => view.Separated(p, profile)) is { } apart)
            {
                rejected.Add(new RejectedKey(key, $"an operator split profile {profile} from {apart}", Blocked: false));
                continue;
            }

            foreach (var (k, n) in unit)
            {
                counts[k] = counts.GetValueOrDefault(k) + n;
            }

            if (profile is null)
            {
                newKeys.Add(key);
            }
            else
            {
                profiles.Add(profile);
            }
        }

        return new IdentityPlan(profiles, newKeys, rejected);
    }

    private static string? OverLimit(Dictionary<string, int> counts, IReadOnlyDictionary<string, int> unit, IdentityPolicy policy)
    {
        foreach (var (kind, n) in unit)
        {
            if (policy.Limit(kind) is { } limit && counts.GetValueOrDefault(kind) + n > limit)
            {
                return $"limit: the profile would hold {counts.GetValueOrDefault(kind) + n} {kind} identifiers (at most {limit})";
            }
        }

        return null;
    }
}
