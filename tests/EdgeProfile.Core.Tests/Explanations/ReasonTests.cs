using EdgeProfile.Core.Explanations;

namespace EdgeProfile.Core.Tests.Explanations;

public sealed class ReasonTests
{
    [Fact]
    public void A_fired_rule_becomes_a_rule_reason_with_its_premises_as_evidence()
    {
        var premises = new[]
        {
            new ReasonEvidence("baby_views_2h@v1", 3, "3"),
            new ReasonEvidence("lifetime_spend@v1", 2400, "2400.00"),
            new ReasonEvidence("segment=new_parent", null, null),
        };

        var reason = Reason.FromRule("high_value_mother", 3, "High-value mother: 3 baby views in 2 hours and 2400.00 spent", premises);

        Assert.Equal(ReasonKind.Rule, reason.Kind);
        Assert.Equal("rule:high_value_mother@v3", reason.Code);
        Assert.Equal("high_value_mother@v3", reason.Source);
        Assert.Equal("High-value mother: 3 baby views in 2 hours and 2400.00 spent", reason.Text);
        Assert.Equal(1.0, reason.Weight);
        Assert.Equal(1, reason.Direction);
        Assert.Null(reason.Group);
        Assert.Equal(premises, reason.Evidence);
    }

    [Fact]
    public void A_rule_reason_needs_an_id_a_version_and_a_text()
    {
        Assert.Throws<ArgumentException>(() => Reason.FromRule(" ", 1, "text", []));
        Assert.Throws<ArgumentOutOfRangeException>(() => Reason.FromRule("r", 0, "text", []));
        Assert.Throws<ArgumentException>(() => Reason.FromRule("r", 1, "", []));
        Assert.Throws<ArgumentNullException>(() => Reason.FromRule("r", 1, "text", null!));
    }
}
