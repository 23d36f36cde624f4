namespace EdgeProfile.Models.Explaining;

/// <summary>
/// A partition of a model's features into named groups (e.g. <c>recency</c>, <c>spend</c>, <c>category:Baby</c>):
/// attributions are per group, so a group is one player of the Shapley game. Every feature is in exactly one group.
/// </summary>
public sealed class FeatureGroups
{
    /// <summary>Groups by name with their feature indices.</summary>
    /// <exception cref="ArgumentException">A feature is in no group or in two, a group is empty, or names repeat.</exception>
    public FeatureGroups(int inputs, IReadOnlyList<string> names, IReadOnlyList<int[]> members)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(members);
        if (names.Count != members.Count || names.Count == 0)
        {
            throw new ArgumentException($"groups: {names.Count} names for {members.Count} member lists", nameof(names));
        }

        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
        {
            throw new ArgumentException("groups: names must be distinct", nameof(names));
        }

        var owner = new int[inputs];
        Array.Fill(owner, -1);
        for (int g = 0; g < members.Count; g++)
        {
            if (members[g].Length == 0)
            {
                throw new ArgumentException($"group '{names[g]}' has no feature", nameof(members));
            }

            foreach (int i in members[g])
            {
                if (i < 0 || i >= inputs || owner[i] >= 0)
                {
                    throw new ArgumentException($"group '{names[g]}': feature {i} is out of range or already in a group", nameof(members));
                }

                owner[i] = g;
            }
        }

        int orphan = Array.IndexOf(owner, -1);
        if (orphan >= 0)
        {
            throw new ArgumentException($"groups: feature {orphan} is in no group", nameof(members));
        }

        Inputs = inputs;
        Names = [.. names];
        Members = [.. members.Select(m => (int[])m.Clone())];
        GroupOf = owner;
    }

    /// <summary>One group per feature, named after it.</summary>
    public static FeatureGroups Singletons(IReadOnlyList<string> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        return new FeatureGroups(features.Count, features, [.. Enumerable.Range(0, features.Count).Select(i => new[] { i })]);
    }

    /// <summary>Groups features by a key per feature (groups in order of first appearance).</summary>
    public static FeatureGroups By(IReadOnlyList<string> features, Func<string, string> key)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(key);
        var names = new List<string>();
        var members = new List<List<int>>();
        for (int i = 0; i < features.Count; i++)
        {
            string k = key(features[i]);
            int g = names.IndexOf(k);
            if (g < 0)
            {
                names.Add(k);
                members.Add([]);
                g = names.Count - 1;
            }

            members[g].Add(i);
        }

        return new FeatureGroups(features.Count, names, [.. members.Select(m => m.ToArray())]);
    }

    /// <summary>Number of features.</summary>
    public int Inputs { get; }

    /// <summary>Number of groups M.</summary>
    public int Count => Names.Count;

    /// <summary>Group names.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Feature indices of each group.</summary>
    public IReadOnlyList<int[]> Members { get; }

    /// <summary>The group of each feature.</summary>
    public IReadOnlyList<int> GroupOf { get; }
}
