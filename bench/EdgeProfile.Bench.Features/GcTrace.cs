using System.Diagnostics.Tracing;
using System.Globalization;

namespace EdgeProfile.Bench.Features;

/// <summary>
/// Records each garbage collection in this process from the runtime's own events: generation, reason, pause (suspend
/// to restart) and bytes promoted, with its time from <paramref name="origin"/>, so a latency tail can be laid beside
/// the collections in it.
/// </summary>
internal sealed class GcTrace(DateTime origin) : EventListener
{
    private readonly List<string> _lines = [];
    private readonly Lock _gate = new();
    private long _suspendTicks;
    private int _gen;

    /// <summary>Sampled allocation (about every 100 KB) by type, when BENCH_ALLOC=1.</summary>
    public Dictionary<string, double> Allocations { get; } = [];
    private readonly List<string> _phases = [];
    private readonly List<string> _marks = [];
    private int _reason;
    private string _promoted = "";
    private double _promotedGen0;
    private double _promotedGen1;
    private readonly double[] _sumPromoted = new double[3];
    private readonly double[] _sumPause = new double[3];
    private readonly double[] _maxPause = new double[3];
    private readonly int[] _count = new int[3];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Per generation collected: count, mean bytes promoted out of gen0 (and gen1) per collection, mean and max pause.</summary>
    public string Summary
    {
        get
        {
            lock (_gate)
            {
                var parts = new List<string>();
                for (var g = 0; g < 3; g++)
                {
                    if (_count[g] > 0)
                    {
                        parts.Add(string.Create(CultureInfo.InvariantCulture, $"gen{g} GCs {_count[g]}: promoted {_sumPromoted[g] / _count[g] / (1024 * 1024):F2} MiB/GC, pause mean {_sumPause[g] / _count[g]:F1} max {_maxPause[g]:F1} ms"));
                    }
                }

                return "GC summary: " + (parts.Count == 0 ? "no collections" : string.Join("; ", parts));
            }
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, Environment.GetEnvironmentVariable("BENCH_ALLOC") == "1" ? EventLevel.Verbose : EventLevel.Informational, (EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        lock (_gate)
        {
            switch (e.EventName)
            {
                case "GCSuspendEEBegin_V1":
                    _suspendTicks = e.TimeStamp.Ticks;
                    _phases.Clear();
                    _marks.Clear();
                    break;
                case "GCSuspendEEEnd_V1" or "GCEnd_V1" or "GCRestartEEBegin_V1":
                    NotePhase(e);
                    break;
                case "GCStart_V2":
                    NotePhase(e);
                    _gen = Convert.ToInt32(e.Payload![1], CultureInfo.InvariantCulture);
                    _reason = Convert.ToInt32(e.Payload[2], CultureInfo.InvariantCulture);
                    break;
                case "GCAllocationTick_V4" or "GCAllocationTick_V3" or "GCAllocationTick_V2":
                    var type = e.PayloadNames!.IndexOf("TypeName") is var ti and >= 0 ? e.Payload![ti]?.ToString() ?? "?" : "?";
                    var amount = Convert.ToDouble(e.Payload![e.PayloadNames.IndexOf("AllocationAmount64") is var ai and >= 0 ? ai : 0], CultureInfo.InvariantCulture);
                    Allocations[type] = Allocations.GetValueOrDefault(type) + amount;
                    break;
                case "GCMarkWithType":
                    _marks.Add(string.Create(CultureInfo.InvariantCulture, $"h{e.Payload![0]} t{e.Payload[2]} {Mb(e.Payload[3])}@{TimeSpan.FromTicks(e.TimeStamp.Ticks - _suspendTicks).TotalMilliseconds:F1}"));
                    break;
                case "GCHeapStats_V2":
                    _promotedGen0 = Convert.ToDouble(e.Payload![1], CultureInfo.InvariantCulture);
                    _promotedGen1 = Convert.ToDouble(e.Payload[3], CultureInfo.InvariantCulture);
                    _promoted = string.Create(CultureInfo.InvariantCulture, $"promoted gen0 {Mb(e.Payload![1])} gen1 {Mb(e.Payload[3])} gen2 {Mb(e.Payload[5])} MiB; sizes gen0 {Mb(e.Payload[0])} gen1 {Mb(e.Payload[2])} gen2 {Mb(e.Payload[4])} MiB");
                    break;
                case "GCRestartEEEnd_V1" when _suspendTicks != 0:
                    var pause = TimeSpan.FromTicks(e.TimeStamp.Ticks - _suspendTicks).TotalMilliseconds;
                    _lines.Add(string.Create(CultureInfo.InvariantCulture, $"at +{(new DateTime(_suspendTicks, DateTimeKind.Utc) - origin).TotalMilliseconds:F0} ms: gen{_gen} reason {_reason} pause {pause:F1} ms; {_promoted}; {string.Join(", ", _phases)}; marks {string.Join(" ", _marks)}"));
                    if (_gen is >= 0 and < 3)
                    {
                        // What this collection kept: out of gen0, plus out of gen1 when gen1 was collected too.
                        _sumPromoted[_gen] += _promotedGen0 + (_gen >= 1 ? _promotedGen1 : 0);
                        _sumPause[_gen] += pause;
                        _maxPause[_gen] = Math.Max(_maxPause[_gen], pause);
                        _count[_gen]++;
                    }

                    _suspendTicks = 0;
                    break;
            }
        }
    }

    // A stage of the collection under way, with its time from the suspension that began it.
    private void NotePhase(EventWrittenEventArgs e)
    {
        if (_suspendTicks != 0)
        {
            _phases.Add(string.Create(CultureInfo.InvariantCulture, $"{e.EventName![..^3]} +{TimeSpan.FromTicks(e.TimeStamp.Ticks - _suspendTicks).TotalMilliseconds:F1}"));
        }
    }

    private static string Mb(object? bytes) => (Convert.ToDouble(bytes, CultureInfo.InvariantCulture) / (1024 * 1024)).ToString("F1", CultureInfo.InvariantCulture);
}
