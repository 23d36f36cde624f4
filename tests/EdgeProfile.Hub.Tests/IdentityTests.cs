using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using EdgeProfile.Hub.Api;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Tests;

/// <summary>Identity resolution under rules, through real uploads over gRPC and the operator's REST API.</summary>
public sealed class IdentityTests
{
    [Fact]
    public async Task Fifty_customers_on_one_blocked_store_tablet_stay_fifty_profiles()
    {
        var log = new CapturedLog();
        await using var hub = await TestHub.StartAsync(args: ["--Hub:Identity:BlockedKeys:0=device:store2-tablet"], configure: log.Attach);
        var store = await hub.EnrollAsync("store-002");
        await store.UploadAsync(Enumerable.Range(1, 50)
            .Select(i => Deltas.Of(i, $"loyalty:L-{i}", $"loyalty:L-{i}", "device:store2-tablet"))
            .ToArray());
        // A built-in blocked value, without any configuration.
        await store.UploadAsync(Deltas.Of(51, "loyalty:L-1", "loyalty:L-1", "device:000000"), Deltas.Of(52, "loyalty:L-2", "loyalty:L-2", "device:000000"));

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 1; i <= 50; i++)
        {
            var profile = await hub.ProfileAsync($"loyalty:L-{i}");
            Assert.Equal([$"loyalty:L-{i}"], profile.Identifiers);
            ids.Add(profile.ProfileId);
        }

        Assert.Equal(50, ids.Count);
        using (var tablet = await hub.Http.GetAsync("/api/profiles/device:store2-tablet"))
        {
            Assert.Equal(HttpStatusCode.NotFound, tablet.StatusCode);
        }

        var history = await HistoryAsync(hub, "loyalty:L-7");
        var link = Assert.Single(history.Links);
        Assert.Equal(("loyalty:L-7", "device:store2-tablet", "blocked", "store-002"), (link.From, link.To, link.Status, link.Store));
        Assert.Contains("blocked identifier device:store2-tablet", link.Reason, StringComparison.Ordinal);
        Assert.Empty(history.Audit);
        Assert.Contains(log.Lines, l => l.Contains("device:000000", StringComparison.Ordinal) && l.Contains("blocked value", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_link_over_a_limit_is_logged_and_not_merged_and_the_stronger_identifier_wins()
    {
        var log = new CapturedLog();
        await using var hub = await TestHub.StartAsync(configure: log.Attach);
        var store = await hub.EnrollAsync("store-001");
        using (var define = await hub.Http.PutAsJsonAsync("/api/segments/seen", new { expression = "visits_30d >= 1" }))
        {
            Assert.True(define.IsSuccessStatusCode);
        }

        await store.UploadAsync(Deltas.Of(1, "loyalty:L-1", "loyalty:L-1", "app:u-1"));

        // Another loyalty member signs in on the same app account: one profile may hold one loyalty id.
        await store.UploadAsync(Deltas.Of(2, "loyalty:L-2", "loyalty:L-2", "app:u-1"));
        await store.UploadAsync(Deltas.Of(3, "loyalty:L-2", "loyalty:L-2", "app:u-1"));

        var first = await hub.ProfileAsync("loyalty:L-1");
        var second = await hub.ProfileAsync("loyalty:L-2");
        Assert.NotEqual(first.ProfileId, second.ProfileId);
        Assert.Equal(["app:u-1", "loyalty:L-1"], first.Identifiers);
        Assert.Equal(["loyalty:L-2"], second.Identifiers);
        Assert.Equal(first.ProfileId, (await hub.ProfileAsync("app:u-1")).ProfileId);
        // The profile made for the identifier kept out is evaluated like any other (the upload named it).
        Assert.Equal(2, (await hub.Http.GetFromJsonAsync<SegmentSummary>("/api/segments/seen"))!.Members);

        var history = await HistoryAsync(hub, "loyalty:L-2");
        var rejected = Assert.Single(history.Links, l => l.Status == "rejected");
        Assert.Equal(("loyalty:L-2", "app:u-1"), (rejected.From, rejected.To));
        Assert.Contains("at most 1", rejected.Reason, StringComparison.Ordinal);
        // Logged once, although the store sent the pair twice.
        Assert.Single(log.Lines, l => l.Contains("app:u-1 not linked to loyalty:L-2", StringComparison.Ordinal) && l.Contains("limit", StringComparison.Ordinal));
        var audit = Assert.Single(history.Audit);
        Assert.Equal(("reject", "store-001"), (audit.Action, audit.Actor));
    }

    [Fact]
    public async Task Unmerge_restores_two_profiles_that_later_uploads_do_not_merge_again()
    {
        await using var hub = await TestHub.StartAsync();
        var store1 = await hub.EnrollAsync("store-001");
        var store2 = await hub.EnrollAsync("store-002");
        await store1.UploadAsync(Deltas.Of(1, "loyalty:L-7"));
        await store2.UploadAsync(Deltas.Of(1, "app:u-7"));
        var loyaltyBefore = (await hub.ProfileAsync("loyalty:L-7")).ProfileId;
        var appBefore = (await hub.ProfileAsync("app:u-7")).ProfileId;

        // A clerk scans the wrong member code: the two customers merge.
        await store2.UploadAsync(Deltas.Of(2, "app:u-7", "app:u-7", "loyalty:L-7"));
        var merged = await hub.ProfileAsync("app:u-7");
        Assert.Equal(merged.ProfileId, (await hub.ProfileAsync("loyalty:L-7")).ProfileId);
        Assert.Equal(2, merged.Global.StoresSeen);

        using (var define = await hub.Http.PutAsJsonAsync("/api/segments/seen", new { expression = "visits_30d >= 1" }))
        {
            Assert.True(define.IsSuccessStatusCode);
        }

        Assert.Equal(1, (await hub.Http.GetFromJsonAsync<SegmentSummary>("/api/segments/seen"))!.Members);
        var merge = Assert.Single((await HistoryAsync(hub, "app:u-7")).Audit, a => a.Action == "merge");
        using var response = await hub.Http.PostAsync(new Uri($"/api/identity/merges/{merge.Seq}/unmerge", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<UnmergeResult>())!;
        Assert.Equal(merge.Seq, result.Merge);
        Assert.Equal("ep:" + merge.Other, result.Restored);

        var loyalty = await hub.ProfileAsync("loyalty:L-7");
        var app = await hub.ProfileAsync("app:u-7");
        Assert.NotEqual(loyalty.ProfileId, app.ProfileId);
        Assert.Contains(loyalty.ProfileId, new[] { loyaltyBefore, appBefore });
        Assert.Contains(app.ProfileId, new[] { loyaltyBefore, appBefore });
        Assert.Equal(["loyalty:L-7"], loyalty.Identifiers);
        Assert.Equal(["app:u-7"], app.Identifiers);
        Assert.Equal("store-001", Assert.Single(loyalty.Stores).StoreId);
        Assert.Equal("store-002", Assert.Single(app.Stores).StoreId);
        Assert.Equal(2, (await hub.Http.GetFromJsonAsync<SegmentSummary>("/api/segments/seen"))!.Members);

        // The store keeps sending its (wrong) view: the split holds, and says why.
        await store2.UploadAsync(Deltas.Of(3, "app:u-7", "app:u-7", "loyalty:L-7"));
        Assert.NotEqual((await hub.ProfileAsync("loyalty:L-7")).ProfileId, (await hub.ProfileAsync("app:u-7")).ProfileId);
        var history = await HistoryAsync(hub, "app:u-7");
        Assert.Contains(history.Links, l => (l.From, l.To, l.Status) == ("loyalty:L-7", "app:u-7", "rejected") && l.Reason!.Contains("operator split", StringComparison.Ordinal));
        Assert.Equal(result.Seq, Assert.Single(history.Audit, a => a.Action == "merge").UndoneBy);
        Assert.Contains(history.Audit, a => a.Action == "unmerge" && a.Actor == "operator");

        using var again = await hub.Http.PostAsync(new Uri($"/api/identity/merges/{merge.Seq}/unmerge", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("already undone", (await again.Content.ReadFromJsonAsync<ErrorResponse>())!.Error, StringComparison.Ordinal);
        using var missing = await hub.Http.PostAsync(new Uri("/api/identity/merges/9999/unmerge", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task A_profile_made_for_an_identifier_kept_out_is_in_the_segments_it_matches()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        using (var define = await hub.Http.PutAsJsonAsync("/api/segments/known", new { expression = "identifier_count >= 1" }))
        {
            Assert.True(define.IsSuccessStatusCode);
        }

        // Two loyalty ids in one upload: the second is kept out and gets a profile of its own.
        await store.UploadAsync(Deltas.Of(1, "loyalty:L-8", "loyalty:L-8", "loyalty:L-9"));
        Assert.NotEqual((await hub.ProfileAsync("loyalty:L-8")).ProfileId, (await hub.ProfileAsync("loyalty:L-9")).ProfileId);
        Assert.Equal(2, (await hub.Http.GetFromJsonAsync<SegmentSummary>("/api/segments/known"))!.Members);
    }

    [Fact]
    public async Task The_same_upload_twice_changes_nothing()
    {
        await using var hub = await TestHub.StartAsync();
        var store = await hub.EnrollAsync("store-001");
        await store.UploadAsync(Deltas.Of(1, "loyalty:L-3"), Deltas.Of(2, "app:u-3"));
        await store.UploadAsync(Deltas.Of(3, "loyalty:L-3", "loyalty:L-3", "app:u-3", "device:d-3"));
        var before = await HistoryAsync(hub, "loyalty:L-3");

        await store.UploadAsync(Deltas.Of(4, "loyalty:L-3", "loyalty:L-3", "app:u-3", "device:d-3"));
        var after = await HistoryAsync(hub, "loyalty:L-3");

        Assert.Equal(before.Profile, after.Profile);
        Assert.Equal(["app:u-3", "device:d-3", "loyalty:L-3"], after.Identifiers);
        Assert.Equal(before.Audit.Select(a => (a.Seq, a.Action, string.Join(' ', a.Keys))), after.Audit.Select(a => (a.Seq, a.Action, string.Join(' ', a.Keys))));
        Assert.Equal(before.Links.Select(l => (l.From, l.To, l.Status)), after.Links.Select(l => (l.From, l.To, l.Status)));
        Assert.Single(after.Audit, a => a.Action == "merge");
    }

    [Fact]
    public async Task Bad_identity_rules_fail_at_start_naming_the_key()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestHub.StartAsync(args: ["--Hub:Identity:Limits:loyalty=0", "--Hub:Identity:Priority:0=loyalty", "--Hub:Identity:Priority:1=loyalty"]));
        Assert.Contains("Hub:Identity:Limits:loyalty", error.Message, StringComparison.Ordinal);
        Assert.Contains("Hub:Identity:Priority:1", error.Message, StringComparison.Ordinal);
    }

    private static async Task<IdentityHistory> HistoryAsync(TestHub hub, string key) =>
        (await hub.Http.GetFromJsonAsync<IdentityHistory>("/api/identity/" + Uri.EscapeDataString(key)))!;

    /// <summary>The hub's warnings, kept for assertions.</summary>
    private sealed class CapturedLog : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyList<string> Lines => [.. _lines];

        public void Attach(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder) => builder.Logging.AddProvider(this);

        public ILogger CreateLogger(string categoryName) => new Logger(_lines);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    lines.Enqueue(formatter(state, exception) + (exception is null ? "" : " | " + exception));
                }
            }
        }
    }
}
