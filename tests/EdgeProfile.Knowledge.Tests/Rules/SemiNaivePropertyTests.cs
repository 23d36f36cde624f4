using System.Text;
using EdgeProfile.Knowledge.Rules;
using static EdgeProfile.Knowledge.Tests.Rules.RuleTestHelpers;

namespace EdgeProfile.Knowledge.Tests.Rules;

public sealed class SemiNaivePropertyTests
{
    private static readonly string[] Domain = ["a", "b", "c", "1", "2"];
    private static readonly string[] Variables = ["X", "Y", "Z", "W"];
    private static readonly string[] Operators = ["=", "!=", "<", "<=", ">", ">="];

    [Fact]
    public void Semi_naive_equals_naive_on_200_random_stratified_programs()
    {
        var derived = 0;
        var negated = 0;
        var aggregated = 0;
        for (var seed = 0; seed < 200; seed++)
        {
            var (text, facts) = RandomProgram(new Random(seed));
            var compiled = RuleCompiler.Compile(text);
            Assert.True(compiled.Success, $"seed {seed}: {string.Join("; ", compiled.Errors)}\n{text}");
            var rules = compiled.RuleSet!;

            var semi = Engine.Evaluate(rules, facts);
            var semiSet = Set(semi.AllFacts());
            var naiveSet = Set(Engine.EvaluateNaive(rules, facts).AllFacts());
            Assert.True(semiSet.SetEquals(naiveSet), Describe(seed, text, semiSet, naiveSet, "semi-naive", "naive"));

            // Per-call evaluation over a shared part gives the same facts.
            var shared = facts.Where(f => f.Predicate == "b0").ToList();
            var perCall = Set(Engine.Prepare(rules, shared).Evaluate(facts.Where(f => f.Predicate != "b0")).AllFacts());
            Assert.True(perCall.SetEquals(semiSet), Describe(seed, text, perCall, semiSet, "prepared", "semi-naive"));

            // Every derivation names a rule of the program and premises that hold.
            var ids = rules.Rules.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var fact in semi.AllFacts())
            {
                var derivation = semi.DerivationOf(fact);
                if (derivation is null)
                {
                    Assert.Contains(fact, facts);
                    continue;
                }

                Assert.Contains(derivation.RuleId, ids);
                Assert.All(derivation.Premises, p => Assert.True(semi.Contains(p), $"seed {seed}: premise {p} of {fact} does not hold"));
            }

            derived += semiSet.Count - facts.Distinct().Count();
            negated += text.Contains(" not ", StringComparison.Ordinal) ? 1 : 0;
            aggregated += text.Contains("count(", StringComparison.Ordinal) || text.Contains("sum(", StringComparison.Ordinal) ? 1 : 0;
        }

        Assert.True(derived > 1500, "only " + derived + " facts derived over all programs");
        Assert.True(negated > 150, "only " + negated + " programs with negation");
        Assert.True(aggregated > 100, "only " + aggregated + " programs with aggregates");
    }

    private static string Describe(int seed, string text, SortedSet<string> a, SortedSet<string> b, string aName, string bName) =>
        $"seed {seed}\n{text}\nonly in {aName}: {string.Join(" ", a.Except(b))}\nonly in {bName}: {string.Join(" ", b.Except(a))}";

    private static (string Text, List<Fact> Facts) RandomProgram(Random rng)
    {
        // Base predicates are level 0; derived d_i is level i/2 + 1, so pairs of derived predicates can be mutually
        // recursive. Positive literals use levels <= the head's, negation and aggregates strictly lower ones.
        var predicates = new List<(string Name, int Arity, int Level)>();
        for (var i = 0; i < 3; i++)
        {
            predicates.Add(("b" + i, rng.Next(1, 3), 0));
        }

        var derivedCount = rng.Next(2, 7);
        for (var i = 0; i < derivedCount; i++)
        {
            predicates.Add(("d" + i, rng.Next(1, 3), (i / 2) + 1));
        }

        var facts = new List<Fact>();
        foreach (var (name, arity, _) in predicates.Where(p => p.Level == 0))
        {
            var n = rng.Next(6, 21);
            for (var k = 0; k < n; k++)
            {
                facts.Add(Fact.Parse(name + "(" + string.Join(", ", Enumerable.Range(0, arity).Select(_ => Domain[rng.Next(Domain.Length)])) + ")"));
            }
        }

        var sb = new StringBuilder();
        foreach (var head in predicates.Where(p => p.Level > 0))
        {
            var ruleCount = rng.Next(1, 4);
            for (var r = 0; r < ruleCount; r++)
            {
                sb.AppendLine(RandomRule(rng, head, predicates));
            }
        }

        return (sb.ToString(), facts);
    }

    private static string RandomRule(Random rng, (string Name, int Arity, int Level) head, List<(string Name, int Arity, int Level)> predicates)
    {
        var body = new List<string>();
        var bound = new List<string>();
        var positiveCount = rng.Next(1, 4);
        for (var k = 0; k < positiveCount; k++)
        {
            var candidates = predicates.Where(p => p.Level <= head.Level).ToList();
            var p = candidates[rng.Next(candidates.Count)];
            var args = new List<string>();
            for (var a = 0; a < p.Arity; a++)
            {
                if (rng.NextDouble() < 0.85)
                {
                    var v = Variables[rng.Next(Variables.Length)];
                    args.Add(v);
                    if (!bound.Contains(v))
                    {
                        bound.Add(v);
                    }
                }
                else
                {
                    args.Add(Domain[rng.Next(Domain.Length)]);
                }
            }

            body.Add(p.Name + "(" + string.Join(", ", args) + ")");
        }

        var lower = predicates.Where(p => p.Level < head.Level).ToList();
        if (rng.NextDouble() < 0.4)
        {
            var p = lower[rng.Next(lower.Count)];
            var args = Enumerable.Range(0, p.Arity).Select(_ =>
            {
                var x = rng.NextDouble();
                return x < 0.7 && bound.Count > 0 ? bound[rng.Next(bound.Count)] : x < 0.9 ? Domain[rng.Next(Domain.Length)] : "_";
            });
            body.Add("not " + p.Name + "(" + string.Join(", ", args) + ")");
        }

        if (rng.NextDouble() < 0.3 && bound.Count > 0)
        {
            var right = rng.NextDouble() < 0.5 ? bound[rng.Next(bound.Count)] : Domain[rng.Next(Domain.Length)];
            body.Add(bound[rng.Next(bound.Count)] + " " + Operators[rng.Next(Operators.Length)] + " " + right);
        }

        var binary = lower.Where(p => p.Arity == 2).ToList();
        if (rng.NextDouble() < 0.25 && bound.Count > 0 && binary.Count > 0)
        {
            var p = binary[rng.Next(binary.Count)];
            var group = bound[rng.Next(bound.Count)];
            var function = rng.NextDouble() < 0.5 ? "count(V" : "sum(V";
            body.Add("N = " + function + " : " + p.Name + "(" + group + ", V))");
            bound.Add("N");
        }

        var headArgs = Enumerable.Range(0, head.Arity).Select(_ =>
            bound.Count > 0 && rng.NextDouble() < 0.85 ? bound[rng.Next(bound.Count)] : Domain[rng.Next(Domain.Length)]);
        return head.Name + "(" + string.Join(", ", headArgs) + ") :- " + string.Join(", ", body) + ".";
    }
}
