using EdgeProfile.Core.Events;
using EdgeProfile.Core.Explanations;
using EdgeProfile.Core.Features;
using EdgeProfile.Explanations;
using EdgeProfile.Models;
using EdgeProfile.Models.Explaining;
using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Serving;
using Xunit.Abstractions;

namespace EdgeProfile.Training.Tests;

/// <summary>
/// The seed's young-mother scenario: a model trained (TorchSharp, then int8 ONNX as served) on a population where
/// mother-and-baby activity drives baby-category propensity and keeps customers buying; explaining a young mother
/// who viewed 3 baby products in the last 2 hours must name that activity as the reason, in English and Chinese.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class YoungMotherExplanationTests(ITestOutputHelper output)
{
    private static readonly FeatureDefinition BabyViews = new()
    {
        Name = "baby_views_2h",
        EventTypes = [EventType.View],
        CategoryPrefix = "Baby & Toddler",
        Window = WindowSpec.Sliding(TimeSpan.FromHours(2), TimeSpan.FromMinutes(10)),
        Aggregation = new AggregationSpec { Kind = AggregationKind.Count },
        Ttl = TimeSpan.FromHours(2),
        Description = "Baby & Toddler product views in the last 2 hours",
    };

    private static readonly FeatureDefinition BabySpend = new()
    {
        Name = "baby_spend_30d",
        EventTypes = [EventType.Purchase],
        CategoryPrefix = "Baby & Toddler",
        Window = WindowSpec.Sliding(TimeSpan.FromDays(30), TimeSpan.FromDays(1)),
        Aggregation = new AggregationSpec { Kind = AggregationKind.Sum, Field = FeatureField.Amount },
        Ttl = TimeSpan.FromDays(30),
        Description = "Mother-and-baby spend in the last 30 days",
    };

    private static readonly string[] Features =
        ["baby_views_2h", "baby_spend_30d", "views_7d", "purchases_30d", "spend_30d", "days_since_last_purchase", "events_7d", "cart_adds_7d"];

    private static readonly string[] Categories = ["Baby & Toddler", "Electronics", "Grocery"];

    [Fact]
    public void The_top_reason_for_a_young_mother_cites_her_baby_category_activity_in_english_and_chinese()
    {
        var random = new Random(5);
        var (train, validation) = (Population(random, 3000), Population(random, 800));
        var spec = new ModelSpec(Features, 3, [16], [8],
            [new TaskSpec("churn_90d", TaskKind.Binary), new TaskSpec("category_propensity", TaskKind.MultiLabel, Categories)]);
        using var result = MmoeTrainer.Train(spec, train, validation, new TrainingOptions { Epochs = 25, BatchSize = 128, LearningRate = 3e-3, Patience = 4, Seed = 3 });
        var model = OnnxExporter.Export(result.Weights, new ExportOptions
        {
            Int8 = true,
            Metadata = new Dictionary<string, string>
            {
                [ModelArtifact.VersionMetadataKey] = "young-mother-1",
                [ExplanationBackground.MetadataKey] = ExplanationBackground.Sample(Features, train.Features, 16, 1, "training"),
            },
        });

        var definitions = DefaultFeatures.Set.Definitions.Append(BabyViews).Append(BabySpend).ToList();
        using var explainer = ModelExplainer.Create(model, "young-mother-1", definitions);
        Assert.Equal(AttributionMethod.ExactShapley, explainer.Method);
        Assert.Contains("category:baby_toddler", explainer.Groups.Names);

        // Viewed 3 baby products in the last 2 hours, bought formula for 268 this month, otherwise an ordinary shopper.
        float[] mother = [3, 268, 6, 1, 268, 12, 9, 1];
        var explanation = explainer.Explain(mother);
        var propensity = explanation.Outputs.Where(o => o.Task == "category_propensity").ToList();
        var top = propensity.MaxBy(o => o.Output)!;
        output.WriteLine(string.Join("\n", explanation.Outputs.Select(o =>
            $"{o.Task}[{o.Label}] = {o.Output:F4} (base {o.Base:F4}): " + string.Join(", ", explanation.Groups.Select((g, i) => $"{g.Name} {o.Phi[i]:+0.0000;-0.0000}")))));
        Assert.Equal("Baby & Toddler", top.Label);
        Assert.True(top.AdditivityError <= 1e-9, $"additivity error {top.AdditivityError}");

        var en = top.Reasons(ReasonLanguage.En);
        var zh = top.Reasons(ReasonLanguage.ZhCn);
        output.WriteLine(string.Join("\n", en.Concat(zh).Select(r => $"{r.Code}: {r.Text}")));
        Assert.Equal("category:baby_toddler", en[0].Group);
        Assert.Equal("category:baby_toddler", zh[0].Group);
        Assert.Contains("baby", en[0].Text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("母婴", zh[0].Text, StringComparison.Ordinal);
        Assert.True(en[0].Direction > 0);

        // The same customer without the baby activity: the baby category is no longer her top propensity.
        float[] other = [0, 0, 6, 1, 268, 12, 9, 1];
        var plain = explainer.Explain(other).Outputs.Where(o => o.Task == "category_propensity").MaxBy(o => o.Output)!;
        Assert.NotEqual("Baby & Toddler", plain.Label);
    }

    /// <summary>
    /// Customers with their features and labels: a quarter are young mothers (baby views and spend); baby propensity
    /// follows that activity, electronics follows general browsing, grocery follows purchase frequency; churn rises
    /// with days since the last purchase and falls with purchases and with baby spend (mothers keep coming back).
    /// </summary>
    private static TrainingData Population(Random random, int rows)
    {
        var x = new float[rows][];
        var churn = new float[rows][];
        var propensity = new float[rows][];
        for (int i = 0; i < rows; i++)
        {
            bool mother = random.NextDouble() < 0.25;
            double babyViews = mother ? Poisson(random, 2.5) : (random.NextDouble() < 0.05 ? 1 : 0);
            double babySpend = mother ? Math.Round(random.NextDouble() * 600, 2) : 0;
            double views = Poisson(random, 6);
            double purchases = Poisson(random, 1.5);
            double spend = babySpend + (purchases * random.NextDouble() * 200);
            double recency = Math.Round(random.NextDouble() * 90, 1);
            double events = views + purchases + Poisson(random, 2);
            double carts = Poisson(random, 1);
            x[i] = [.. new[] { babyViews, babySpend, views, purchases, spend, recency, events, carts }.Select(v => (float)v)];
            churn[i] = [Draw(random, -1.5 + (0.05 * recency) - (0.6 * purchases) - (0.004 * babySpend))];
            propensity[i] =
            [
                Draw(random, -3 + (1.4 * babyViews) + (0.004 * babySpend)),
                Draw(random, -2.5 + (0.25 * views)),
                Draw(random, -1.5 + (0.5 * purchases)),
            ];
        }

        return new TrainingData(x, [churn, propensity]);
    }

    private static float Draw(Random random, double logit) => random.NextDouble() < 1 / (1 + Math.Exp(-logit)) ? 1f : 0f;

    private static double Poisson(Random random, double lambda)
    {
        double l = Math.Exp(-lambda), p = 1;
        int k = 0;
        do
        {
            k++;
            p *= random.NextDouble();
        }
        while (p > l);
        return k - 1;
    }
}
