using EdgeProfile.Core.Features;
using EdgeProfile.Synthesis.Loading;

namespace EdgeProfile.Synthesis.Dfs;

/// <summary>Enumerates the candidate features of an entity set, as deep feature synthesis does, with names and chains.</summary>
internal sealed class CandidateBuilder(EntitySet set, DfsOptions options)
{
    private readonly List<SynthesizedFeature> features = [];
    private readonly Dictionary<string, SynthesizedFeature> byName = new(StringComparer.Ordinal);

    public List<SynthesizedFeature> Build()
    {
        var windows = new List<TimeSpan?> { null };
        windows.AddRange(options.Windows.Select(w => (TimeSpan?)w));

        var numeric = new List<(RowVariable V, string Name)> { (RowVariable.Amount, "amount") };
        if (set.HasQuantity)
        {
            numeric.Add((RowVariable.Quantity, "quantity"));
        }

        var categorical = new List<(RowVariable V, string Name)> { (RowVariable.Product, "product") };
        if (set.HasCategory)
        {
            categorical.Add((RowVariable.Category, "category"));
        }

        if (set.HasCategoryTop)
        {
            categorical.Add((RowVariable.CategoryTop, "category_top"));
        }

        if (set.HasStore)
        {
            categorical.Add((RowVariable.Store, "store"));
        }

        if (set.HasChannel)
        {
            categorical.Add((RowVariable.Channel, "channel"));
        }

        if (set.HasBasket)
        {
            categorical.Add((RowVariable.Basket, "basket"));
        }

        // Depth 1: aggregations of raw transaction variables, per window.
        foreach (var w in windows)
        {
            Aggregate(Primitive.Count, RowVariable.None, null, w);
            foreach (var (v, name) in numeric)
            {
                foreach (var prim in new[] { Primitive.Sum, Primitive.Mean, Primitive.Std, Primitive.Min, Primitive.Max, Primitive.Trend })
                {
                    Aggregate(prim, v, name, w);
                }
            }

            foreach (var (v, name) in categorical)
            {
                Aggregate(Primitive.NUnique, v, name, w);
            }

            Aggregate(Primitive.AvgTimeBetween, RowVariable.Time, "time", w);
        }

        Aggregate(Primitive.TimeSinceLast, RowVariable.Time, "time", null);
        Aggregate(Primitive.TimeSinceFirst, RowVariable.Time, "time", null);

        // Depth 1: WHERE features on the most frequent values of the categorical variables.
        var whereVariables = new List<(RowVariable V, string Name, IReadOnlyList<string> Values)>();
        if (set.HasCategoryTop)
        {
            whereVariables.Add((RowVariable.CategoryTop, "category_top", set.CategoryTops));
        }
        else if (set.HasCategory)
        {
            whereVariables.Add((RowVariable.Category, "category", set.Categories));
        }

        if (set.HasStore)
        {
            whereVariables.Add((RowVariable.Store, "store", set.Stores));
        }

        if (set.HasChannel)
        {
            whereVariables.Add((RowVariable.Channel, "channel", set.Channels));
        }

        foreach (var (v, name, values) in whereVariables)
        {
            if (values.Count < 2)
            {
                continue;
            }

            foreach (var code in InterestingValues(v, options.InterestingValues))
            {
                Where(Primitive.Count, RowVariable.None, null, v, name, code, values[code]);
                Where(Primitive.Sum, RowVariable.Amount, "amount", v, name, code, values[code]);
            }
        }

        if (options.Depth < 2)
        {
            return features;
        }

        // Depth 2: transforms of the time, aggregated.
        foreach (var w in windows)
        {
            Transformed(Primitive.Mean, Primitive.IsWeekend, RowVariable.IsWeekend, w);
        }

        Transformed(Primitive.Mean, Primitive.Hour, RowVariable.Hour, null);
        Transformed(Primitive.Std, Primitive.Hour, RowVariable.Hour, null);
        Transformed(Primitive.NUnique, Primitive.DayOfWeek, RowVariable.DayOfWeek, null);
        Transformed(Primitive.Mode, Primitive.DayOfWeek, RowVariable.DayOfWeek, null);
        Transformed(Primitive.NUnique, Primitive.Month, RowVariable.Month, null);

        // Depth 2: ratios of two aggregates.
        foreach (var w in options.Windows)
        {
            Ratio(Find(Primitive.Count, null, w), Find(Primitive.Count, null, null));
            Ratio(Find(Primitive.Sum, "amount", w), Find(Primitive.Sum, "amount", null));
        }

        foreach (var w in windows)
        {
            var count = Find(Primitive.Count, null, w);
            Ratio(Find(Primitive.NUnique, "product", w), count);
            if (set.HasQuantity)
            {
                Ratio(Find(Primitive.Sum, "quantity", w), count);
            }

            if (set.HasBasket)
            {
                Ratio(Find(Primitive.Sum, "amount", w), Find(Primitive.NUnique, "basket", w));
                Ratio(count, Find(Primitive.NUnique, "basket", w));
            }
        }

        // Depth 2: parent-entity aggregates (all customers, before the cutoff) brought to each transaction, aggregated per customer.
        var parents = new List<(ParentEntity E, string Name)> { (ParentEntity.Products, "products") };
        if (set.HasStore)
        {
            parents.Add((ParentEntity.Stores, "stores"));
        }

        if (set.HasCategory)
        {
            parents.Add((ParentEntity.Categories, "categories"));
        }

        foreach (var (entity, entityName) in parents)
        {
            foreach (var pa in new[] { ParentAggregate.Count, ParentAggregate.MeanAmount, ParentAggregate.UniqueCustomers })
            {
                foreach (var prim in new[] { Primitive.Mean, Primitive.Min, Primitive.Max })
                {
                    Stacked(prim, entity, entityName, pa);
                }
            }
        }

        return features;
    }

    private IEnumerable<int> InterestingValues(RowVariable v, int k)
    {
        var counts = new Dictionary<int, int>();
        for (var r = 0; r < set.RowCount; r++)
        {
            if (set.Time[r] >= options.InterestingBefore)
            {
                continue;
            }

            var code = v switch
            {
                RowVariable.CategoryTop => set.CategoryTop[r],
                RowVariable.Category => set.Category[r],
                RowVariable.Store => set.Store[r],
                _ => set.Channel[r],
            };
            if (code >= 0)
            {
                counts[code] = counts.GetValueOrDefault(code) + 1;
            }
        }

        return counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Take(k).Select(kv => kv.Key).ToList();
    }

    private SynthesizedFeature Find(Primitive prim, string? variable, TimeSpan? window) =>
        features.First(f => f.Primitive == prim && f.Kind == FeatureKind.Aggregation && f.Variable == variable && f.Window == window);

    private void Aggregate(Primitive prim, RowVariable v, string? variable, TimeSpan? window)
    {
        var input = prim switch
        {
            Primitive.Count => "transactions",
            Primitive.Trend => $"transactions.{variable}, time",
            _ => $"transactions.{variable}",
        };
        var name = $"{Upper(prim)}({input}{WindowText(window)})";
        Add(new SynthesizedFeature
        {
            Name = name,
            Depth = 1,
            Kind = FeatureKind.Aggregation,
            Primitive = prim,
            Variable = variable,
            Window = window,
            Chain = [new PrimitiveStep(Upper(prim), "aggregation", "customers", input)],
            Explanation = $"{Describe(prim, Noun(variable))}, over the customer's transactions {Span(window)}",
            Plan = new FeaturePlan(prim, v) { Window = window },
        });
    }

    private void Where(Primitive prim, RowVariable v, string? variable, RowVariable whereVar, string whereName, int code, string value)
    {
        var input = prim == Primitive.Count ? "transactions" : $"transactions.{variable}";
        var name = $"{Upper(prim)}({input} WHERE {whereName} = {value})";
        Add(new SynthesizedFeature
        {
            Name = name,
            Depth = 1,
            Kind = FeatureKind.Where,
            Primitive = prim,
            Variable = variable,
            WhereVariable = whereName,
            WhereValue = value,
            Chain = [new PrimitiveStep(Upper(prim), "aggregation", "customers", $"{input} WHERE {whereName} = {value}")],
            Explanation = $"{Describe(prim, Noun(variable))}, over the customer's transactions with {whereName} '{value}' before the cutoff",
            Plan = new FeaturePlan(prim, v) { WhereVariable = whereVar, WhereCode = code },
        });
    }

    private void Transformed(Primitive agg, Primitive transform, RowVariable v, TimeSpan? window)
    {
        var variable = $"{Upper(transform)}(time)";
        var input = $"transactions.{variable}";
        var what = (transform, agg) switch
        {
            (Primitive.IsWeekend, _) => "is-weekend flag (1 on Saturday and Sunday)",
            (Primitive.Hour, _) => "hour of day",
            (Primitive.DayOfWeek, Primitive.NUnique) => "days of the week",
            (Primitive.DayOfWeek, _) => "day of the week (Monday 0)",
            (_, Primitive.NUnique) => "months",
            _ => "month",
        };
        Add(new SynthesizedFeature
        {
            Name = $"{Upper(agg)}({input}{WindowText(window)})",
            Depth = 2,
            Kind = FeatureKind.Transform,
            Primitive = agg,
            Variable = variable,
            Window = window,
            Chain =
            [
                new PrimitiveStep(Upper(transform), "transform", "transactions", "time"),
                new PrimitiveStep(Upper(agg), "aggregation", "customers", input),
            ],
            Explanation = $"{Describe(agg, what)}, over the customer's transactions {Span(window)}",
            Plan = new FeaturePlan(agg, v) { Window = window },
        });
    }

    private void Ratio(SynthesizedFeature numerator, SynthesizedFeature denominator)
    {
        Add(new SynthesizedFeature
        {
            Name = $"{numerator.Name} / {denominator.Name}",
            Depth = 2,
            Kind = FeatureKind.Ratio,
            Primitive = Primitive.Ratio,
            Numerator = numerator,
            Denominator = denominator,
            Window = numerator.Window == denominator.Window ? numerator.Window : null,
            Chain = [.. numerator.Chain, .. denominator.Chain, new PrimitiveStep("DIVIDE_NUMERIC", "transform", "customers", $"{numerator.Name}, {denominator.Name}")],
            Explanation = $"ratio of {numerator.Name} to {denominator.Name} (missing when the latter is 0)",
            Plan = new FeaturePlan(Primitive.Ratio, RowVariable.None) { Numerator = numerator, Denominator = denominator },
        });
    }

    private void Stacked(Primitive agg, ParentEntity entity, string entityName, ParentAggregate pa)
    {
        var (parentPrim, parentInput, parentWhat) = pa switch
        {
            ParentAggregate.Count => ("COUNT", "transactions", "number of transactions"),
            ParentAggregate.MeanAmount => ("MEAN", "transactions.amount", "mean transaction amount"),
            _ => ("N_UNIQUE", "transactions.customer", "number of distinct customers"),
        };
        var parentFeature = $"{entityName}.{parentPrim}({parentInput})";
        var input = $"transactions.{parentFeature}";
        var single = entityName switch { "products" => "product", "stores" => "store", _ => "category" };
        Add(new SynthesizedFeature
        {
            Name = $"{Upper(agg)}({input})",
            Depth = 2,
            Kind = FeatureKind.Stacked,
            Primitive = agg,
            Variable = parentFeature,
            Chain =
            [
                new PrimitiveStep(parentPrim, "aggregation", entityName, parentInput),
                new PrimitiveStep("DIRECT", "direct", "transactions", parentFeature),
                new PrimitiveStep(Upper(agg), "aggregation", "customers", input),
            ],
            Explanation = $"{Describe(agg, $"the {single}'s {parentWhat} (all customers, before the cutoff)")}, over the customer's transactions before the cutoff",
            Plan = new FeaturePlan(agg, RowVariable.Parent) { Parent = entity, ParentAggregate = pa },
        });
    }

    private void Add(SynthesizedFeature f)
    {
        if (byName.TryAdd(f.Name, f))
        {
            features.Add(f);
        }
    }

    internal static string Upper(Primitive p) => p switch
    {
        Primitive.NUnique => "N_UNIQUE",
        Primitive.TimeSinceLast => "TIME_SINCE_LAST",
        Primitive.TimeSinceFirst => "TIME_SINCE_FIRST",
        Primitive.AvgTimeBetween => "AVG_TIME_BETWEEN",
        Primitive.DayOfWeek => "DAY_OF_WEEK",
        Primitive.IsWeekend => "IS_WEEKEND",
        Primitive.Ratio => "DIVIDE_NUMERIC",
        _ => p.ToString().ToUpperInvariant(),
    };

    private static string WindowText(TimeSpan? w) => w is { } v ? $" WHERE last {Durations.Format(v)}" : "";

    private static string Span(TimeSpan? w) => w is { } v ? $"in the {Durations.Format(v)} before the cutoff" : "before the cutoff";

    private static string Noun(string? variable) => variable switch
    {
        null => "transactions",
        "time" => "transaction times",
        "product" => "products",
        "category" => "categories",
        "category_top" => "top-level categories",
        "store" => "stores",
        "channel" => "channels",
        "basket" => "baskets",
        _ => variable,
    };

    private static string Describe(Primitive p, string what) => p switch
    {
        Primitive.Count => "number of transactions",
        Primitive.Sum => $"total {what}",
        Primitive.Mean => $"mean {what}",
        Primitive.Std => $"standard deviation of {what}",
        Primitive.Min => $"smallest {what}",
        Primitive.Max => $"largest {what}",
        Primitive.NUnique => $"number of distinct {what}",
        Primitive.Mode => $"most frequent {what}",
        Primitive.Trend => $"slope of {what} per day",
        Primitive.TimeSinceLast => "days from the latest transaction to the cutoff",
        Primitive.TimeSinceFirst => "days from the first transaction to the cutoff",
        Primitive.AvgTimeBetween => "mean days between consecutive transactions",
        _ => what,
    };
}
