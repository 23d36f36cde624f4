using System.Diagnostics;
using EdgeProfile.Training.Census;
using Xunit.Abstractions;

namespace EdgeProfile.Training.Tests;

/// <summary>
/// Real data: UCI Adult, read in place from the shared data directory (never copied into the repository). Override the
/// location with EDGEPROFILE_ADULT_DIR. The full three-seed evaluation beside xgboost is a benchmark:
/// <c>dotnet run -c Release --project bench/EdgeProfile.Bench.Models</c>.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class CensusEvaluationTests(ITestOutputHelper output)
{
    /// <summary>Where UCI Adult is read from.</summary>
    public static string AdultDirectory { get; } = Environment.GetEnvironmentVariable("EDGEPROFILE_ADULT_DIR") ?? SharedAdult();

    // ../shared/data/adult beside the repository: the first folder above the test binaries that holds shared/data.
    private static string SharedAdult()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data", "adult");
            if (System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("UCI Adult not found: these tests read ../shared/data/adult beside the repository (or set EDGEPROFILE_ADULT_DIR)");
    }

    [Fact]
    public void Adult_loads_with_one_hot_categories_from_the_training_file()
    {
        var data = AdultDataset.Load(AdultDirectory);
        Assert.Equal(32561, data.Train.Rows);
        Assert.Equal(16281, data.Test.Rows);
        Assert.Equal(data.Features.Count, data.Train.Width);
        Assert.DoesNotContain(data.Features, f => f.StartsWith("marital-status", StringComparison.Ordinal));
        Assert.Contains("workclass=?", data.Features);
        // 24.1% of adult.data and 23.6% of adult.test earn >50K (UCI's documented class split)
        Assert.Equal(7841, data.Train.Labels[0].Count(y => y[0] == 1f));
        Assert.Equal(3846, data.Test.Labels[0].Count(y => y[0] == 1f));
        Assert.Equal(10683, data.Train.Labels[1].Count(y => y[0] == 1f));
        // every row has exactly one category per one-hot column (7 columns) in the training file
        Assert.All(data.Train.Features.Take(1000), r => Assert.Equal(7f, r.Skip(6).Sum()));
    }

    [Fact]
    public void Validation_rows_are_a_seeded_share_of_the_training_file()
    {
        var a = CensusEvaluation.ValidationRows(32561, 0.15, seed: 1);

        Assert.Equal(4884, a.Length);
        Assert.Equal(a, CensusEvaluation.ValidationRows(32561, 0.15, seed: 1));
        Assert.NotEqual(a, CensusEvaluation.ValidationRows(32561, 0.15, seed: 2));
        Assert.Equal(a.Length, a.Distinct().Count());
        Assert.All(a, i => Assert.InRange(i, 0, 32560));
        Assert.Equal(a.Order(), a);
    }

    [Fact]
    public void Mmoe_reaches_income_auc_above_085_on_the_adult_test_file()
    {
        var watch = Stopwatch.StartNew();
        var options = new CensusEvaluationOptions
        {
            Seeds = [1],
            Training = new TrainingOptions { Epochs = 3, BatchSize = 512, LearningRate = 3e-3, Patience = 2 },
        };
        var evaluation = CensusEvaluation.Evaluate(AdultDirectory, options);
        output.WriteLine($"{watch.ElapsedMilliseconds} ms\n{evaluation.ToTable()}");

        Assert.Equal(8, evaluation.Rows.Count);
        var income = evaluation[CensusEvaluation.Mmoe, "income"].MeanAuc;
        Assert.True(income > 0.85, $"MMoE income AUC {income}");
        Assert.InRange(evaluation[CensusEvaluation.Mmoe, "income"].ValidationMeanAuc, 0.85, 1);
    }
}
