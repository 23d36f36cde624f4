using EdgeProfile.Core.Identity;

namespace EdgeProfile.Core.Tests.Identity;

public sealed class IdentityPlannerTests
{
    private static readonly IdentityPolicy StoreRules = new(new IdentityRules { BlockedKeys = ["device:store-tablet"] });

    [Fact]
    public void Customers_sharing_a_blocked_store_tablet_stay_apart()
    {
        var graph = new IdentityGraph(StoreRules);

        for (var i = 0; i < 50; i++)
        {
            var plan = graph.Link([$"loyalty:L-{i}", "device:store-tablet"]);

            var rejected = Assert.Single(plan.Rejected);
            Assert.Equal("device:store-tablet", rejected.Key);
            Assert.True(rejected.Blocked);
            Assert.Equal([$"loyalty:L-{i}"], plan.NewKeys);
        }

        Assert.Equal(50, graph.ProfileCount);
        Assert.Equal(50, graph.BlockedRejections);
        Assert.Equal(0, graph.LimitRejections);
        Assert.Null(graph.ProfileOf("device:store-tablet"));
        Assert.All(graph.Profiles().Values, keys => Assert.Single(keys));
    }

    [Theory]
    [InlineData("device:000000")]
    [InlineData("app:0")]
    [InlineData("email:UNKNOWN")]
    [InlineData("phone:n/a")]
    public void Built_in_blocked_values_link_nothing(string blocked)
    {
        var graph = new IdentityGraph(IdentityPolicy.Default);

        var first = graph.Link(["loyalty:L-1", blocked]);
        graph.Link(["loyalty:L-2", blocked]);

        Assert.Contains("blocked value", Assert.Single(first.Rejected).Reason, StringComparison.Ordinal);
        Assert.NotEqual(graph.ProfileOf("loyalty:L-1"), graph.ProfileOf("loyalty:L-2"));
        Assert.Null(graph.ProfileOf(blocked));
        Assert.Equal(2, graph.ProfileCount);
    }

    [Fact]
    public void Configured_blocked_value_is_blocked_in_every_kind()
    {
        var graph = new IdentityGraph(new IdentityPolicy(new IdentityRules { BlockedValues = ["guest"] }));

        var plan = graph.Link(["loyalty:L-1", "app:Guest", "device:guest", "device:tab-1"]);

        Assert.Equal(["app:Guest", "device:guest"], plan.Rejected.Select(r => r.Key));
        Assert.All(plan.Rejected, r => Assert.True(r.Blocked));
        Assert.Equal(["loyalty:L-1", "device:tab-1"], plan.NewKeys);
        Assert.Equal(1, graph.ProfileCount);
    }

    [Fact]
    public void Second_loyalty_id_in_one_link_set_is_kept_out_and_gets_its_own_profile()
    {
        var graph = new IdentityGraph(IdentityPolicy.Default);

        var plan = graph.Link(["loyalty:L-1", "loyalty:L-2", "app:u-1"]);

        var rejected = Assert.Single(plan.Rejected);
        Assert.Equal("loyalty:L-2", rejected.Key);
        Assert.False(rejected.Blocked);
        Assert.Contains("limit", rejected.Reason, StringComparison.Ordinal);
        Assert.Equal(["loyalty:L-1", "app:u-1"], plan.NewKeys);

        Assert.Equal(graph.ProfileOf("loyalty:L-1"), graph.ProfileOf("app:u-1"));
        Assert.Equal("loyalty:L-2", graph.ProfileOf("loyalty:L-2"));
        Assert.Equal(2, graph.ProfileCount);
        Assert.Equal(1, graph.LimitRejections);
    }

    [Fact]
    public void Sixth_device_is_kept_out_by_the_default_limit_of_five()
    {
        var graph = new IdentityGraph(IdentityPolicy.Default);
        for (var d = 1; d <= 5; d++)
        {
            graph.Link(["loyalty:L-1", $"device:tab-{d}"]);
        }

        var plan = graph.Link(["loyalty:L-1", "device:tab-6"]);

        Assert.Equal("device:tab-6", Assert.Single(plan.Rejected).Key);
        Assert.Equal(5, graph.KindCounts(graph.ProfileOf("loyalty:L-1")!)["device"]);
        Assert.NotEqual(graph.ProfileOf("loyalty:L-1"), graph.ProfileOf("device:tab-6"));
    }

    [Theory]
    [InlineData("loyalty:L-2", "app:u-1")]
    [InlineData("app:u-1", "loyalty:L-2")]
    public void Stronger_kind_wins_a_conflict_whatever_the_order_in_the_link_set(string first, string second)
    {
        var graph = new IdentityGraph(IdentityPolicy.Default);
        graph.Link(["loyalty:L-1", "app:u-1"]);
        var before = graph.ProfileOf("app:u-1");

        // Loyalty ranks first: L-2 is taken (a new profile), then u-1's profile would bring a second loyalty id.
        var plan = graph.Link([first, second]);

        Assert.Empty(plan.Profiles);
        Assert.Equal(["loyalty:L-2"], plan.NewKeys);
        var rejected = Assert.Single(plan.Rejected);
        Assert.Equal("app:u-1", rejected.Key);
        Assert.Contains("limit", rejected.Reason, StringComparison.Ordinal);

        Assert.Equal(before, graph.ProfileOf("app:u-1"));
        Assert.Equal(graph.ProfileOf("loyalty:L-1"), graph.ProfileOf("app:u-1"));
        Assert.Equal("loyalty:L-2", graph.ProfileOf("loyalty:L-2"));
        Assert.Equal(2, graph.ProfileCount);
    }

    [Fact]
    public void Configured_priority_changes_which_kind_wins()
    {
        var graph = new IdentityGraph(new IdentityPolicy(new IdentityRules { Priority = ["app", "loyalty"] }));
        graph.Link(["loyalty:L-1", "app:u-1"]);

        var plan = graph.Link(["loyalty:L-2", "app:u-1"]);

        Assert.Equal([graph.ProfileOf("app:u-1")!], plan.Profiles);
        Assert.Equal("loyalty:L-2", Assert.Single(plan.Rejected).Key);
        Assert.Equal(graph.ProfileOf("loyalty:L-1"), graph.ProfileOf("app:u-1"));
        Assert.NotEqual(graph.ProfileOf("loyalty:L-1"), graph.ProfileOf("loyalty:L-2"));
    }

    [Fact]
    public void Unlisted_kinds_rank_after_listed_ones()
    {
        var policy = IdentityPolicy.Default;

        Assert.True(policy.Rank("loyalty") < policy.Rank("app"));
        Assert.True(policy.Rank("email") < policy.Rank("device"));
        Assert.True(policy.Rank("device") < policy.Rank("ep"));
        Assert.Null(policy.Limit("ep"));
        Assert.Equal("device", IdentityPolicy.KindOf("device:tab:1"));
    }

    [Fact]
    public void Merging_existing_profiles_takes_the_strongest_first_and_counts_their_whole_contents()
    {
        var graph = new IdentityGraph(IdentityPolicy.Default);
        graph.Link(["email:e1", "device:d1", "device:d2", "device:d3"]);
        graph.Link(["app:u-1", "device:d4", "device:d5", "device:d6"]);

        // app's profile comes first (stronger); the email's profile would make six devices.
        var plan = graph.Link(["email:e1", "app:u-1"]);

        Assert.Equal([graph.ProfileOf("app:u-1")!], plan.Profiles);
        Assert.Equal("email:e1", Assert.Single(plan.Rejected).Key);
        Assert.Equal(2, graph.ProfileCount);
    }

    [Fact]
    public void Planning_does_not_change_the_view()
    {
        var graph = new IdentityGraph(IdentityPolicy.Default);
        graph.Link(["loyalty:L-1", "app:u-1"]);

        var plan = IdentityPlanner.Plan(["app:u-1", "device:tab-1", "loyalty:L-1"], graph, IdentityPolicy.Default);

        Assert.Equal([graph.ProfileOf("loyalty:L-1")!], plan.Profiles);
        Assert.Equal(["device:tab-1"], plan.NewKeys);
        Assert.True(plan.Links);
        Assert.Null(graph.ProfileOf("device:tab-1"));
        Assert.Equal(2, graph.KeyCount);
    }

    [Fact]
    public void Separated_profiles_do_not_merge_again_directly_or_through_a_third_key()
    {
        var graph = new IdentityGraph(IdentityPolicy.Default);
        graph.Link(["email:a", "device:d-1"]);
        graph.Link(["email:b", "device:d-2"]);
        graph.Separate("device:d-1", "device:d-2");

        var direct = graph.Link(["email:a", "email:b"]);
        Assert.Equal("email:b", Assert.Single(direct.Rejected).Key);
        Assert.Contains("split", direct.Rejected[0].Reason, StringComparison.Ordinal);

        // A new identifier seen with both joins the stronger side only.
        var bridge = graph.Link(["loyalty:L-9", "device:d-1", "device:d-2"]);
        Assert.Equal("device:d-2", Assert.Single(bridge.Rejected).Key);

        // A third profile merged into one side carries the split with it.
        graph.Link(["app:u-3", "device:d-3"]);
        graph.Link(["app:u-3", "email:a"]);
        var through = graph.Link(["app:u-3", "email:b"]);
        Assert.Equal("email:b", Assert.Single(through.Rejected).Key);

        Assert.NotEqual(graph.ProfileOf("email:a"), graph.ProfileOf("email:b"));
        Assert.Equal(graph.ProfileOf("email:a"), graph.ProfileOf("device:d-3"));
        Assert.Equal(2, graph.ProfileCount);
    }

    [Fact]
    public void Without_a_separation_the_same_links_merge()
    {
        var graph = new IdentityGraph(IdentityPolicy.Default);
        graph.Link(["email:a", "device:d-1"]);
        graph.Link(["email:b", "device:d-2"]);

        var plan = graph.Link(["email:a", "email:b"]);

        Assert.Empty(plan.Rejected);
        Assert.Equal(1, graph.ProfileCount);
    }
}
