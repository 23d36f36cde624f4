namespace EdgeProfile.Federated.Privacy;

/// <summary>
/// Standard normal samples by the Box–Muller transform over an injectable uniform source: a seeded
/// <see cref="Random"/> for reproducible tests and simulations, <see cref="SecureRandom"/> (the default) in
/// production, where an adversary must not be able to predict the noise.
/// </summary>
/// <remarks>Not thread-safe; one instance per round or per client.</remarks>
public sealed class GaussianNoise
{
    private readonly Random _uniform;
    private double _spare;
    private bool _hasSpare;

    /// <summary>Noise from the operating system's cryptographic generator.</summary>
    public GaussianNoise()
        : this(new SecureRandom())
    {
    }

    /// <summary>Noise from <paramref name="uniform"/>.</summary>
    public GaussianNoise(Random uniform)
    {
        ArgumentNullException.ThrowIfNull(uniform);
        _uniform = uniform;
    }

    /// <summary>
    /// Reproducible noise (tests, simulations): never use a seeded source for a real release. Streams from different
    /// seeds, even adjacent ones, are independent for practical purposes (SplitMix64, not <c>new Random(seed)</c>).
    /// </summary>
    public static GaussianNoise Seeded(int seed) => new(new SplitMix64Random(seed));

    /// <summary>One N(0, 1) sample.</summary>
    public double Next()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }
        // u1 in (0, 1] so the logarithm is finite; each transform yields two independent normals.
        var u1 = 1.0 - _uniform.NextDouble();
        var u2 = _uniform.NextDouble();
        var radius = Math.Sqrt(-2.0 * Math.Log(u1));
        var angle = 2.0 * Math.PI * u2;
        _spare = radius * Math.Sin(angle);
        _hasSpare = true;
        return radius * Math.Cos(angle);
    }

    /// <summary>Adds independent N(0, <paramref name="standardDeviation"/>²) noise to every element.</summary>
    public void AddTo(Span<double> values, double standardDeviation)
    {
        if (!(standardDeviation >= 0) || double.IsPositiveInfinity(standardDeviation))
        {
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "must be non-negative and finite");
        }
        for (var i = 0; i < values.Length; i++)
        {
            values[i] += standardDeviation * Next();
        }
    }
}
