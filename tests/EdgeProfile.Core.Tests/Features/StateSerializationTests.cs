using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using static EdgeProfile.Core.Tests.Features.StreamTestKit;

namespace EdgeProfile.Core.Tests.Features;

public sealed class StateSerializationTests
{
    [Fact]
    public void Round_trip_in_the_middle_of_a_stream_changes_no_emission_outcome_or_reading()
    {
        for (var seed = 0; seed < 40; seed++)
        {
            var stream = StreamPropertyTests.Generate(seed, eventCount: 80);
            var cut = new Random(seed).Next(1, stream.Arrivals.Count);
            var straight = Run(stream, cut: null);
            var restarted = Run(stream, cut);
            Assert.Equal(straight.Emissions, restarted.Emissions);
            Assert.Equal(straight.Outcomes, restarted.Outcomes);
            Assert.Equal(straight.Readings, restarted.Readings);
            Assert.Equal(straight.Bytes, restarted.Bytes);
        }
    }

    [Fact]
    public void Serialising_into_one_reused_buffer_writes_the_same_bytes_as_a_new_array()
    {
        // The edge's writer checkpoints every customer through one buffer: a large state then a small one must not
        // leave anything of the first behind.
        var stream = StreamPropertyTests.Generate(7, eventCount: 200);
        var engine = new FeatureEngine(WindowSet, stream.Options);
        var states = new SortedDictionary<string, CustomerState>(StringComparer.Ordinal);
        var sink = new ListSink([]);
        foreach (var (k, e) in stream.Arrivals)
        {
            engine.Process(states.TryGetValue(k, out var s) ? s : states[k] = new CustomerState(k), e, sink);
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>(16);
        var ordered = states.Values.OrderByDescending(s => s.Serialize().Length).Append(new CustomerState("empty")).ToList();
        Assert.True(ordered.Count >= 3);
        foreach (var state in ordered)
        {
            buffer.ResetWrittenCount();
            state.Serialize(buffer);
            Assert.Equal(state.Serialize(), buffer.WrittenSpan.ToArray());
            Assert.Equal(state.Serialize(), CustomerState.Deserialize(buffer.WrittenSpan).Serialize());
        }
    }

    private static (List<string> Emissions, List<EventOutcome> Outcomes, List<string> Readings, List<byte[]> Bytes) Run(StreamPropertyTests.RandomStream stream, int? cut)
    {
        var engine = new FeatureEngine(WindowSet, stream.Options);
        var states = new SortedDictionary<string, CustomerState>(StringComparer.Ordinal);
        var emissions = new List<string>();
        var sink = new ListSink(emissions);
        var outcomes = new List<EventOutcome>();
        for (var i = 0; i < stream.Arrivals.Count; i++)
        {
            if (i == cut)
            {
                // A restart: everything goes through bytes and a new engine.
                var tracker = WatermarkTracker.Deserialize(engine.Watermarks.Serialize(), stream.Options);
                engine = new FeatureEngine(WindowSet, stream.Options, tracker);
                foreach (var key in states.Keys.ToList())
                {
                    var bytes = states[key].Serialize();
                    Assert.Equal(2, bytes[0]);
                    states[key] = CustomerState.Deserialize(bytes);
                    Assert.Equal(bytes, states[key].Serialize());
                }
            }

            var (k, e) = stream.Arrivals[i];
            var state = states.TryGetValue(k, out var s) ? s : states[k] = new CustomerState(k);
            outcomes.Add(engine.Process(state, e, sink));
        }

        var t = engine.Watermarks.Current;
        var readings = states.Values.SelectMany(s => engine.Read(s, t)).Select(Show).ToList();
        foreach (var s in states.Values)
        {
            engine.Advance(s, long.MaxValue, sink);
        }

        return (emissions, outcomes, readings, states.Values.Select(s => s.Serialize()).ToList());
    }

    [Fact]
    public void Restored_state_keeps_customer_and_definitions()
    {
        var engine = new FeatureEngine(WindowSet, new StreamOptions());
        var state = new CustomerState("loyalty:L-9");
        engine.Process(state, Event("a", Epoch, EventType.Purchase, amount: 12.5, category: "Baby & Toddler > Toys"));
        var restored = CustomerState.Deserialize(state.Serialize());
        Assert.Equal("loyalty:L-9", restored.CustomerKey);
        Assert.Equal(state.DefinitionIds.Order(StringComparer.Ordinal), restored.DefinitionIds.Order(StringComparer.Ordinal));
        Assert.True(restored.Has("spend_tum@v1"));
        Assert.Equal(12.5, engine.Read(restored, WindowSet.Find("spend_life")!, Epoch).Value.Number);
        restored.Remove("spend_life@v1");
        Assert.False(restored.Has("spend_life@v1"));
        Assert.Equal(FeatureStatus.Missing, engine.Read(restored, WindowSet.Find("spend_life")!, Epoch).Status);
    }

    [Fact]
    public void Corrupt_or_foreign_bytes_are_refused()
    {
        var engine = new FeatureEngine(WindowSet, new StreamOptions());
        var state = new CustomerState("c");
        engine.Process(state, Event("a", Epoch, EventType.Purchase, amount: 3));
        var bytes = state.Serialize();
        for (var n = 0; n < bytes.Length; n += 1 + (n / 40))
        {
            Assert.Throws<InvalidDataException>(() => CustomerState.Deserialize(bytes.AsSpan(0, n)));
        }

        var future = (byte[])bytes.Clone();
        future[0] = 3;
        Assert.Throws<InvalidDataException>(() => CustomerState.Deserialize(future));
        Assert.Throws<InvalidDataException>(() => CustomerState.Deserialize([.. bytes, 0]));
    }

    [Fact]
    public void Version_1_state_with_decimal_sums_is_still_read()
    {
        // Written by hand in the version 1 layout: one lifetime sum of amounts with one event of 12.5.
        var w = new List<byte> { 1 };
        void VarU(ulong v)
        {
            for (; v >= 0x80; v >>= 7)
            {
                w.Add((byte)(v | 0x80));
            }

            w.Add((byte)v);
        }

        void Var(long v) => VarU((ulong)((v << 1) ^ (v >> 63)));
        void Str(string s)
        {
            VarU((ulong)s.Length + 1);
            w.AddRange(System.Text.Encoding.UTF8.GetBytes(s));
        }

        Str("c");
        VarU(1);
        Str("spend_life@v1");
        w.Add((byte)WindowKind.Lifetime);
        Var(0);
        Var(0);
        Var(0);
        Var(2); // shape: numeric
        VarU(1);
        Var(Epoch);
        Var(long.MinValue);
        VarU(1); // one pane
        Var(0);
        VarU(1);
        Var(Epoch);
        Var(0);
        Str("a");
        w.Add(0);
        w.Add(2); // numeric accumulator
        VarU(1);
        foreach (var part in decimal.GetBits(12.5m))
        {
            w.AddRange(BitConverter.GetBytes(part));
        }

        w.AddRange(BitConverter.GetBytes(0.0));
        w.AddRange(BitConverter.GetBytes(12.5));
        w.AddRange(BitConverter.GetBytes(12.5));

        var state = CustomerState.Deserialize(w.ToArray());
        var engine = new FeatureEngine(WindowSet, new StreamOptions());
        var reading = engine.Read(state, WindowSet.Find("spend_life")!, Epoch);
        Assert.Equal(12.5, reading.Value.Number);
        Assert.Equal(new Lineage("spend_life@v1", 1, Epoch, Epoch, "a", null, null), reading.Lineage);

        // Processing on and writing back gives the current version.
        engine.Process(state, Event("b", Epoch + 1, EventType.Purchase, amount: 0.25));
        Assert.Equal(12.75, engine.Read(state, WindowSet.Find("spend_life")!, Epoch).Value.Number);
        Assert.Equal(2, state.Serialize()[0]);
    }

    private sealed class ListSink(List<string> into) : IWindowResultSink
    {
        public void Emit(WindowResult result) => into.Add(Show(result));
    }
}
