namespace EdgeProfile.Semantic.Vectors;

/// <summary>
/// Settings of a <see cref="HnswIndex"/> (names as in Malkov &amp; Yashunin, "Efficient and robust approximate nearest
/// neighbor search using Hierarchical Navigable Small World graphs", 2016/2018). All of them are saved with the index
/// and restored by <see cref="HnswIndex.Load(Stream)"/>.
/// </summary>
public sealed record HnswOptions
{
    /// <summary>The default <see cref="EfSearch"/>: the smallest of 64 / 128 / 256 that reached recall@10 ≥ 0.95 on
    /// the real benchmark set of bench/EdgeProfile.Bench.VectorSearch (100k MiniLM product, basket and customer vectors,
    /// M 16, EfConstruction 200: 0.972 at 128, 0.948 at 64). Unstructured data needs far more: random 64-d Gaussian
    /// vectors reach only 0.85 at 256 and 0.96 at 512 (see that README), so pass a larger ef to <see cref="HnswIndex.Search(ReadOnlySpan{float}, int, int, Func{long, bool})"/>
    /// or set this option for such sets.</summary>
    public const int DefaultEfSearch = 128;

    /// <summary>Links per node on the upper layers (and per new node on every layer); the paper's M. Default 16.</summary>
    public int M { get; init; } = 16;

    /// <summary>Links per node on layer 0 (the paper's M<sub>max0</sub>); <see langword="null"/> means 2 × <see cref="M"/>,
    /// the paper's recommendation.</summary>
    public int? MaxM0 { get; init; }

    /// <summary>The candidate-list size while inserting (the paper's efConstruction). Default 200.</summary>
    public int EfConstruction { get; init; } = 200;

    /// <summary>The candidate-list size of a search (the paper's ef) when the caller does not pass one; at least k is
    /// always used. Default <see cref="DefaultEfSearch"/>.</summary>
    public int EfSearch { get; init; } = DefaultEfSearch;

    /// <summary>Seeds the random layer assignment, so sequential builds are reproducible. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>The effective layer-0 link limit: <see cref="MaxM0"/> or 2 × <see cref="M"/>.</summary>
    public int LevelZeroMaxConnections => MaxM0 ?? (2 * M);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a setting is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(M, 2, nameof(M));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(M, 1024, nameof(M));
        ArgumentOutOfRangeException.ThrowIfLessThan(LevelZeroMaxConnections, M, nameof(MaxM0));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(LevelZeroMaxConnections, 4096, nameof(MaxM0));
        ArgumentOutOfRangeException.ThrowIfLessThan(EfConstruction, 1, nameof(EfConstruction));
        ArgumentOutOfRangeException.ThrowIfLessThan(EfSearch, 1, nameof(EfSearch));
    }
}
