namespace EdgeProfile.Training.Tests;

/// <summary>
/// All tests that touch torch: torch state (seed, thread count) is process-wide and dispose scopes are thread-static,
/// so they run one at a time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchCollection
{
    public const string Name = "Torch";
}
