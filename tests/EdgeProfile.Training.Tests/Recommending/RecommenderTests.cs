using EdgeProfile.Models.Recommending;
using EdgeProfile.Semantic.Text;
using EdgeProfile.Training.Recommending;
using EdgeProfile.Training.Sequences;

namespace EdgeProfile.Training.Tests.Recommending;

/// <summary>
/// A recommender built for real (SASRec, item2vec and hashed text embeddings trained on synthetic shoppers whose
/// sequences stay within one department) and served from its bundle file: next products follow the department, each
/// with a reason naming a product in the history; a new product published with only a name is recommended to
/// customers whose recent products read alike, and to no one else; a first event is enough to recommend.
/// </summary>
public sealed class RecommenderTests : IClassFixture<RecommenderTests.Built>
{
    private const string ColdSku = "BABY-NEW-1";
    private const string ColdName = "Baby Stroller Rain Cover";

    private static readonly Dictionary<string, string[]> Departments = new(StringComparer.Ordinal)
    {
        ["BABY"] = ["Baby Stroller Lightweight", "Baby Car Seat", "Baby Formula Milk", "Baby Bottle Set", "Baby Diapers Size 3", "Baby Wipes Sensitive",
            "Baby Stroller Organizer", "Baby Crib Sheet", "Baby Teether Ring", "Baby Monitor Camera", "Baby Bath Towel", "Baby Sleep Sack"],
        ["PHONE"] = ["Phone Case Leather", "Phone Charger USB-C", "Phone Screen Protector", "Wireless Earbuds", "Phone Car Mount", "Phone Power Bank",
            "Phone Charging Cable", "Phone Stand Desk", "Phone Camera Lens", "Bluetooth Speaker", "Phone Wallet Case", "Phone Ring Holder"],
        ["PET"] = ["Dog Food Chicken", "Cat Litter Clumping", "Dog Leash Nylon", "Cat Scratching Post", "Dog Chew Toy", "Pet Bed Plush",
            "Cat Food Salmon", "Dog Shampoo Oatmeal", "Pet Water Fountain", "Cat Toy Mouse", "Dog Harness Padded", "Pet Grooming Brush"],
    };

    private readonly Built built;

    public RecommenderTests(Built built)
    {
        this.built = built;
    }

    private static string Sku(string department, int i) => $"{department}-{i:D2}";

    private static RecentInteraction Viewed(string department, int i) => new(Sku(department, i), Departments[department][i], "view");

    [Fact]
    public void The_bundle_round_trips_and_the_models_beat_popularity_offline()
    {
        var bundle = built.Bundle;
        Assert.Equal(36, bundle.VocabularySize);
        Assert.Equal(37, bundle.Items.Count);
        Assert.Equal(ColdSku, bundle.Items[^1].Sku);
        Assert.Equal(0, bundle.Items[^1].Interactions);
        Assert.NotNull(bundle.SasRecOnnx);
        Assert.NotNull(bundle.Item2Vec);
        Assert.Equal("hashed-384", bundle.TextVectors!.Name);
        Assert.InRange(bundle.Metrics[Recommender.ColdThresholdMetric], 0.1, 0.9);
        Assert.True(bundle.Metrics["sasrec.hr10"] > bundle.Metrics["popular.hr10"] + 0.2,
            $"SASRec HR@10 {bundle.Metrics["sasrec.hr10"]:F3} vs popular {bundle.Metrics["popular.hr10"]:F3}");

        var again = RecommenderBundle.FromBytes(built.Bytes);
        Assert.Equal(bundle.Version, again.Version);
        Assert.Equal(bundle.Items, again.Items);
        Assert.Equal(bundle.SasRecOnnx, again.SasRecOnnx);
        Assert.Equal(bundle.Metrics, again.Metrics);
    }

    [Fact]
    public void Next_products_follow_the_department_with_a_reason_naming_a_history_product()
    {
        var history = new[] { Viewed("PHONE", 0), Viewed("PHONE", 1), Viewed("PHONE", 2) };
        var list = built.Recommender.Recommend(history, 10);
        Assert.Equal(10, list.Count);
        var top5 = list.Take(5).ToList();
        Assert.All(top5.Take(2), r => Assert.StartsWith("PHONE-", r.Sku, StringComparison.Ordinal));
        Assert.True(top5.Count(r => r.Sku.StartsWith("PHONE-", StringComparison.Ordinal)) >= 4, string.Join(", ", top5.Select(r => r.Sku)));
        Assert.Equal("PHONE-03", top5[0].Sku); // 0 → 1 → 2 → 3 is the walk the shoppers take most
        Assert.All(top5, r => Assert.Equal("sasrec", r.Source));
        Assert.DoesNotContain(list, r => history.Any(h => h.Sku == r.Sku));
        Assert.All(top5, r => Assert.Contains(history, h => h.Sku == r.BecauseOfSku));
        Assert.StartsWith("Because you viewed Phone ", top5[0].ReasonEn, StringComparison.Ordinal);
        Assert.StartsWith("因为您浏览了Phone ", top5[0].ReasonZh, StringComparison.Ordinal);
        Assert.DoesNotContain(list, r => r.Sku == ColdSku); // a phone shopper is not shown the stroller cover
    }

    [Fact]
    public void A_product_published_with_only_a_name_reaches_customers_whose_recent_products_read_alike()
    {
        var baby = built.Recommender.Recommend([Viewed("BABY", 4), Viewed("BABY", 0), Viewed("BABY", 6)], 10);
        var cold = Assert.Single(baby, r => r.Sku == ColdSku);
        Assert.Equal("text", cold.Source);
        Assert.StartsWith("New product, similar to Baby Stroller", cold.ReasonEn, StringComparison.Ordinal);
        Assert.Contains("新品", cold.ReasonZh, StringComparison.Ordinal);
        Assert.Equal(2, baby.ToList().IndexOf(cold)); // the first cold place: the model's two best stay on top

        var pets = built.Recommender.Recommend([Viewed("PET", 1), Viewed("PET", 2)], 10);
        Assert.DoesNotContain(pets, r => r.Sku == ColdSku);
    }

    [Fact]
    public void A_first_event_is_enough_even_for_a_product_the_bundle_does_not_know()
    {
        var first = built.Recommender.Recommend([Viewed("PET", 5)], 5);
        Assert.Equal("PET-06", first[0].Sku);
        Assert.True(first.Count(r => r.Sku.StartsWith("PET-", StringComparison.Ordinal)) >= 3, string.Join(", ", first.Select(r => r.Sku)));

        // A product new to the bundle, known only by the name the event carried: embedded here, matched by text.
        var unknown = built.Recommender.Recommend([new RecentInteraction("SKU-NOT-IN-BUNDLE", "Baby Stroller Cup Holder", "view")], 5);
        Assert.All(unknown, r => Assert.Equal("text", r.Source));
        Assert.True(unknown.Count(r => r.Sku.StartsWith("BABY", StringComparison.Ordinal)) >= 4, string.Join(", ", unknown.Select(r => r.Sku)));
        Assert.Contains(unknown, r => r.Sku == ColdSku || r.Name!.Contains("Stroller", StringComparison.Ordinal));

        var nobody = built.Recommender.Recommend([], 3);
        Assert.All(nobody, r => Assert.Equal("popular", r.Source));
        Assert.Equal(3, nobody.Count);
    }

    [Fact]
    public void A_search_embedded_at_the_store_steers_text_recommendations_with_the_query_as_the_reason()
    {
        var list = built.Recommender.Recommend([], 5, ["dog leash"]);
        Assert.Equal("PET-02", list[0].Sku); // "Dog Leash Nylon"
        Assert.Equal("text", list[0].Source);
        Assert.Equal("Matches your search \u201cdog leash\u201d", list[0].ReasonEn);
        Assert.Equal("符合您搜索的\u201cdog leash\u201d", list[0].ReasonZh);
        Assert.True(list.Count(r => r.Sku.StartsWith("PET-", StringComparison.Ordinal)) >= 3, string.Join(", ", list.Select(r => r.Sku)));
    }

    [Fact]
    public void Similar_products_come_from_item2vec_and_a_damaged_bundle_is_refused()
    {
        var similar = built.Recommender.SimilarProducts(Sku("BABY", 3), 5);
        Assert.True(similar.Count(r => r.Sku.StartsWith("BABY-", StringComparison.Ordinal)) >= 4, string.Join(", ", similar.Select(r => r.Sku)));
        Assert.All(similar, r => Assert.Equal("item2vec", r.Source));

        var damaged = (byte[])built.Bytes.Clone();
        damaged[damaged.Length / 2] ^= 0xFF;
        damaged[(damaged.Length / 2) + 1] ^= 0xFF;
        Assert.Throws<InvalidDataException>(() => new Recommender(RecommenderBundle.FromBytes(damaged)).Dispose());
        Assert.Throws<InvalidDataException>(() => RecommenderBundle.FromBytes([1, 2, 3]));
    }

    /// <summary>Trains once for the class: 300 shoppers, 8 products each, walking their department's products in order.</summary>
    public sealed class Built : IDisposable
    {
        public Built()
        {
            var rng = new Random(5);
            var departments = Departments.Keys.ToArray();
            var sequences = new List<IReadOnlyList<string>>();
            for (var c = 0; c < 300; c++)
            {
                var department = departments[c % departments.Length];
                var at = rng.Next(12);
                var sequence = new List<string>();
                for (var i = 0; i < 8; i++)
                {
                    sequence.Add(Sku(department, at));
                    at = rng.NextDouble() < 0.85 ? (at + 1) % 12 : rng.Next(12);
                }

                sequences.Add(sequence);
            }

            var products = Departments.SelectMany(d => d.Value.Select((name, i) => (Sku: Sku(d.Key, i), Name: name)))
                .ToDictionary(p => p.Sku, p => (string?)p.Name, StringComparer.Ordinal);
            products[ColdSku] = ColdName;
            var embedder = new HashedTextEmbedder();
            Bundle = RecommenderBuilder.Build(new RecommenderTrainingData(sequences, products, "synthetic shoppers"), new RecommenderBuildOptions
            {
                Version = "test-1",
                SasRec = new SasRecOptions { MaxEpochs = 25, Patience = 25, Dimensions = 32, MaxLength = 10, Dropout = 0.1, BatchSize = 64, ValidationUsers = 300, Threads = 2, Seed = 3 },
                Item2Vec = new Semantic.Item2Vec.Item2VecOptions { Dimensions = 16, Epochs = 20, Threads = 1, Seed = 3, Window = 2 },
                EvaluationUsers = 300,
            }, embedder);
            Bytes = Bundle.ToBytes();
            Recommender = new Recommender(RecommenderBundle.FromBytes(Bytes), embedder);
        }

        public RecommenderBundle Bundle { get; }

        public byte[] Bytes { get; }

        public Recommender Recommender { get; }

        public void Dispose() => Recommender.Dispose();
    }
}
