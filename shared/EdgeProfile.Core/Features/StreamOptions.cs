using System.Collections.ObjectModel;

namespace EdgeProfile.Core.Features;

/// <summary>
/// Event-time settings of the feature stream: how far each source may run out of order, how long a closed window
/// still accepts late events, and when a silent source stops holding the watermark back.
/// </summary>
public sealed record StreamOptions
{
    /// <summary>How far behind its newest event a source's events may arrive; default 5s (per source, see <see cref="SourceOutOfOrderness"/>).</summary>
    public TimeSpan MaxOutOfOrderness { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Out-of-orderness per source name, overriding <see cref="MaxOutOfOrderness"/>; empty by default.</summary>
    public IReadOnlyDictionary<string, TimeSpan> SourceOutOfOrderness { get; init; } = ReadOnlyDictionary<string, TimeSpan>.Empty;

    /// <summary>
    /// How far behind the watermark an event is still accepted (and updates windows already emitted); older events
    /// are late. Also how long window state is kept after the watermark passes the window end. Default 5 minutes.
    /// </summary>
    public TimeSpan AllowedLateness { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A source whose newest event is more than this behind the newest event of any source no longer holds the
    /// combined watermark back. Measured in event time, so results do not depend on the wall clock. Default 1 hour.
    /// </summary>
    public TimeSpan SourceIdleTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The out-of-orderness of <paramref name="source"/>.</summary>
    public TimeSpan OutOfOrdernessOf(string source) =>
        source is not null && SourceOutOfOrderness is not null && SourceOutOfOrderness.TryGetValue(source, out var v) ? v : MaxOutOfOrderness;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (MaxOutOfOrderness < TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(MaxOutOfOrderness)} must not be negative (got {MaxOutOfOrderness})");
        }

        if (AllowedLateness < TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(AllowedLateness)} must not be negative (got {AllowedLateness})");
        }

        if (SourceIdleTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(SourceIdleTimeout)} must be positive (got {SourceIdleTimeout})");
        }

        if (SourceOutOfOrderness is null)
        {
            throw new ArgumentException($"{nameof(SourceOutOfOrderness)} must not be null");
        }

        foreach (var (source, v) in SourceOutOfOrderness)
        {
            if (v < TimeSpan.Zero)
            {
                throw new ArgumentException($"{nameof(SourceOutOfOrderness)}:{source} must not be negative (got {v})");
            }
        }
    }
}
