using EdgeProfile.Core.Features;

namespace EdgeProfile.Edge.Features;

/// <summary>Where the edge's definition subscriber hands a feature set received from the hub.</summary>
public interface IFeatureSetSink
{
    /// <summary>The registry revision the edge currently applies (0: the built-in defaults).</summary>
    long AppliedRevision { get; }

    /// <summary>
    /// Applies <paramref name="set"/> (a newer revision): new or changed definitions take effect without a restart and
    /// are backfilled from the local log. Completes once the set is durable and served.
    /// </summary>
    Task ApplyAsync(FeatureSet set, CancellationToken cancellationToken);
}
