using EdgeProfile.Models;

namespace EdgeProfile.Training.Tests;

/// <summary>
/// Seeded synthetic rows: two correlated binary tasks (their logits share most of a linear direction, plus a task-specific
/// nonlinear term) and one regression task; raw features have non-zero means and very different scales.
/// </summary>
internal static class SyntheticData
{
    public const int Width = 10;

    public static readonly float[] Scales = [1f, 10f, 0.1f, 100f, 2f, 5f, 0.5f, 20f, 1f, 3f];
    public static readonly float[] Offsets = [0f, 50f, -3f, 1000f, 7f, 0f, 1f, -40f, 2f, 0f];

    public static ModelSpec Spec(int experts = 3, int[]? expertHidden = null, int[]? towerHidden = null) => new(
        Enumerable.Range(0, Width).Select(i => $"f{i}").ToArray(),
        experts,
        expertHidden ?? [16],
        towerHidden ?? [8],
        [new TaskSpec("repurchase", TaskKind.Binary), new TaskSpec("churn", TaskKind.Binary), new TaskSpec("ltv", TaskKind.Regression)]);

    public static TrainingData Generate(int rows, int seed)
    {
        var random = new Random(seed);
        // Task directions: the churn direction is 0.8 × the repurchase direction + 0.6 × an orthogonal-ish one.
        var shared = new[] { 1.2, -0.8, 0.6, 0.0, 0.9, -0.5, 0.0, 0.4, 0.0, 0.3 };
        var own = new[] { 0.0, 0.5, 0.0, -0.9, 0.0, 0.4, 0.8, 0.0, -0.6, 0.0 };
        var features = new float[rows][];
        var repurchase = new float[rows][];
        var churn = new float[rows][];
        var ltv = new float[rows][];
        for (var i = 0; i < rows; i++)
        {
            var z = new double[Width];
            for (var j = 0; j < Width; j++)
            {
                z[j] = Gaussian(random);
            }
            double a = 0, b = 0;
            for (var j = 0; j < Width; j++)
            {
                a += shared[j] * z[j];
                b += (0.8 * shared[j] + 0.6 * own[j]) * z[j];
            }
            var l1 = 2.5 * a + 0.8 * z[0] * z[1];
            var l2 = 2.5 * b - 0.8 * Math.Abs(z[2]) + 0.5;
            repurchase[i] = [random.NextDouble() < Sigmoid(l1) ? 1f : 0f];
            churn[i] = [random.NextDouble() < Sigmoid(l2) ? 1f : 0f];
            ltv[i] = [(float)(1.5 + 0.7 * a + 0.3 * Math.Tanh(z[4]) + 0.1 * Gaussian(random))];
            features[i] = z.Select((v, j) => (float)(v * Scales[j] + Offsets[j])).ToArray();
        }
        return new TrainingData(features, [repurchase, churn, ltv]);
    }

    public static (TrainingData Train, TrainingData Validation, TrainingData Test) Split(TrainingData data, double train, double validation)
    {
        var nTrain = (int)(data.Rows * train);
        var nValidation = (int)(data.Rows * validation);
        return (
            data.Subset(Enumerable.Range(0, nTrain).ToArray()),
            data.Subset(Enumerable.Range(nTrain, nValidation).ToArray()),
            data.Subset(Enumerable.Range(nTrain + nValidation, data.Rows - nTrain - nValidation).ToArray()));
    }

    public static float[] Column(float[][] rows, int output = 0) => rows.Select(r => r[output]).ToArray();

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
