using EdgeProfile.Federated.Jobs;
using EdgeProfile.Models;

namespace EdgeProfile.Hub.Federation;

/// <summary>
/// The global input transform of a federated model from the participants' summed <see cref="FeatureSums"/> (the
/// statistics phase).
/// A feature that is never negative and whose skewness exceeds 2 goes through log1p (as `models train` decides on a
/// training set); mean and standard deviation are those of the transformed values. No row is needed for any of it.
/// </summary>
public static class FeatureStatistics
{
    /// <summary>Skewness above which a non-negative feature is log1p-transformed.</summary>
    public const double SkewLimit = 2;

    /// <summary>The model template (architecture and input transform) from the summed statistics.</summary>
    public static ModelTemplate Template(FederatedJobSpec spec, double[] sums)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(sums);
        var f = spec.Features.Count;
        if (sums.Length != FeatureSums.Width(f))
        {
            throw new ArgumentException($"statistics of {sums.Length} values, {FeatureSums.Width(f)} expected", nameof(sums));
        }
        var n = sums[0];
        if (n < 1)
        {
            throw new JobFailedException(JobStates.Failed, "the participants reported no training rows");
        }
        var mean = new float[f];
        var std = new float[f];
        var log1p = new bool[f];
        for (var j = 0; j < f; j++)
        {
            var m1 = sums[1 + j] / n;
            var m2 = sums[1 + f + j] / n;
            var m3 = sums[1 + (2 * f) + j] / n;
            var variance = Math.Max(m2 - (m1 * m1), 0);
            var sd = Math.Sqrt(variance);
            var skew = sd > 1e-12 ? (m3 - (3 * m1 * variance) - (m1 * m1 * m1)) / (sd * sd * sd) : 0;
            log1p[j] = sums[1 + (3 * f) + j] == 0 && skew > SkewLimit;
            if (log1p[j])
            {
                var t1 = sums[1 + (4 * f) + j] / n;
                var t2 = sums[1 + (5 * f) + j] / n;
                mean[j] = (float)t1;
                sd = Math.Sqrt(Math.Max(t2 - (t1 * t1), 0));
            }
            else
            {
                mean[j] = (float)m1;
            }
            std[j] = sd > 1e-6 ? (float)sd : 1f;
        }
        var tasks = spec.Tasks.Select(t => new TaskSpec(t.Name, t.Kind == "regression" ? TaskKind.Regression : TaskKind.Binary)).ToArray();
        var modelSpec = new ModelSpec(spec.Features, spec.Experts, spec.ExpertHidden, spec.TowerHidden, tasks);
        return new ModelTemplate(modelSpec, mean, std, log1p.Any(l => l) ? log1p : null);
    }
}
