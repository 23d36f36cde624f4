using EdgeProfile.Knowledge.Rules;

namespace EdgeProfile.Knowledge.Tests.Rules;

internal static class RuleTestHelpers
{
    public static RuleSet Compile(string text, ISet<string>? knownFeatures = null)
    {
        var result = RuleCompiler.Compile(text, knownFeatures);
        Assert.True(result.Success, "compile errors:\n" + string.Join("\n", result.Errors));
        return result.RuleSet!;
    }

    public static List<Fact> Facts(params string[] facts) => [.. facts.Select(Fact.Parse)];

    public static SortedSet<string> Set(IEnumerable<Fact> facts) => new(facts.Select(f => f.ToString()), StringComparer.Ordinal);

    public static SortedSet<string> Set(params string[] facts) => new(facts, StringComparer.Ordinal);
}
