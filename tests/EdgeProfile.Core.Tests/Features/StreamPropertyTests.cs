using EdgeProfile.Core.Features;
using static EdgeProfile.Core.Tests.Features.StreamTestKit;

namespace EdgeProfile.Core.Tests.Features;

public sealed class StreamPropertyTests
{
    /// <summary>A random out-of-order stream over several customers and sources, as it arrives.</summary>
    internal sealed record RandomStream(StreamOptions Options, List<(string Key, FeatureInput Event)> Arrivals);

    internal static RandomStream Generate(int seed, int? eventCount = null)
    {
        var rng = new Random(seed);
        var sources = new[] { ("pos", 0L), ("app", (long)rng.Next(1, 4) * Minute), ("web", (long)rng.Next(5, 15) * Minute) }
            .Take(rng.Next(2, 4)).ToArray();
        var options = new StreamOptions
        {
            MaxOutOfOrderness = TimeSpan.FromMilliseconds(sources[0].Item2),
            SourceOutOfOrderness = sources.Skip(1).ToDictionary(s => s.Item1, s => TimeSpan.FromMilliseconds(s.Item2)),
            AllowedLateness = TimeSpan.FromMinutes(rng.Next(0, 6)),
            SourceIdleTimeout = TimeSpan.FromMinutes(rng.Next(15, 60)),
        };
        var keys = Enumerable.Range(0, rng.Next(2, 5)).Select(i => $"c{i}").ToArray();
        var start = Epoch + (rng.Next(0, 1000) * Minute);

        // Sources start apart and sometimes fall silent, so idleness and catching up both happen.
        var clocks = sources.Select(_ => start + (rng.Next(0, 40) * Minute)).ToArray();
        var arrivals = new List<(string, FeatureInput)>();
        var n = eventCount ?? rng.Next(12, 60);
        for (var i = 0; i < n; i++)
        {
            var s = rng.Next(sources.Length);
            clocks[s] += rng.Next(20) == 0 ? rng.Next(20, 70) * Minute : rng.Next(0, 150) * 1000L;
            var (name, ooo) = sources[s];
            var ts = clocks[s] - (long)(rng.NextDouble() * ((ooo * 1.3) + (2 * Minute)));
            if (rng.Next(25) == 0)
            {
                ts -= rng.Next(20, 180) * Minute;
            }

            var key = keys[rng.Next(keys.Length)];
            arrivals.Add((key, RandomEvent(rng, $"e{seed}-{i:D3}", ts, name)));
        }

        return new RandomStream(options, arrivals);
    }

    [Fact]
    public void Emitted_windows_equal_brute_force_over_accepted_events_for_thousands_of_random_streams()
    {
        var totals = new long[4];
        Parallel.For(0, 2000, seed =>
        {
            var (lates, finals, updates, retracts) = CheckEmissions(seed);
            Interlocked.Add(ref totals[0], lates);
            Interlocked.Add(ref totals[1], finals);
            Interlocked.Add(ref totals[2], updates);
            Interlocked.Add(ref totals[3], retracts);
        });

        // The streams must actually exercise late events, updates and session merges.
        Assert.True(totals[0] > 500, $"only {totals[0]} late events");
        Assert.True(totals[1] > 100_000, $"only {totals[1]} finals");
        Assert.True(totals[2] > 500, $"only {totals[2]} updates");
        Assert.True(totals[3] > 100, $"only {totals[3]} retractions");
    }

    private static (int Lates, int Finals, int Updates, int Retracts) CheckEmissions(int seed)
    {
        var stream = Generate(seed);
        var engine = new FeatureEngine(WindowSet, stream.Options);
        var model = new BruteForce.Watermark(stream.Options);
        var endOfStream = false;
        var sink = new RecordingSink(() => endOfStream ? long.MaxValue : engine.Watermarks.Current);
        var states = new Dictionary<string, CustomerState>();
        var accepted = new Dictionary<string, List<FeatureInput>>();
        var lates = 0;
        foreach (var (key, e) in stream.Arrivals)
        {
            var state = states.TryGetValue(key, out var s) ? s : states[key] = new CustomerState(key);
            var expectLate = model.IsLate(e.TimestampMs);
            var before = expectLate ? state.Serialize() : null;
            var outcome = engine.Process(state, e, sink);
            if ((expectLate ? EventOutcome.Late : EventOutcome.Accepted) != outcome)
            {
                Assert.Fail($"seed {seed}: {e.EventId} at {e.TimestampMs} was {outcome} (watermark {model.Current})");
            }

            if (expectLate)
            {
                lates++;
                Assert.True(before!.AsSpan().SequenceEqual(state.Serialize()), $"seed {seed}: a late event changed state");
            }
            else
            {
                model.Observe(e.Source, e.TimestampMs);
                (accepted.TryGetValue(key, out var list) ? list : accepted[key] = []).Add(e);
                if (seed % 25 == 0)
                {
                    // Promptly: right after this customer's event, exactly its windows the watermark closed are out,
                    // with the values of all events accepted so far.
                    var closed = Expected(key, accepted[key], end => end <= model.Current);
                    var emitted = sink.Windows.Where(kv => kv.Key.Customer == key).ToDictionary(kv => ((string, string, long, long))kv.Key, kv => kv.Value);
                    AssertSameWindows(closed, emitted, $"seed {seed} after {e.EventId}");
                }
            }

            Assert.Equal(model.Current, engine.Watermarks.Current);
        }

        endOfStream = true;
        foreach (var state in states.Values)
        {
            engine.Advance(state, long.MaxValue, sink);
        }

        var expected = new Dictionary<(string, string, long, long), FeatureValue>();
        foreach (var (key, events) in accepted)
        {
            foreach (var (k, v) in Expected(key, events, _ => true))
            {
                expected[k] = v;
            }
        }

        AssertSameWindows(expected, sink.Windows.ToDictionary(kv => ((string, string, long, long))kv.Key, kv => kv.Value), $"seed {seed}");
        return (lates, sink.All.Count(r => r.Kind == WindowEmission.Final), sink.All.Count(r => r.Kind == WindowEmission.Update),
            sink.All.Count(r => r.Kind == WindowEmission.Retract));
    }

    /// <summary>Brute-force windows of one customer's accepted events, for every non-lifetime definition, whose end passes <paramref name="include"/>.</summary>
    private static Dictionary<(string, string, long, long), FeatureValue> Expected(string key, List<FeatureInput> events, Func<long, bool> include)
    {
        var expected = new Dictionary<(string, string, long, long), FeatureValue>();
        foreach (var d in WindowSet.Definitions)
        {
            if (d.Window.Kind == WindowKind.Lifetime)
            {
                continue;
            }

            foreach (var (start, end, inWindow) in BruteForce.Windows(d, events))
            {
                if (include(end))
                {
                    expected[(key, d.Id, start, end)] = BruteForce.Aggregate(d.Aggregation, inWindow, end);
                }
            }
        }

        return expected;
    }

    private static void AssertSameWindows(Dictionary<(string, string, long, long), FeatureValue> expected, Dictionary<(string, string, long, long), FeatureValue> actual, string what)
    {
        var missing = expected.Keys.Where(k => !actual.ContainsKey(k)).Take(3).ToList();
        var extra = actual.Keys.Where(k => !expected.ContainsKey(k)).Take(3).ToList();
        if (missing.Count > 0 || extra.Count > 0)
        {
            Assert.Fail($"{what}: missing {string.Join(", ", missing)}; extra {string.Join(", ", extra)}");
        }

        foreach (var (k, value) in expected)
        {
            AssertClose(value, actual[k], () => $"{what} {k}");
        }
    }

    [Fact]
    public void Values_do_not_depend_on_arrival_order()
    {
        for (var seed = 0; seed < 200; seed++)
        {
            var rng = new Random(seed);
            var events = Enumerable.Range(0, 60)
                .Select(i => RandomEvent(rng, $"o{i:D2}", Epoch + (rng.Next(0, 90) * Minute) + rng.Next(0, 60_000), "pos") with
                {
                    // Unrounded amounts: a double sum would depend on the order.
                    Amount = rng.NextDouble() * 1000,
                })
                .ToList();
            var options = new StreamOptions { MaxOutOfOrderness = TimeSpan.FromDays(1) };
            string ReadAll(IEnumerable<FeatureInput> order)
            {
                var engine = new FeatureEngine(WindowSet, options);
                var state = new CustomerState("c");
                foreach (var e in order)
                {
                    Assert.Equal(EventOutcome.Accepted, engine.Process(state, e));
                }

                return string.Join('\n', new[] { 0L, 45 * Minute, 90 * Minute }.SelectMany(t => engine.Read(state, Epoch + t)).Select(Show));
            }

            var inOrder = ReadAll(events.OrderBy(e => e.TimestampMs));
            var shuffled = ReadAll(events.OrderBy(_ => rng.Next()));
            var reversed = ReadAll(events.OrderByDescending(e => e.TimestampMs));
            Assert.Equal(inOrder, shuffled);
            Assert.Equal(inOrder, reversed);
        }
    }

    [Fact]
    public void Online_reads_equal_brute_force_over_the_read_window()
    {
        var checkedReads = 0;
        for (var seed = 0; seed < 300; seed++)
        {
            var rng = new Random(seed);

            // Nothing late and nothing purged: every read as of any moment is exact.
            var options = new StreamOptions { MaxOutOfOrderness = TimeSpan.FromHours(3), AllowedLateness = TimeSpan.FromDays(30) };
            var engine = new FeatureEngine(WindowSet, options);
            var state = new CustomerState("c");
            var events = Enumerable.Range(0, rng.Next(1, 40))
                .Select(i => RandomEvent(rng, $"r{i:D2}", Epoch + (rng.Next(0, 120) * Minute) + rng.Next(0, 60_000), "pos"))
                .ToList();
            foreach (var e in events)
            {
                engine.Process(state, e);
            }

            var latest = events.Max(e => e.TimestampMs);
            var moments = new List<long> { latest, latest + 1, Epoch - 1, Epoch + (10 * Minute), Epoch + (10 * Minute) - 1 };
            moments.AddRange(Enumerable.Range(0, 6).Select(_ => Epoch - (30 * Minute) + (long)(rng.NextDouble() * 200 * Minute)));
            foreach (var t in moments)
            {
                foreach (var reading in engine.Read(state, t))
                {
                    var d = reading.Definition;
                    var (start, end, inWindow) = BruteForce.ReadWindow(d, events, t);
                    string What() => $"seed {seed} {d.Id} as of {t - Epoch}";
                    AssertClose(BruteForce.Aggregate(d.Aggregation, inWindow, t), reading.Value, What);
                    Assert.Equal(inWindow.Count, reading.Lineage.Events);
                    Assert.Equal(d.Id, reading.Lineage.DefinitionId);
                    Assert.Equal(start, reading.Lineage.WindowStartMs);
                    Assert.Equal(end, reading.Lineage.WindowEndMs);
                    var last = inWindow.OrderBy(e => e.TimestampMs).ThenBy(e => e.EventId, StringComparer.Ordinal).LastOrDefault();
                    Assert.Equal(last?.TimestampMs, reading.Lineage.LastEventMs);
                    Assert.Equal(last?.EventId, reading.Lineage.LastEventId);
                    Assert.Equal(inWindow.Count == 0 ? null : inWindow.Min(e => e.TimestampMs), reading.Lineage.FirstEventMs);
                    var ever = events.Where(e => d.Accepts(e.Type, e.Category)).ToList();
                    var expectedStatus = ever.Count == 0 ? FeatureStatus.Missing
                        : t - ever.Max(e => e.TimestampMs) > d.Ttl!.Value.TotalMilliseconds ? FeatureStatus.Stale
                        : FeatureStatus.Fresh;
                    if (expectedStatus != reading.Status)
                    {
                        Assert.Fail($"{What()}: status {reading.Status}, expected {expectedStatus}");
                    }

                    checkedReads++;
                }
            }
        }

        Assert.True(checkedReads > 50_000);
    }

    [Fact]
    public void Reads_at_the_latest_event_are_exact_after_purging()
    {
        for (var seed = 0; seed < 300; seed++)
        {
            var stream = Generate(seed);
            var engine = new FeatureEngine(WindowSet, stream.Options);
            var states = new Dictionary<string, CustomerState>();
            var accepted = new Dictionary<string, List<FeatureInput>>();
            foreach (var (key, e) in stream.Arrivals)
            {
                var state = states.TryGetValue(key, out var s) ? s : states[key] = new CustomerState(key);
                if (engine.Process(state, e) == EventOutcome.Accepted)
                {
                    (accepted.TryGetValue(key, out var list) ? list : accepted[key] = []).Add(e);
                }
            }

            foreach (var (key, events) in accepted)
            {
                var t = Math.Max(events.Max(e => e.TimestampMs), engine.Watermarks.Current);
                foreach (var reading in engine.Read(states[key], t))
                {
                    var (_, _, inWindow) = BruteForce.ReadWindow(reading.Definition, events, t);
                    AssertClose(BruteForce.Aggregate(reading.Definition.Aggregation, inWindow, t), reading.Value, () => $"seed {seed} {key} {reading.Definition.Id}");
                }
            }
        }
    }
}
