using EdgeProfile.Core.Identity;

namespace EdgeProfile.Core.Tests.Identity;

public sealed class IdentityGraphPropertyTests
{
    private static readonly string[] Kinds = ["loyalty", "app", "device", "email", "card"];

    /// <summary>Identifiers that must never join anything: a configured key, a configured value and built-in values.</summary>
    private static readonly string[] BlockedPool = ["device:store-tablet", "device:000000", "app:unknown", "email:GUEST", "card:0"];

    private sealed record Totals(int LinkSets, long Merges, long LimitRejections, long BlockedRejections, long SplitRejections, int Separations);

    [Fact]
    public void Random_link_sets_keep_limits_blocks_and_equal_connected_components_of_the_accepted_links()
    {
        var totals = Enumerable.Range(0, 100).Select(seed => Check(seed, steps: 100)).ToList();

        // The random sets must actually exercise merges, every kind of rejection and splits.
        Assert.Equal(10_000, totals.Sum(t => t.LinkSets));
        Assert.True(totals.Sum(t => t.Merges) > 300, $"only {totals.Sum(t => t.Merges)} merges");
        Assert.True(totals.Sum(t => t.LimitRejections) > 1_000, $"only {totals.Sum(t => t.LimitRejections)} limit rejections");
        Assert.True(totals.Sum(t => t.BlockedRejections) > 1_000, $"only {totals.Sum(t => t.BlockedRejections)} blocked rejections");
        Assert.True(totals.Sum(t => t.SplitRejections) > 25, $"only {totals.Sum(t => t.SplitRejections)} split rejections");
        Assert.True(totals.Sum(t => t.Separations) > 100, $"only {totals.Sum(t => t.Separations)} separations");
    }

    private static Totals Check(int seed, int steps)
    {
        var rng = new Random(seed);
        var rules = new IdentityRules
        {
            BlockedKeys = ["device:store-tablet"],
            BlockedValues = ["guest"],
            Limits = new Dictionary<string, int>(StringComparer.Ordinal) { ["loyalty"] = 1, ["app"] = 1, ["device"] = rng.Next(1, 4), ["email"] = rng.Next(1, 4) },
            // Half the seeds use the default priority, the others a random order of the kinds ("card" unlimited).
            Priority = rng.Next(2) == 0 ? [] : [.. Kinds.OrderBy(_ => rng.Next())],
        };
        var policy = new IdentityPolicy(rules);
        // A few customers, each with its own identifiers; link sets mostly come from one customer, some mix in another's.
        var customers = Enumerable.Range(0, rng.Next(4, 12))
            .Select(c => Kinds.SelectMany(k => Enumerable.Range(0, k is "loyalty" or "app" ? 1 : rng.Next(1, 4)).Select(i => $"{k}:{k[0]}{c}-{i}")).ToArray())
            .ToArray();
        var universe = customers.SelectMany(c => c).ToArray();
        var graph = new IdentityGraph(policy);
        var oracle = new ConnectedComponents();
        var separations = new List<(string, string)>();
        long merges = 0, limits = 0, blocked = 0, splits = 0;

        for (var step = 0; step < steps; step++)
        {
            var customer = customers[rng.Next(customers.Length)];
            if (rng.Next(100) < 8)
            {
                // An operator keeps apart two of a customer's identifiers that are in different profiles now.
                var a = customer[rng.Next(customer.Length)];
                var b = customer[rng.Next(customer.Length)];
                if (graph.ProfileOf(a) is { } pa && graph.ProfileOf(b) is { } pb && pa != pb)
                {
                    graph.Separate(a, b);
                    separations.Add((a, b));
                }
            }

            var set = Enumerable.Range(0, rng.Next(1, 5))
                .Select(_ => customer[rng.Next(customer.Length)])
                .Concat(rng.Next(4) == 0 ? [universe[rng.Next(universe.Length)]] : [])
                .Select(k => rng.Next(100) < 8 ? BlockedPool[rng.Next(BlockedPool.Length)] : k)
                .ToList();
            var context = $"seed {seed}, step {step}, link set [{string.Join(", ", set)}]";

            var plan = graph.Link(set);
            oracle.Apply(plan);
            merges += plan.Profiles.Count > 1 ? 1 : 0;
            limits += plan.Rejected.Count(r => !r.Blocked && r.Reason.StartsWith("limit", StringComparison.Ordinal));
            splits += plan.Rejected.Count(r => r.Reason.Contains("split", StringComparison.Ordinal));
            blocked += plan.Rejected.Count(r => r.Blocked);

            var profiles = graph.Profiles();
            AssertLimits(policy, profiles, context);
            AssertAcceptedKeysShareTheStrongestKeysProfile(graph, policy, set, plan, context);
            AssertRejectionsAreNeeded(graph, policy, set, plan, context);
            AssertBlockedKeysAreInNoProfile(graph, profiles, context);
            foreach (var (a, b) in separations)
            {
                Assert.True(graph.ProfileOf(a) != graph.ProfileOf(b), $"{context}: separated {a} and {b} merged");
            }

            Assert.Equal(graph.ProfileCount, profiles.Count);
            Assert.True(Partition(profiles).SetEquals(oracle.Partition()), $"{context}: profiles differ from the connected components of the accepted links");

            // The same link set again changes nothing.
            var again = graph.Link(set);
            oracle.Apply(again);
            Assert.True(again.Profiles.Count <= 1 && again.NewKeys.Count == 0, $"{context}: applying again links something");
            Assert.True(SameProfiles(profiles, graph.Profiles()), $"{context}: applying again changed the profiles");
        }

        return new Totals(steps, merges, limits, blocked, splits, separations.Count);
    }

    private static void AssertLimits(IdentityPolicy policy, IReadOnlyDictionary<string, IReadOnlyList<string>> profiles, string context)
    {
        foreach (var (name, keys) in profiles)
        {
            foreach (var kind in keys.GroupBy(IdentityPolicy.KindOf))
            {
                Assert.True(
                    policy.Limit(kind.Key) is not { } limit || kind.Count() <= limit,
                    $"{context}: profile {name} holds {kind.Count()} {kind.Key} identifiers ({string.Join(", ", keys)})");
            }
        }
    }

    private static void AssertAcceptedKeysShareTheStrongestKeysProfile(IdentityGraph graph, IdentityPolicy policy, List<string> set, IdentityPlan plan, string context)
    {
        var rejected = plan.Rejected.Select(r => r.Key).ToHashSet(StringComparer.Ordinal);
        var accepted = set.Distinct(StringComparer.Ordinal).Where(k => !rejected.Contains(k)).ToList();
        if (accepted.Count == 0)
        {
            Assert.All(set, k => Assert.NotNull(policy.Blocked(k)));
            return;
        }

        // Strongest kind first; among equals, the first in the set (OrderBy is stable). It is taken first, so never kept out.
        var strongest = accepted.OrderBy(k => policy.Rank(IdentityPolicy.KindOf(k))).First();
        var strongestOfSet = set.Where(k => policy.Blocked(k) is null).OrderBy(k => policy.Rank(IdentityPolicy.KindOf(k))).First();
        Assert.True(strongest == strongestOfSet, $"{context}: the strongest key {strongestOfSet} was kept out");
        var profile = graph.ProfileOf(strongest);
        Assert.NotNull(profile);
        foreach (var key in accepted)
        {
            Assert.True(graph.ProfileOf(key) == profile, $"{context}: accepted {key} is not with the strongest key {strongest}");
        }

        foreach (var r in plan.Rejected.Where(r => !r.Blocked))
        {
            Assert.True(graph.ProfileOf(r.Key) is { } own && own != profile, $"{context}: rejected {r.Key} is not in a profile of its own");
        }
    }

    /// <summary>A key is only kept out when its profile together with the link's profile breaks a limit or a split.</summary>
    private static void AssertRejectionsAreNeeded(IdentityGraph graph, IdentityPolicy policy, List<string> set, IdentityPlan plan, string context)
    {
        var accepted = set.FirstOrDefault(k => plan.Rejected.All(r => r.Key != k));
        if (accepted is null)
        {
            return;
        }

        var merged = graph.ProfileOf(accepted)!;
        var profiles = graph.Profiles();
        foreach (var r in plan.Rejected.Where(r => !r.Blocked))
        {
            var own = graph.ProfileOf(r.Key)!;
            var overLimit = profiles[merged].Concat(profiles[own])
                .GroupBy(IdentityPolicy.KindOf)
                .Any(g => policy.Limit(g.Key) is { } limit && g.Count() > limit);
            // Counts only grow after a rejection, so its reason still holds against the final profile.
            var holds = r.Reason.Contains("split", StringComparison.Ordinal) ? graph.Separated(merged, own) : overLimit;
            Assert.True(holds, $"{context}: {r.Key} was kept out ({r.Reason}) though it fits");
        }
    }

    private static void AssertBlockedKeysAreInNoProfile(IdentityGraph graph, IReadOnlyDictionary<string, IReadOnlyList<string>> profiles, string context)
    {
        foreach (var key in BlockedPool)
        {
            Assert.True(graph.ProfileOf(key) is null, $"{context}: blocked {key} is in a profile");
        }

        Assert.DoesNotContain(profiles.Values.SelectMany(k => k), k => BlockedPool.Contains(k, StringComparer.Ordinal));
    }

    private static HashSet<string> Partition(IReadOnlyDictionary<string, IReadOnlyList<string>> profiles) =>
        profiles.Values.Select(keys => string.Join(" ", keys.Order(StringComparer.Ordinal))).ToHashSet(StringComparer.Ordinal);

    private static bool SameProfiles(IReadOnlyDictionary<string, IReadOnlyList<string>> a, IReadOnlyDictionary<string, IReadOnlyList<string>> b) =>
        a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var keys) && keys.Order(StringComparer.Ordinal).SequenceEqual(p.Value.Order(StringComparer.Ordinal)));

    /// <summary>
    /// The accepted links replayed the obvious way: every key a plan accepted (and every key it kept out, alone) is a
    /// node, each plan joins its profiles and new keys, and profiles are found by breadth-first search.
    /// </summary>
    private sealed class ConnectedComponents
    {
        private readonly Dictionary<string, List<string>> _edges = new(StringComparer.Ordinal);

        public void Apply(IdentityPlan plan)
        {
            var joined = plan.Profiles.Concat(plan.NewKeys).ToList();
            foreach (var key in joined.Concat(plan.Rejected.Where(r => !r.Blocked).Select(r => r.Key)))
            {
                _edges.TryAdd(key, []);
            }

            for (var i = 1; i < joined.Count; i++)
            {
                _edges[joined[0]].Add(joined[i]);
                _edges[joined[i]].Add(joined[0]);
            }
        }

        public HashSet<string> Partition()
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var result = new HashSet<string>(StringComparer.Ordinal);
            foreach (var start in _edges.Keys)
            {
                if (!seen.Add(start))
                {
                    continue;
                }

                var component = new List<string> { start };
                var queue = new Queue<string>([start]);
                while (queue.TryDequeue(out var key))
                {
                    foreach (var next in _edges[key].Where(seen.Add))
                    {
                        component.Add(next);
                        queue.Enqueue(next);
                    }
                }

                result.Add(string.Join(" ", component.Order(StringComparer.Ordinal)));
            }

            return result;
        }
    }
}
