using static TorchSharp.torch;

namespace EdgeProfile.Training.Distillation;

/// <summary>
/// The distillation loss of one binary head (Hinton et al., 2015, with a Bernoulli output): with the student's logit
/// <c>z</c>, the label <c>y</c> and the teacher's probability <c>p</c>,
/// <c>(1 − α)·BCE(y, σ(z)) + α·T²·BCE(q, σ(z/T))</c> where <c>q = σ(logit(p)/T)</c> is the teacher's target softened
/// by the same temperature. The label term is the mean over the rows with a label (as in training without a teacher,
/// with the optional <c>pos_weight</c>); the teacher term is the mean over the rows with a teacher probability (NaN =
/// none), labelled or not. <c>T²</c> keeps the teacher term's gradient on the scale of the label term's.
/// </summary>
public static class DistillationLoss
{
    /// <summary>
    /// The teacher's target at temperature <paramref name="temperature"/>: <c>σ(logit(p)/T)</c> (0 and 1 stay 0 and 1;
    /// NaN stays NaN).
    /// </summary>
    public static float SoftTarget(double probability, double temperature)
    {
        if (!(temperature > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be > 0");
        }
        if (double.IsNaN(probability))
        {
            return float.NaN;
        }
        if (probability <= 0 || probability >= 1)
        {
            return probability <= 0 ? 0f : 1f;
        }
        var logit = Math.Log(probability) - Math.Log(1 - probability);
        return (float)(1 / (1 + Math.Exp(-logit / temperature)));
    }

    /// <summary>
    /// The loss (a scalar tensor) for <paramref name="logits"/>, <paramref name="labels"/> and the teacher's
    /// probabilities <paramref name="teacher"/>, each <c>[rows, 1]</c>; <paramref name="labelMask"/> (<c>[rows, 1]</c>,
    /// 1 = labelled; null = every row) and <paramref name="positiveWeight"/> (BCE <c>pos_weight</c>) apply to the label
    /// term only.
    /// </summary>
    public static Tensor Compute(
        Tensor logits, Tensor labels, Tensor teacher, DistillationOptions options, Tensor? labelMask = null, Tensor? positiveWeight = null)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var p = teacher.detach().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        var (targets, mask) = SoftTargets(p, options.Temperature);
        var soft = tensor(targets, teacher.shape);
        var softMask = tensor(mask, teacher.shape);
        var labelled = labelMask ?? ones_like(labels);
        return Combine(logits, labels, labelled, soft, softMask, options, positiveWeight);
    }

    /// <summary>Softened targets (0 where the teacher is NaN) and the mask of rows with a teacher.</summary>
    internal static (float[] Targets, float[] Mask) SoftTargets(IReadOnlyList<float> probabilities, double temperature)
    {
        var targets = new float[probabilities.Count];
        var mask = new float[probabilities.Count];
        for (var i = 0; i < targets.Length; i++)
        {
            if (!float.IsNaN(probabilities[i]))
            {
                targets[i] = SoftTarget(probabilities[i], temperature);
                mask[i] = 1f;
            }
        }
        return (targets, mask);
    }

    /// <summary>
    /// The loss with already softened targets: the label term exactly as the trainer computes it without a teacher
    /// (mean over labelled rows and outputs, empty batch = 0), mixed with the teacher term.
    /// </summary>
    internal static Tensor Combine(
        Tensor logits, Tensor labels, Tensor labelMask, Tensor softTargets, Tensor softMask, DistillationOptions options, Tensor? positiveWeight)
    {
        var hardElementwise = nn.functional.binary_cross_entropy_with_logits(logits, labels, null, nn.Reduction.None, positiveWeight);
        var hard = (hardElementwise * labelMask).sum() / (labelMask.sum() * logits.shape[1]).clamp_min(1);
        var t = options.Temperature;
        var softElementwise = nn.functional.binary_cross_entropy_with_logits(logits / t, softTargets, null, nn.Reduction.None);
        var taught = (softElementwise * softMask).sum() / (softMask.sum() * logits.shape[1]).clamp_min(1);
        return hard * (1 - options.Alpha) + taught * (options.Alpha * t * t);
    }
}
