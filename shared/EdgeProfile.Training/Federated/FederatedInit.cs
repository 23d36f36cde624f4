using EdgeProfile.Models;
using static TorchSharp.torch;

namespace EdgeProfile.Training.Federated;

/// <summary>Round-0 weights for a federated job, created by the hub before any client has trained.</summary>
public static class FederatedInit
{
    /// <summary>
    /// Weights of <paramref name="spec"/> with torch's default initialisation under <c>manual_seed(seed)</c> (the same
    /// seed gives the same weights) and the job's fixed input transform: <paramref name="mean"/> and <paramref name="std"/>
    /// (e.g. from <see cref="FeatureMoments"/> gathered from the clients) after the optional <paramref name="log1p"/>.
    /// </summary>
    public static ModelWeights Initial(ModelSpec spec, float[] mean, float[] std, IReadOnlyList<bool>? log1p, int seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length != spec.Inputs || std.Length != spec.Inputs || (log1p is not null && log1p.Count != spec.Inputs))
        {
            throw new ArgumentException($"the input transform must have {spec.Inputs} entries per array");
        }
        if (std.Any(s => !(s > 0) || !float.IsFinite(s)) || mean.Any(m => !float.IsFinite(m)))
        {
            throw new ArgumentException("means must be finite and standard deviations positive", nameof(std));
        }
        TorchEnvironment.Prepare();
        manual_seed(seed);
        using var module = new MmoeModule(spec);
        var weights = ModuleWeights.Read(module, mean, std, log1p);
        weights.Validate();
        return weights;
    }
}
