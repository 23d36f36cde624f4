using System.Diagnostics.Metrics;
using System.Globalization;
using EdgeProfile.Edge.Log;

namespace EdgeProfile.Bench.Features;

/// <summary>
/// Listens to the edge's log-writer metrics (<see cref="EdgeMetrics"/>) while it is alive and summarises them: where
/// an event's time between arrival and acknowledgement went.
/// </summary>
internal sealed class WriterMetrics : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, List<double>> _values = [];
    private readonly Lock _gate = new();
    private readonly List<string> _slow = [];
    private readonly long _origin = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Single measurements at least this long (ms) are listed with their time.</summary>
    public const double SlowMs = 20;

    public List<string> Slow()
    {
        lock (_gate)
        {
            return [.. _slow];
        }
    }

    public WriterMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == EdgeMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            var name = instrument.Name;
            foreach (var tag in tags)
            {
                name += $"[{tag.Value}]";
            }

            Add(name, value);
            if (value >= SlowMs && instrument.Name is not ("edgeprofile.log.queue_wait" or "edgeprofile.ingest.ack_delay"))
            {
                lock (_gate)
                {
                    _slow.Add($"+{(System.Diagnostics.Stopwatch.GetTimestamp() - _origin) * 1000 / System.Diagnostics.Stopwatch.Frequency} ms {name} {value:F1}");
                }
            }
        });
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => Add(instrument.Name, value));
        _listener.Start();
    }

    private void Add(string name, double value)
    {
        lock (_gate)
        {
            if (!_values.TryGetValue(name, out var list))
            {
                _values[name] = list = [];
            }

            list.Add(value);
        }
    }

    public List<string> Summary()
    {
        var lines = new List<string>();
        lock (_gate)
        {
            foreach (var (name, list) in _values.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var sorted = list.Order().ToList();
                double At(double q) => sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: n {sorted.Count:N0}, mean {sorted.Average():F2}, p50 {At(0.5):F2}, p90 {At(0.9):F2}, p99 {At(0.99):F2}, max {sorted[^1]:F2}"));
            }
        }

        return lines;
    }

    public void Dispose() => _listener.Dispose();
}
