using System.Diagnostics;
using EdgeProfile.Contracts.V1;
using Grpc.Core;
using Xunit.Abstractions;

namespace EdgeProfile.Hub.Tests;

public sealed class UplinkTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Cursor_of_a_new_store_is_zero()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        Assert.Equal(0, await store.CursorAsync());
    }

    [Fact]
    public async Task Same_batch_twice_is_applied_once()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        var batch = Deltas.Range(1, 3);

        var first = await store.UploadAsync(batch);
        var second = await store.UploadAsync(batch);

        Assert.Equal((3L, 3), (first.AckedThrough, first.Applied));
        Assert.Equal((3L, 0), (second.AckedThrough, second.Applied));
        Assert.Equal(3, await store.CursorAsync());
        var profile = await hub.ProfileAsync("loyalty:L-2");
        var entry = Assert.Single(profile.Stores);
        Assert.Equal(2, entry.UpdatedSequence);
        Assert.Equal(1, profile.Global.Visits7d);
    }

    [Fact]
    public async Task Concurrent_duplicate_uploads_apply_each_delta_once()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        var batch = Deltas.Range(1, 200);

        var acks = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => store.UploadAsync(batch)));

        Assert.Equal(200, acks.Sum(a => a.Applied));
        Assert.All(acks, a => Assert.Equal(200, a.AckedThrough));
    }

    [Fact]
    public async Task Overlapping_batch_applies_only_the_new_part()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Range(1, 3));

        // Sequences 2..3 are already applied; a different payload under those numbers must not win.
        var overlap = Deltas.Range(2, 5);
        overlap[0].Visits7D = 99;
        var ack = await store.UploadAsync(overlap);

        Assert.Equal((5L, 2), (ack.AckedThrough, ack.Applied));
        Assert.Equal(1, (await hub.ProfileAsync("loyalty:L-2")).Global.Visits7d);
        Assert.Single((await hub.ProfileAsync("loyalty:L-5")).Stores);
    }

    [Fact]
    public async Task Batch_past_the_cursor_is_refused_with_the_expected_sequence()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Range(1, 2));

        var ex = await Assert.ThrowsAsync<RpcException>(() => store.UploadAsync(Deltas.Range(5, 6)));

        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Contains("gap: expected sequence 3", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(2, await store.CursorAsync());
        await Assert.ThrowsAsync<HttpRequestException>(() => hub.ProfileAsync("loyalty:L-5"));
    }

    [Fact]
    public async Task First_batch_must_start_at_sequence_one()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        var ex = await Assert.ThrowsAsync<RpcException>(() => store.UploadAsync(Deltas.Range(2, 3)));
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Contains("expected sequence 1", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new long[] { 1, 3 })]
    [InlineData(new long[] { 2, 1 })]
    [InlineData(new long[] { 1, 1 })]
    [InlineData(new long[] { 0 })]
    public async Task Non_contiguous_sequences_are_invalid(long[] sequences)
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            store.UploadAsync(sequences.Select(s => Deltas.Of(s, $"loyalty:L-{s}")).ToArray()));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal(0, await store.CursorAsync());
    }

    [Theory]
    [InlineData("email:a@b.cn")]
    [InlineData("ep:0123456789abcdef")]
    [InlineData("nickname:bob")]
    [InlineData("loyalty:")]
    public async Task Delta_with_a_raw_or_untyped_key_is_invalid_and_nothing_is_applied(string key)
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            store.UploadAsync(Deltas.Of(1, "loyalty:L-1"), Deltas.Of(2, "loyalty:L-2", "loyalty:L-2", key)));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("delta 1 (sequence 2)", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, await store.CursorAsync());
    }

    [Fact]
    public async Task Upload_updates_the_fleet_view()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        var batch = new DeltaBatch { Backlog = 42, OldestBacklogAgeMs = 1500, ModelVersion = "m-3" };
        batch.Deltas.AddRange(Deltas.Range(1, 2));
        await store.Uplink.UploadAsync(batch, store.Headers);

        var summary = Assert.Single(await hub.StoresAsync());
        Assert.Equal("store-001", summary.StoreId);
        Assert.Equal(2, summary.AckedThrough);
        Assert.Equal(42, summary.Backlog);
        Assert.Equal(1500, summary.OldestBacklogAgeMs);
        Assert.Equal("m-3", summary.ModelVersion);
        Assert.NotNull(summary.LastSeen);
        Assert.False(summary.Revoked);
    }

    [Fact]
    public async Task Thousands_of_deltas_in_batches_of_a_thousand_are_applied()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        const int batches = 10, size = 1000;
        var all = Deltas.Range(1, batches * size, "app:u-");

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < batches; i++)
        {
            var ack = await store.UploadAsync(all[(i * size)..((i + 1) * size)]);
            Assert.Equal((i + 1) * size, ack.AckedThrough);
        }

        watch.Stop();
        output.WriteLine($"{batches * size} deltas in {watch.ElapsedMilliseconds} ms = {batches * size / watch.Elapsed.TotalSeconds:F0} deltas/s");
        Assert.Equal(batches * size, await store.CursorAsync());
        Assert.Single((await hub.ProfileAsync("app:u-9999")).Stores);
    }
}
