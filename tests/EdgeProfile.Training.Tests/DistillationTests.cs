using EdgeProfile.Knowledge;
using EdgeProfile.Models;
using EdgeProfile.Training.Distillation;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace EdgeProfile.Training.Tests;

[Collection(TorchCollection.Name)]
public sealed class DistillationTests(ITestOutputHelper output)
{
    private const string ThreeRules = """
        @rule rule_a
        @en "x is high"
        @zh "x 高"
        tag(C, tag_a) :- feature(C, x, X), X > 1.

        @rule rule_b
        @en "y is high"
        @zh "y 高"
        tag(C, tag_b) :- feature(C, y, Y), Y > 1.

        @rule rule_c
        @en "z is high"
        @zh "z 高"
        tag(C, tag_c) :- feature(C, z, Z), Z > 1.
        """;

    private static readonly string[] Xyz = ["x", "y", "z"];

    private static readonly Dictionary<string, IReadOnlyCollection<string>> TeachesT = new() { ["t"] = ["tag_a", "tag_b"] };

    private static readonly TrainingOptions Fast = new() { Epochs = 30, BatchSize = 128, LearningRate = 3e-3, Patience = 5, Seed = 11 };

    [Fact]
    public void Noisy_or_of_explicit_confidences_gives_the_hand_computed_probabilities()
    {
        var teacher = RuleTeacher.FromConfidences(Compile(ThreeRules), Xyz, TeachesT,
            new Dictionary<string, double> { ["rule_a"] = 0.6, ["rule_b"] = 0.5, ["rule_c"] = 0.9 },
            new Dictionary<string, double> { ["t"] = 0.1 });
        float[][] rows = [[2, 0, 0], [0, 2, 0], [2, 2, 0], [0, 0, 2], [2, 2, 2], [0, 0, 0], [float.NaN, 2, 0]];

        var firings = teacher.Fire(rows);
        var p = teacher.Probabilities("t", firings);

        // a alone 0.6; b alone 0.5; a and b 1 − 0.4·0.5; c does not teach t; none → 0.1; a missing feature does not fire.
        double[] expected = [0.6, 0.5, 0.8, 0.1, 0.8, 0.1, 0.5];
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.Equal(expected[i], p[i], 6);
        }
        Assert.Equal([true, true, true, false, true, false, true], teacher.Fired("t", firings));
        var soft = teacher.SoftTargets(["other", "t"], firings);
        Assert.Null(soft[0]);
        Assert.Equal(p, soft[1]);
    }

    [Fact]
    public void Empirical_confidence_is_the_smoothed_precision_counted_on_the_labelled_training_rows()
    {
        // rows: x, y, z ; label ; labelled
        (float[] Row, float Label, bool Labelled)[] data =
        [
            ([2, 0, 0], 1, true),  // a
            ([2, 0, 0], 1, true),  // a
            ([2, 0, 0], 0, true),  // a
            ([2, 2, 0], 1, true),  // a b
            ([2, 2, 0], 0, true),  // a b
            ([0, 2, 0], 0, true),  // b
            ([0, 2, 0], 0, true),  // b
            ([0, 0, 2], 1, true),  // c only: no rule of t
            ([0, 0, 0], 0, true),  // none
            ([0, 0, 0], 0, true),  // none
            ([2, 0, 0], 0, false), // a, unlabelled: not counted
            ([0, 0, 0], 1, false), // none, unlabelled: not counted
        ];
        var train = new TrainingData([.. data.Select(d => d.Row)], [[.. data.Select(d => new[] { d.Label })]], [[.. data.Select(d => d.Labelled)]]);

        var teacher = RuleTeacher.Fit(Compile(ThreeRules), Xyz, TeachesT, train, ["t"]);
        var task = teacher.Task("t");

        // a: fired 5, positive 3 → 4/7; b: fired 4, positive 1 → 2/6; no rule: 3 rows, 1 positive → 2/5.
        var a = Assert.Single(task.Rules, r => r.RuleId == "rule_a");
        var b = Assert.Single(task.Rules, r => r.RuleId == "rule_b");
        Assert.Equal((5, 3, ConfidenceSource.Empirical), (a.Fired, a.Positives, a.Source));
        Assert.Equal(4.0 / 7, a.Confidence, 12);
        Assert.Equal((4, 1), (b.Fired, b.Positives));
        Assert.Equal(2.0 / 6, b.Confidence, 12);
        Assert.DoesNotContain(task.Rules, r => r.RuleId == "rule_c");
        Assert.Equal((3, 1), (task.NoRuleRows, task.NoRulePositives));
        Assert.Equal(2.0 / 5, task.NoRuleProbability, 12);

        var p = teacher.Probabilities("t", teacher.Fire([[2, 2, 0], [0, 0, 0]]));
        Assert.Equal(1 - (3.0 / 7) * (4.0 / 6), p[0], 6);
        Assert.Equal(0.4, p[1], 6);

        // An explicit confidence wins over the estimate (the counts stay as evidence).
        var given = RuleTeacher.Fit(Compile(ThreeRules), Xyz, TeachesT, train, ["t"], new Dictionary<string, double> { ["rule_b"] = 0.9 });
        var gb = Assert.Single(given.Task("t").Rules, r => r.RuleId == "rule_b");
        Assert.Equal((0.9, ConfidenceSource.Explicit, 4, 1), (gb.Confidence, gb.Source, gb.Fired, gb.Positives));
        Assert.Equal(1 - (3.0 / 7) * 0.1, given.Probabilities("t", given.Fire([[2, 2, 0]]))[0], 6);
    }

    [Fact]
    public void Rule_file_confidence_is_used_when_no_explicit_one_is_given()
    {
        const string text = """
            @rule rule_a
            @en "x is high"
            @zh "x 高"
            @confidence 0.7
            tag(C, tag_a) :- feature(C, x, X), X > 1.
            """;
        var train = new TrainingData([[2, 0, 0], [0, 0, 0]], [[[0f], [0f]]]);
        var teacher = RuleTeacher.Fit(Compile(text), Xyz, new Dictionary<string, IReadOnlyCollection<string>> { ["t"] = ["tag_a"] }, train, ["t"]);

        var rule = Assert.Single(teacher.Task("t").Rules);
        Assert.Equal((0.7, ConfidenceSource.RuleMetadata), (rule.Confidence, rule.Source));
        Assert.Equal(0.7, teacher.Probabilities("t", teacher.Fire([[2, 0, 0]]))[0], 6);
    }

    [Fact]
    public void Loss_at_temperature_one_is_the_hand_computed_bce_mix()
    {
        double[] z = [0.5, -1.0, 2.0, 0.0];
        double[] y = [1, 0, 0, 1];
        double[] p = [0.8, 0.3, double.NaN, 1.0];
        double[] labelled = [1, 1, 1, 0];
        const double alpha = 0.3;

        using var scope = NewDisposeScope();
        var loss = DistillationLoss.Compute(
            Column(z), Column(y), Column(p), new DistillationOptions { Temperature = 1, Alpha = alpha }, Column(labelled)).item<float>();

        // Label term over rows 0-2; teacher term over rows 0, 1 and 3 (row 2 has no teacher).
        var hard = (Bce(1, z[0]) + Bce(0, z[1]) + Bce(0, z[2])) / 3;
        var taught = (Bce(0.8, z[0]) + Bce(0.3, z[1]) + Bce(1.0, z[3])) / 3;
        Assert.Equal((1 - alpha) * hard + alpha * taught, loss, 5);

        // T = 2: the student's logit and the teacher's logit are both halved; the teacher term is scaled by T².
        var loss2 = DistillationLoss.Compute(
            Column(z), Column(y), Column(p), new DistillationOptions { Temperature = 2, Alpha = alpha }, Column(labelled)).item<float>();
        static double Soft(double q) => 1 / (1 + Math.Exp(-Math.Log(q / (1 - q)) / 2));
        var taught2 = (Bce(Soft(0.8), z[0] / 2) + Bce(Soft(0.3), z[1] / 2) + Bce(1.0, z[3] / 2)) / 3;
        Assert.Equal((1 - alpha) * hard + alpha * 4 * taught2, loss2, 5);
    }

    [Fact]
    public void Alpha_zero_trains_exactly_like_no_distillation_and_alpha_above_zero_does_not()
    {
        var (train, validation, test) = SyntheticData.Split(SyntheticData.Generate(1200, seed: 5), 0.6, 0.2);
        var spec = SyntheticData.Spec();
        var rules = Compile("""
            @rule high_f0
            @en "f0 high"
            @zh "f0 高"
            tag(C, high_f0) :- feature(C, f0, X), X > 0.5.
            """);
        var teacher = RuleTeacher.Fit(rules, spec.Features, new Dictionary<string, IReadOnlyCollection<string>> { ["repurchase"] = ["high_f0"] },
            train, [.. spec.Tasks.Select(t => t.Name)]);
        var names = spec.Tasks.Select(t => t.Name).ToArray();
        var options = Fast with { Epochs = 4 };

        using var baseline = MmoeTrainer.Train(spec, train, validation, options);
        using var zero = MmoeTrainer.Train(spec, teacher.Teach(train, names), teacher.Teach(validation, names),
            options with { Distillation = new DistillationOptions { Alpha = 0, Temperature = 2 } });
        using var some = MmoeTrainer.Train(spec, teacher.Teach(train, names), teacher.Teach(validation, names),
            options with { Distillation = new DistillationOptions { Alpha = 0.5, Temperature = 2 } });

        // Equal up to float summation order: libtorch's thread count is process-wide, and other test classes running
        // beside this one set it, which can reorder a reduction (seen once: 6e-8 apart in one weight).
        const double Tolerance = 1e-5;
        AssertClose(Flatten(baseline.Weights), Flatten(zero.Weights), Tolerance);
        AssertClose(baseline.Epochs.Select(e => e.TrainLoss), zero.Epochs.Select(e => e.TrainLoss), Tolerance);
        AssertClose(baseline.Epochs.Select(e => e.ValidationLoss), zero.Epochs.Select(e => e.ValidationLoss), Tolerance);
        AssertClose(baseline.Model.Predict(test.Features)[0].SelectMany(r => r), zero.Model.Predict(test.Features)[0].SelectMany(r => r), Tolerance);
        var moved = Flatten(baseline.Weights).Zip(Flatten(some.Weights), (a, b) => Math.Abs(a - b)).Max();
        Assert.True(moved > 1e-3, $"alpha 0.5 left the weights within {moved} of the baseline's");
    }

    [Fact]
    public void With_alpha_one_the_student_follows_a_rule_that_is_the_label_function()
    {
        var (train, validation, test) = Threshold(2400, seed: 3);
        var spec = new ModelSpec(["f0", "f1", "f2", "f3"], 2, [16], [8], [new TaskSpec("pos", TaskKind.Binary)]);
        var rules = Compile("""
            @rule f0_high
            @en "f0 above 0.3"
            @zh "f0 大于 0.3"
            tag(C, f0_high) :- feature(C, f0, X), X > 0.3.
            """);
        var tags = new Dictionary<string, IReadOnlyCollection<string>> { ["pos"] = ["f0_high"] };
        var teacher = RuleTeacher.Fit(rules, spec.Features, tags, train, ["pos"]);
        var options = Fast with { LearningRate = 1e-2, Distillation = new DistillationOptions { Alpha = 1, Temperature = 2 } };

        using var student = MmoeTrainer.Train(spec, teacher.Teach(train, ["pos"]), teacher.Teach(validation, ["pos"]), options);
        using var baseline = MmoeTrainer.Train(spec, train, validation, options with { Distillation = null });
        var report = DistillationReport.Compute(teacher, ["pos"], test, student.Model.Predict(test.Features), baseline.Model.Predict(test.Features));
        output.WriteLine(report.ToMarkdown());

        var row = Assert.Single(report.Tasks);
        Assert.True(row.StudentAgreement >= 0.95, $"agreement {row.StudentAgreement}");
        Assert.Equal(1.0, row.TeacherAuc, 6); // the rule is the label function
        Assert.True(row.StudentAuc > 0.95, $"AUC {row.StudentAuc}");
        Assert.Equal(test.Rows, row.Rows);
    }

    [Fact]
    public void With_alpha_one_the_student_follows_the_teacher_even_against_random_labels()
    {
        var (train, validation, test) = Threshold(2400, seed: 4, randomLabels: true);
        var spec = new ModelSpec(["f0", "f1", "f2", "f3"], 2, [16], [8], [new TaskSpec("pos", TaskKind.Binary)]);
        var rules = Compile("""
            @rule f0_high
            @en "f0 above 0.3"
            @zh "f0 大于 0.3"
            tag(C, f0_high) :- feature(C, f0, X), X > 0.3.
            """);
        var teacher = RuleTeacher.FromConfidences(rules, spec.Features, new Dictionary<string, IReadOnlyCollection<string>> { ["pos"] = ["f0_high"] },
            new Dictionary<string, double> { ["f0_high"] = 0.95 }, new Dictionary<string, double> { ["pos"] = 0.05 });
        var options = Fast with { LearningRate = 1e-2, Distillation = new DistillationOptions { Alpha = 1, Temperature = 2 } };

        using var student = MmoeTrainer.Train(spec, teacher.Teach(train, ["pos"]), teacher.Teach(validation, ["pos"]), options);
        using var baseline = MmoeTrainer.Train(spec, train, validation, options with { Distillation = null });
        var report = DistillationReport.Compute(teacher, ["pos"], test, student.Model.Predict(test.Features), baseline.Model.Predict(test.Features));
        output.WriteLine(report.ToMarkdown());

        var row = Assert.Single(report.Tasks);
        Assert.True(row.StudentAgreement >= 0.95, $"agreement {row.StudentAgreement}");
        Assert.True(row.BaselineAgreement < 0.9, $"baseline agreement {row.BaselineAgreement}");
    }

    [Fact]
    public void Agreement_counts_rows_where_the_half_threshold_matches_the_rules()
    {
        Assert.Equal(0.75, DistillationReport.Agreement([0.9f, 0.5f, 0.2f, 0.1f], [true, true, true, false]), 12);
        Assert.True(double.IsNaN(DistillationReport.Agreement([], [])));
    }

    [Fact]
    public void Soft_targets_are_checked_and_follow_subsets()
    {
        var data = new TrainingData([[1f], [2f], [3f]], [[[0f], [1f], [1f]]]);
        float[] tooShort = [0.5f, 0.5f], notProbabilities = [0.5f, 1.5f, 0f], teacher = [0.1f, float.NaN, 0.9f];
        Assert.Throws<ArgumentException>(() => data.WithSoftTargets([tooShort]));
        Assert.Throws<ArgumentException>(() => data.WithSoftTargets([notProbabilities]));
        Assert.Throws<ArgumentException>(() => data.WithSoftTargets([null, null]));

        var subset = data.WithSoftTargets([teacher]).Subset([2, 0]);
        Assert.Equal([0.9f, 0.1f], Assert.IsType<float[]>(subset.SoftTargets![0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { Distillation = new DistillationOptions { Temperature = 0 } }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { Distillation = new DistillationOptions { Alpha = 1.5 } }.Validate());
    }

    private static TagRuleSet Compile(string text)
    {
        var set = TagRuleSet.Compile(text, null, out var errors);
        Assert.Empty(errors);
        return set!;
    }

    private static Tensor Column(double[] values) => tensor(values.Select(v => (float)v).ToArray(), [values.Length, 1]);

    // BCE of target q against the probability σ(z).
    private static double Bce(double q, double z)
    {
        var s = 1 / (1 + Math.Exp(-z));
        return -(q * Math.Log(s) + (q < 1 ? (1 - q) * Math.Log(1 - s) : 0));
    }

    private static (TrainingData Train, TrainingData Validation, TrainingData Test) Threshold(int rows, int seed, bool randomLabels = false)
    {
        var random = new Random(seed);
        var features = new float[rows][];
        var labels = new float[rows][];
        for (var i = 0; i < rows; i++)
        {
            features[i] = [.. Enumerable.Range(0, 4).Select(_ => (float)(random.NextDouble() * 2 - 1))];
            labels[i] = [(randomLabels ? random.NextDouble() < 0.5 : features[i][0] > 0.3f) ? 1f : 0f];
        }
        return SyntheticData.Split(new TrainingData(features, [labels]), 0.6, 0.2);
    }

    private static void AssertClose<T>(IEnumerable<T> expected, IEnumerable<T> actual, double tolerance)
        where T : IConvertible
    {
        var e = expected.Select(v => v.ToDouble(null)).ToArray();
        var a = actual.Select(v => v.ToDouble(null)).ToArray();
        Assert.Equal(e.Length, a.Length);
        for (var i = 0; i < e.Length; i++)
        {
            Assert.True(Math.Abs(e[i] - a[i]) <= tolerance, $"value {i}: {a[i]} differs from {e[i]} by more than {tolerance}");
        }
    }

    private static float[] Flatten(ModelWeights w) =>
    [
        .. w.Mean, .. w.Std,
        .. w.Experts.SelectMany(e => e).SelectMany(d => d.W.Concat(d.B)),
        .. w.Gates.SelectMany(d => d.W.Concat(d.B)),
        .. w.Towers.SelectMany(e => e).SelectMany(d => d.W.Concat(d.B)),
    ];
}
