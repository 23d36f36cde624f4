using EdgeProfile.Core.Identity;

namespace EdgeProfile.Core.Tests.Identity;

public sealed class IdentityRulesTests
{
    private const string Section = "Hub:Identity";

    [Fact]
    public void Default_rules_are_valid()
    {
        Assert.Empty(new IdentityRules().Validate(Section));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Limit_below_one_names_its_key(int limit)
    {
        var rules = new IdentityRules();
        rules.Limits["loyalty"] = limit;

        var error = Assert.Single(rules.Validate(Section));

        Assert.StartsWith("Hub:Identity:Limits:loyalty:", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Kind_listed_twice_in_priority_names_the_second_entry()
    {
        var rules = new IdentityRules { Priority = ["loyalty", "app", "loyalty"] };

        var error = Assert.Single(rules.Validate(Section));

        Assert.StartsWith("Hub:Identity:Priority:2:", error, StringComparison.Ordinal);
        Assert.Contains("twice", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("device:tab-1")]
    public void Priority_entry_that_is_not_a_kind_names_its_key(string entry)
    {
        var rules = new IdentityRules { Priority = ["loyalty", entry] };

        var error = Assert.Single(rules.Validate(Section));

        Assert.StartsWith("Hub:Identity:Priority:1:", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("store-tablet")]
    [InlineData(":store-tablet")]
    [InlineData("device:")]
    [InlineData("")]
    public void Blocked_key_without_kind_or_value_names_its_key(string key)
    {
        var rules = new IdentityRules { BlockedKeys = ["device:store-tablet", key] };

        var error = Assert.Single(rules.Validate(Section));

        Assert.StartsWith("Hub:Identity:BlockedKeys:1:", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Empty_blocked_value_names_its_key(string value)
    {
        var rules = new IdentityRules { BlockedValues = ["guest", value] };

        var error = Assert.Single(rules.Validate(Section));

        Assert.StartsWith("Hub:Identity:BlockedValues:1:", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_bad_entry_is_reported_at_once()
    {
        var rules = new IdentityRules
        {
            BlockedKeys = ["store-tablet"],
            BlockedValues = [""],
            Priority = ["app", "app"],
        };
        rules.Limits["device"] = 0;

        var errors = rules.Validate(Section);

        Assert.Equal(
            ["Hub:Identity:BlockedKeys:0", "Hub:Identity:BlockedValues:0", "Hub:Identity:Limits:device", "Hub:Identity:Priority:1"],
            errors.Select(e => e[..e.IndexOf(": ", StringComparison.Ordinal)]));
    }

    [Fact]
    public void Policy_refuses_invalid_rules()
    {
        var rules = new IdentityRules();
        rules.Limits["app"] = 0;

        var error = Assert.Throws<ArgumentException>(() => new IdentityPolicy(rules));

        Assert.Contains("Limits:app", error.Message, StringComparison.Ordinal);
    }
}
