using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;
using EdgeProfile.Cli.Commands;
using EdgeProfile.Cli.Hosting;
using EdgeProfile.Cli.HubApi;
using EdgeProfile.Cli.Mqtt;
using EdgeProfile.Cli.Output;
using EdgeProfile.Edge;
using EdgeProfile.Hosting;
using EdgeProfile.Hub;
using EdgeProfile.Hub.Ui;
using EdgeProfile.Training.Recommending;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Spectre.Console;

namespace EdgeProfile.Cli.Demo;

/// <summary>
/// <c>edgeprofile demo</c>: a hub and four edges in this process, enrolled through the hub's REST API, fed by the
/// seeded <see cref="DemoEventGenerator"/> over MQTT, then a summary of what each part holds and where to look.
/// </summary>
public sealed class DemoRunner : IAsyncDisposable
{
    private const string MarkerFile = ".edgeprofile-demo";
    private const int DevicesPerSite = 1;
    private const int InFlightPerDevice = 512;

    private readonly DemoSettings _settings;
    private readonly IAnsiConsole _console;
    private readonly List<RunningEdge> _edges = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private const string DemoAdmin = "admin";

    private WebApplication? _hub;
    private string? _uiPassword;
    private DemoLogFile? _log;
    private string _dataDir = "";
    private bool _stopping;

    /// <summary>Creates the runner; nothing starts before <see cref="RunAsync"/>.</summary>
    public DemoRunner(DemoSettings settings, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(console);
        _settings = settings;
        _console = console;
    }

    /// <summary>Runs the demo; returns the exit code (0, or 130 when interrupted before the summary).</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var summarized = false;
        try
        {
            var sites = DemoSite.CreateDefaults(_settings.Stores);
            PrepareDataDirectory();
            var (hubUrl, token) = await StartHubAsync(cancellationToken).ConfigureAwait(false);
            using var hub = new HubRestClient(hubUrl, token);
            await StartEdgesAsync(sites, hub, cancellationToken).ConfigureAwait(false);
            Info($"Hub and {_edges.Count} edges up after {clock.Elapsed.TotalSeconds:0.0} s; generating {_settings.Events:N0} events for {_settings.Customers:N0} customers (seed {_settings.Seed})");

            var generator = new DemoEventGenerator(new DemoGeneratorOptions
            {
                Seed = _settings.Seed,
                Customers = _settings.Customers,
                Events = _settings.Events,
                Sites = sites,
                Now = DateTimeOffset.UtcNow,
            });
            var published = await PublishAsync(generator, cancellationToken).ConfigureAwait(false);
            var publishSeconds = clock.Elapsed.TotalSeconds;
            var counters = await WaitForUploadAsync(hub, cancellationToken).ConfigureAwait(false);
            await WriteSummaryAsync(generator, published, counters, hub, token, cancellationToken).ConfigureAwait(false);
            summarized = true;
            Info($"Demo finished in {clock.Elapsed.TotalSeconds:0.0} s (publishing done at {publishSeconds:0.0} s).");

            if (_settings.KeepRunning)
            {
                _console.MarkupLine("[bold]The hub and edges keep running; press Ctrl-C to stop them.[/]");
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _console.WriteLine();
            _console.MarkupLine(summarized ? "Stopping the demo..." : "[yellow]Interrupted; stopping the demo...[/]");
            return summarized ? ExitCodes.Ok : ExitCodes.Interrupted;
        }
        finally
        {
            await StopAllAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAllAsync().ConfigureAwait(false);
        _http.Dispose();
        _log?.Dispose();
        _log = null;
    }

    private void PrepareDataDirectory()
    {
        var dir = Path.GetFullPath(_settings.DataDir);
        var marker = Path.Combine(dir, MarkerFile);
        if (Directory.Exists(dir) && !_settings.Resume)
        {
            if (Directory.EnumerateFileSystemEntries(dir).Any() && !File.Exists(marker))
            {
                throw new CliException($"--data-dir {dir} is not empty and was not created by the demo; refusing to wipe it (choose another directory)", ExitCodes.Usage);
            }

            Directory.Delete(dir, recursive: true);
        }

        Directory.CreateDirectory(dir);
        File.WriteAllText(marker, "Created by 'edgeprofile demo'. The next run wipes this directory unless it is given --resume.\n");
        _dataDir = dir;
        _log = new DemoLogFile(Path.Combine(dir, "demo.log"));
        Info(_settings.Resume ? $"Data in {dir} (resumed)" : $"Data in {dir} (fresh)");
    }

    private async Task<(Uri Url, string Token)> StartHubAsync(CancellationToken cancellationToken)
    {
        string[] args = ["--urls", $"http://127.0.0.1:{_settings.HubPort}", $"--Hub:DataDir={Path.Combine(_dataDir, "hub")}",
            $"--Hub:Ui:Url={(_settings.UiPort < 0 ? "" : $"http://127.0.0.1:{_settings.UiPort}")}"];
        _hub = HubApp.Build(args, b => Quiet(b, "hub"));
        var hub = _hub;
        await StartHostAsync("hub", () => StartupValidation.RunValidatedAsync(() => hub.StartAsync(cancellationToken)), "--hub-port").ConfigureAwait(false);
        var url = hub.BoundAddress();
        Info($"Hub listening on {url}");
        if (hub.UiAddress() is { } uiUrl)
        {
            Info($"Operator web UI on {uiUrl}");
        }

        _uiPassword = await EnsureUiAdminAsync(HubRestClient.ParseHubUrl(url.AbsoluteUri), hub.OperatorToken(), cancellationToken).ConfigureAwait(false);

        return (HubRestClient.ParseHubUrl(url.AbsoluteUri), hub.OperatorToken());
    }

    /// <summary>
    /// The UI's demo admin: created at the first run with a generated password, kept in the hub's data directory so a
    /// resumed run signs in the same way; null with the UI off.
    /// </summary>
    private async Task<string?> EnsureUiAdminAsync(Uri hubUrl, string token, CancellationToken cancellationToken)
    {
        var hub = _hub!;
        if (hub.UiAddress() is null)
        {
            return null;
        }

        var file = Path.Combine(hub.DataDirectory(), "ui-admin.password");
        if (File.Exists(file))
        {
            return (await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false)).Trim();
        }

        var password = Commands.UsersCommand.Generate();
        using var client = new HubRestClient(hubUrl, token);
        await client.CreateOperatorAsync(DemoAdmin, "admin", password, null, cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(file, password + "\n", cancellationToken).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return password;
    }

    private async Task StartEdgesAsync(IReadOnlyList<DemoSite> sites, HubRestClient hub, CancellationToken cancellationToken)
    {
        CheckPortRange(_settings.MqttBasePort, sites.Count, "--mqtt-base-port");
        CheckPortRange(_settings.HttpBasePort, sites.Count, "--http-base-port");
        var hubUrl = hub.BaseUrl.AbsoluteUri.TrimEnd('/');
        for (var i = 0; i < sites.Count; i++)
        {
            var site = sites[i];
            var dir = Path.Combine(_dataDir, "edges", site.StoreId);
            var mqttPort = _settings.MqttBasePort == 0 ? FreePort() : _settings.MqttBasePort + i;
            var httpPort = _settings.HttpBasePort == 0 ? 0 : _settings.HttpBasePort + i;
            var args = new List<string>
            {
                $"--Edge:StoreId={site.StoreId}",
                $"--Edge:DataDir={dir}",
                $"--Edge:Mqtt:Port={mqttPort}",
                "--Edge:Mqtt:Bind=127.0.0.1",
                $"--Edge:Http:Urls=http://127.0.0.1:{httpPort}",
                $"--Edge:HubUrl={hubUrl}",
            };

            // A resumed edge already holds its credential; a new one trades a one-time token for it.
            if (!File.Exists(Path.Combine(dir, "credential.json")))
            {
                var (enrollment, _) = await hub.CreateEnrollmentAsync(site.StoreId, site.Kind, cancellationToken).ConfigureAwait(false);
                args.Add($"--Edge:EnrollmentToken={enrollment.Token}");
            }

            _edges.Add(new RunningEdge(site, EdgeApp.Build([.. args], b => Quiet(b, site.StoreId)), mqttPort));
        }

        await Task.WhenAll(_edges.Select(e => StartHostAsync(
            e.Site.StoreId,
            () => StartupValidation.RunValidatedAsync(() => e.App.StartAsync(cancellationToken)),
            "--mqtt-base-port / --http-base-port"))).ConfigureAwait(false);
        foreach (var e in _edges)
        {
            e.Api = e.App.ApiAddress();
            Info($"Edge {e.Site.StoreId} ({e.Site.Kind}): MQTT mqtt://127.0.0.1:{e.MqttPort}, API {e.Api}");
        }
    }

    private async Task<Dictionary<string, SiteCounts>> PublishAsync(DemoEventGenerator generator, CancellationToken cancellationToken)
    {
        // The generator is deterministic: a first pass gives each site's total for the progress bars.
        var counts = _edges.ToDictionary(e => e.Site.StoreId, _ => new SiteCounts(), StringComparer.Ordinal);
        foreach (var e in generator.Generate())
        {
            counts[e.StoreId].Add(e.Kind);
        }

        var publishers = new Dictionary<string, MqttEventPublisher[]>(StringComparer.Ordinal);
        var files = new Dictionary<string, FileStream>(StringComparer.Ordinal);
        Directory.CreateDirectory(Path.Combine(_dataDir, "events"));
        try
        {
            foreach (var edge in _edges)
            {
                var broker = new BrokerAddress("127.0.0.1", edge.MqttPort, false, null, null);
                var devices = new MqttEventPublisher[DevicesPerSite];
                publishers[edge.Site.StoreId] = devices;
                for (var d = 0; d < devices.Length; d++)
                {
                    // Explicit client ids: MQTT 3.1.1 brokers may refuse empty ones.
                    var clientId = $"demo-{edge.Site.StoreId}-{edge.Site.Channels[d % edge.Site.Channels.Count]}-{d + 1}";
                    devices[d] = await MqttEventPublisher.ConnectAsync(broker, clientId, qos: 1, InFlightPerDevice, cancellationToken).ConfigureAwait(false);
                }

                files[edge.Site.StoreId] = new FileStream(Path.Combine(_dataDir, "events", edge.Site.StoreId + ".jsonl"), FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
            }

            await ProgressDisplay.RunAsync<bool>(async ctx =>
            {
                var tasks = ctx is null
                    ? null
                    : _edges.ToDictionary(e => e.Site.StoreId, e => ctx.AddTask(Label(e.Site.StoreId, 0, counts[e.Site.StoreId].Total), maxValue: Math.Max(1, counts[e.Site.StoreId].Total)), StringComparer.Ordinal);
                using var stop = new CancellationTokenSource();
                var updater = tasks is null ? Task.CompletedTask : UpdateProgressAsync(tasks, publishers, counts, stop.Token);
                try
                {
                    await PumpAsync(generator, publishers, files, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    await stop.CancelAsync().ConfigureAwait(false);
                    await updater.ConfigureAwait(false);
                    if (tasks is not null)
                    {
                        foreach (var (store, task) in tasks)
                        {
                            var acked = publishers[store].Sum(p => p.Acked);
                            task.Value = acked;
                            task.Description = Label(store, acked, counts[store].Total);
                            task.StopTask();
                        }
                    }
                }

                return true;
            }).ConfigureAwait(false);
        }
        finally
        {
            // A connect that failed or was interrupted leaves null slots.
            foreach (var p in publishers.Values.SelectMany(p => p).Where(p => p is not null))
            {
                await p.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var f in files.Values)
            {
                await f.DisposeAsync().ConfigureAwait(false);
            }
        }

        foreach (var (store, devices) in publishers)
        {
            counts[store].Acked = devices.Sum(p => p.Acked);
        }

        var total = counts.Values.Sum(c => c.Acked);
        Info($"Published {total:N0} messages over MQTT (QoS 1, {(DevicesPerSite == 1 ? "one connection" : $"{DevicesPerSite} connections")} per edge); each was acknowledged only once durable in its edge's log");
        return counts;
    }

    private static async Task PumpAsync(
        DemoEventGenerator generator, Dictionary<string, MqttEventPublisher[]> publishers, Dictionary<string, FileStream> files, CancellationToken cancellationToken)
    {
        // One queue and one pump per device connection, so that a device waiting for acknowledgements never holds up
        // the others (nor the other edges).
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var queues = publishers.ToDictionary(
            p => p.Key,
            p => p.Value.Select(_ => Channel.CreateBounded<DemoEvent>(new BoundedChannelOptions(4096) { SingleReader = true, SingleWriter = true })).ToArray(),
            StringComparer.Ordinal);
        var pumps = queues.SelectMany(q => q.Value.Select((queue, i) => PumpDeviceAsync(queue.Reader, publishers[q.Key][i], failed))).ToList();
        var newline = "\n"u8.ToArray();
        try
        {
            foreach (var e in generator.Generate())
            {
                var devices = queues[e.StoreId];
                // A customer's events always go through the same device connection, so they stay in order.
                var queue = devices[(e.CustomerIndex < 0 ? 0 : e.CustomerIndex) % devices.Length];
                await queue.Writer.WriteAsync(e, failed.Token).ConfigureAwait(false);
                var file = files[e.StoreId];
                file.Write(e.Payload);
                file.Write(newline);
            }
        }
        catch (OperationCanceledException) when (failed.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // A pump failed; its exception is rethrown below.
        }
        finally
        {
            foreach (var queue in queues.Values.SelectMany(q => q))
            {
                queue.Writer.TryComplete();
            }
        }

        await Task.WhenAll(pumps).ConfigureAwait(false);
    }

    private static async Task PumpDeviceAsync(ChannelReader<DemoEvent> queue, MqttEventPublisher publisher, CancellationTokenSource failed)
    {
        try
        {
            await foreach (var e in queue.ReadAllAsync(failed.Token).ConfigureAwait(false))
            {
                await publisher.PublishAsync(e.Topic, e.Payload, failed.Token).ConfigureAwait(false);
            }

            await publisher.FlushAsync(failed.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await failed.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task UpdateProgressAsync(Dictionary<string, ProgressTask> tasks, Dictionary<string, MqttEventPublisher[]> publishers, Dictionary<string, SiteCounts> counts, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            foreach (var (store, task) in tasks)
            {
                var acked = publishers[store].Sum(p => p.Acked);
                task.Value = acked;
                task.Description = Label(store, acked, counts[store].Total);
            }

            try
            {
                await Task.Delay(100, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static string Label(string store, long acked, long total) =>
        Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{store,-10} {acked,7:N0}/{total:N0} acked"));

    private async Task<Dictionary<string, EdgeCounters>> WaitForUploadAsync(HubRestClient hub, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + _settings.DrainTimeout;
        Dictionary<string, EdgeCounters> counters = [];
        string status = "";
        async Task<bool> PollAsync()
        {
            counters = new Dictionary<string, EdgeCounters>(StringComparer.Ordinal);
            foreach (var e in _edges)
            {
                counters[e.Site.StoreId] = await ReadCountersAsync(e, cancellationToken).ConfigureAwait(false);
            }

            var (stores, _) = await hub.GetStoresAsync(cancellationToken).ConfigureAwait(false);
            var known = stores.Where(s => s.LastSeen is not null).Select(s => s.StoreId).ToHashSet(StringComparer.Ordinal);
            var backlog = string.Join(", ", counters.Where(c => c.Value.Backlog > 0).Select(c => $"{c.Key} {c.Value.Backlog:N0}"));
            var missing = _edges.Where(e => !known.Contains(e.Site.StoreId)).Select(e => e.Site.StoreId).ToList();
            status = backlog.Length > 0 ? $"outbox backlog: {backlog}" : missing.Count > 0 ? $"hub has not heard from {string.Join(", ", missing)} yet" : "done";
            return backlog.Length == 0 && missing.Count == 0;
        }

        async Task WaitAsync(Action<string> show)
        {
            while (!await PollAsync().ConfigureAwait(false))
            {
                show(status);
                if (DateTime.UtcNow > deadline)
                {
                    throw new CliException($"the edges did not finish uploading to the hub within {_settings.DrainTimeout.TotalSeconds:0} s ({status}); see {_log?.Path}");
                }

                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }

        var clock = Stopwatch.StartNew();
        if (ProgressDisplay.Enabled)
        {
            await _console.Status().StartAsync("Waiting for the edges to upload their profile deltas to the hub...",
                ctx => WaitAsync(s => ctx.Status(Markup.Escape("Waiting for the edges to upload to the hub: " + s)))).ConfigureAwait(false);
        }
        else
        {
            await WaitAsync(_ => { }).ConfigureAwait(false);
        }

        Info($"Every edge's outbox is drained and the hub has all {_edges.Count} edges ({clock.Elapsed.TotalSeconds:0.0} s after the last acknowledgement)");
        return counters;
    }

    private async Task<EdgeCounters> ReadCountersAsync(RunningEdge edge, CancellationToken cancellationToken)
    {
        var url = new Uri(edge.Api!, "/api/stats");
        try
        {
            await using var stream = await _http.GetStreamAsync(url, cancellationToken).ConfigureAwait(false);
            using var doc = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            var root = doc.RootElement;
            return new EdgeCounters(
                root.GetProperty("eventsStored").GetInt64(),
                root.GetProperty("duplicatesIgnored").GetInt64(),
                root.GetProperty("deadLettered").GetInt64(),
                root.TryGetProperty("lateEvents", out var late) ? late.GetInt64() : 0,
                root.GetProperty("outbox").GetProperty("backlog").GetInt64());
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException
                                   || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new CliException($"cannot read {url}: {ex.Message}", ex);
        }
    }

    private async Task WriteSummaryAsync(
        DemoEventGenerator generator, Dictionary<string, SiteCounts> published, Dictionary<string, EdgeCounters> counters,
        HubRestClient hub, string token, CancellationToken cancellationToken)
    {
        _console.WriteLine();
        _console.Write(new Rule("[bold]Edges[/]").LeftJustified());
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("Edge").AddColumn("Kind").AddColumn("Channels")
            .AddColumn(new TableColumn("Sent").RightAligned())
            .AddColumn(new TableColumn("Stored").RightAligned())
            .AddColumn(new TableColumn("Dupes").RightAligned())
            .AddColumn(new TableColumn("Dead").RightAligned())
            .AddColumn(new TableColumn("Late").RightAligned());
        var resumed = _settings.Resume;
        foreach (var e in _edges)
        {
            var p = published[e.Site.StoreId];
            var c = counters[e.Site.StoreId];
            // On a fresh run the edge's counters must match what was sent; a resumed run adds to earlier counts.
            var ok = resumed || (c.Stored == p.Valid && c.Duplicates == p.Duplicates && c.DeadLettered == p.Malformed);
            table.AddRow(
                Markup.Escape(e.Site.StoreId),
                Markup.Escape(e.Site.Kind),
                Markup.Escape(string.Join(",", e.Site.Channels)),
                N(p.Acked),
                (ok ? "" : "[yellow]") + N(c.Stored) + (ok ? "" : "[/]"),
                N(c.Duplicates),
                N(c.DeadLettered),
                N(c.Late));
        }

        _console.Write(table);
        _console.MarkupLine(Markup.Escape(resumed
            ? "Resumed run: counters include earlier runs; re-published events with the same eventId count as duplicates (stored once)."
            : $"Sent = {N(published.Values.Sum(p => p.Valid))} valid events + {N(published.Values.Sum(p => p.Duplicates))} device retries (same eventId: stored once, counted as dupes) + {N(published.Values.Sum(p => p.Malformed))} malformed messages (dead letters, each with a reason). Late = delivered after newer events of the store (still applied). Every outbox is drained into the hub."));

        _console.WriteLine();
        _console.Write(new Rule("[bold]Global profiles at the hub[/] (customers seen in several stores/channels)").LeftJustified());
        // Customers whose identifiers meet across edges: a loyalty card used in several stores and linked to the app.
        var candidates = generator.Customers
            .Where(c => c.LoyaltyId is not null && c.Sites.Count >= 2)
            .OrderByDescending(c => c.AppLinkedToLoyalty && c.Sites.Count > 2)
            .ThenByDescending(c => c.Sites.Count)
            .ThenByDescending(c => c.Channels.Count)
            .ThenByDescending(c => c.Events)
            .ThenBy(c => c.Index)
            .Take(20)
            .ToList();
        var shown = 0;
        string? exampleKey = null;
        foreach (var c in candidates)
        {
            // Any key of a customer finds the same profile: the second is looked up by app account, the third by raw
            // email, which the hub pseudonymises with the organisation's key just as the edges did.
            var key = shown switch
            {
                1 when c.AppLinkedToLoyalty && c.AppUserId is not null => "app:" + c.AppUserId,
                2 when c.Email is not null => "email:" + c.Email,
                _ => "loyalty:" + c.LoyaltyId,
            };
            var found = await hub.GetProfileAsync(key, cancellationToken).ConfigureAwait(false);
            if (found is null)
            {
                continue;
            }

            exampleKey ??= key;
            _console.WriteLine();
            ProfileRenderer.Write(_console, found.Value.Profile, key);
            if (++shown == 3)
            {
                break;
            }
        }

        if (shown == 0)
        {
            _console.MarkupLine("[yellow]No multi-store customer found at the hub (try more --events).[/]");
        }

        await ShowRecommendationsAsync(hub, exampleKey, cancellationToken).ConfigureAwait(false);

        var hubUrl = hub.BaseUrl.AbsoluteUri.TrimEnd('/');
        var tokenFile = Path.Combine(_hub!.DataDirectory(), HubOptions.OperatorTokenFileName);
        var first = _edges[0];
        var key0 = exampleKey ?? "loyalty:L-100000";
        var lines = new List<string>
        {
            $"[bold]Hub[/]             {Markup.Escape(hubUrl)} (REST + gRPC)",
            $"[bold]Operator token[/]  {Markup.Escape(token)}",
            $"                (in {Markup.Escape(tokenFile)})",
        };
        if (_hub!.UiAddress() is { } ui && _uiPassword is not null)
        {
            lines.Insert(1, $"[bold]Operator UI[/]     {Markup.Escape(ui.AbsoluteUri)} — {DemoAdmin} / {Markup.Escape(_uiPassword)}");
            lines.Insert(2, Markup.Escape($"                (sign in with a browser; more accounts: edgeprofile users add NAME --role viewer --hub {hubUrl} --token-file {tokenFile})"));
        }

        foreach (var e in _edges)
        {
            lines.Add(Markup.Escape($"Edge {e.Site.StoreId,-10} API {e.Api!.AbsoluteUri.TrimEnd('/'),-22} MQTT mqtt://127.0.0.1:{e.MqttPort}"));
        }

        lines.Add("");
        lines.Add(Markup.Escape($"Events go to ep/v1/{{storeId}}/events (JSON, QoS 1). Data, demo.log and the events sent (events/*.jsonl) are in {_dataDir}"));
        lines.Add("");
        lines.Add("[bold]Try[/]" + (_settings.KeepRunning ? "" : " [grey](with --keep-running, while the demo is up)[/]"));
        lines.Add(Markup.Escape($"  curl -s {first.Api!.AbsoluteUri.TrimEnd('/')}/api/stats"));
        lines.Add(Markup.Escape($"  curl -s '{first.Api!.AbsoluteUri.TrimEnd('/')}/api/deadletters?limit=5'"));
        lines.Add(Markup.Escape($"  curl -s {first.Api!.AbsoluteUri.TrimEnd('/')}/api/profiles/{key0}"));
        lines.Add(Markup.Escape($"  curl -s -H 'Authorization: Bearer {token}' {hubUrl}/api/stores"));
        lines.Add(Markup.Escape($"  curl -s -H 'Authorization: Bearer {token}' {hubUrl}/api/profiles/{key0}"));
        lines.Add(Markup.Escape($"  edgeprofile profiles get {key0} --hub {hubUrl} --token-file {tokenFile}"));
        lines.Add(Markup.Escape($"  edgeprofile stores list --hub {hubUrl} --token-file {tokenFile}"));
        lines.Add(Markup.Escape($"  curl -s '{first.Api!.AbsoluteUri.TrimEnd('/')}/api/profiles/{key0}/recommendations?k=5&lang=zh-CN'"));
        lines.Add(Markup.Escape($"  edgeprofile recommenders recommend {key0} --hub {hubUrl} --token-file {tokenFile}"));
        lines.Add(Markup.Escape($"  edgeprofile replay {Path.Combine(_dataDir, "events", first.Site.StoreId + ".jsonl")} --broker mqtt://127.0.0.1:{first.MqttPort} --store {first.Site.StoreId}"));
        _console.WriteLine();
        _console.Write(new Rule("[bold]Where to look[/]").LeftJustified());
        foreach (var line in lines)
        {
            _console.MarkupLine(line);
        }
    }

    private static readonly string[] RecommenderModels = ["sasrec", "item2vec", "popular"];

    /// <summary>
    /// Trains a recommender on the product sequences the stores uploaded (SASRec for a few seconds, item2vec, hashed text
    /// vectors of the names, plus one new product known by name only), publishes it, waits for the stores to load it,
    /// and shows one customer's recommendations from the hub with their reasons.
    /// </summary>
    private async Task ShowRecommendationsAsync(HubRestClient hub, string? key, CancellationToken cancellationToken)
    {
        _console.WriteLine();
        _console.Write(new Rule("[bold]Recommendations[/] (SASRec + item2vec + text, trained on the uploaded product sequences)").LeftJustified());
        var watch = Stopwatch.StartNew();
        using var doc = JsonDocument.Parse(await hub.RecommendationSequencesAsync(cancellationToken).ConfigureAwait(false));
        var sequences = doc.RootElement.GetProperty("sequences").EnumerateArray()
            .Select(s => (IReadOnlyList<string>)[.. s.EnumerateArray().Select(x => x.GetString()!)]).ToList();
        var products = DemoCatalog.Products.ToDictionary(p => p.Sku, p => (string?)p.Name, StringComparer.Ordinal);
        products["SKU-BB-1099"] = "Stroller Rain Cover"; // a new arrival: no interactions yet
        var bundle = await Task.Run(() => RecommenderBuilder.Build(
            new RecommenderTrainingData(sequences, products, "the demo's uploaded sequences"),
            new RecommenderBuildOptions
            {
                Version = "demo-1",
                SasRec = new RecommenderBuildOptions { Version = "demo-1" }.SasRec with { MaxEpochs = 20, TimeLimit = TimeSpan.FromSeconds(15), MaxLength = 20, Dimensions = 32, Seed = _settings.Seed },
                Item2Vec = new EdgeProfile.Semantic.Item2Vec.Item2VecOptions { Seed = _settings.Seed, Epochs = 10 },
                EvaluationUsers = 2000,
            },
            new EdgeProfile.Semantic.Text.HashedTextEmbedder(),
            line => _log?.Write("demo", "info", "recommender", line, null)), cancellationToken).ConfigureAwait(false);
        await hub.RegisterRecommenderAsync(bundle.ToBytes(), "trained by the demo", publish: true, cancellationToken).ConfigureAwait(false);
        var metrics = string.Join(", ", RecommenderModels
            .Where(m => bundle.Metrics.ContainsKey($"{m}.hr10"))
            .Select(m => string.Create(CultureInfo.InvariantCulture, $"{m} HR@10 {bundle.Metrics[$"{m}.hr10"]:F3}")));
        Info($"Recommender demo-1 trained on {sequences.Count:N0} sequences and published in {watch.Elapsed.TotalSeconds:0.0} s ({metrics}; leave-one-out, {bundle.Metrics.GetValueOrDefault("evaluation.negatives"):0} negatives)");

        // Every store loads it from the hub's push.
        var loaded = 0;
        var deadline = DateTimeOffset.UtcNow.AddSeconds(20);
        while (DateTimeOffset.UtcNow < deadline)
        {
            loaded = 0;
            foreach (var e in _edges)
            {
                try
                {
                    using var r = JsonDocument.Parse(await _http.GetStringAsync(new Uri(e.Api!, "api/recommenders"), cancellationToken).ConfigureAwait(false));
                    loaded += r.RootElement.TryGetProperty("version", out var v) && v.GetString() == "demo-1" ? 1 : 0;
                }
                catch (HttpRequestException)
                {
                    // not up yet
                }
            }

            if (loaded == _edges.Count)
            {
                break;
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }

        Info($"{loaded} of {_edges.Count} stores serve demo-1");
        if (key is null || await hub.RecommendationsAsync(key, 5, "en", cancellationToken).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        using var recs = JsonDocument.Parse(body);
        var history = recs.RootElement.GetProperty("history").EnumerateArray()
            .Select(h => $"{h.GetProperty("name").GetString() ?? h.GetProperty("sku").GetString()} ({h.GetProperty("store").GetString()})").ToList();
        _console.MarkupLine(Markup.Escape($"{key}: recently {string.Join(" → ", history.TakeLast(5))}"));
        var table = new Table().Border(TableBorder.Rounded).AddColumn("#").AddColumn("Product").AddColumn("From").AddColumn("Why");
        foreach (var r in recs.RootElement.GetProperty("recommendations").EnumerateArray())
        {
            table.AddRow(
                r.GetProperty("rank").GetInt32().ToString(CultureInfo.InvariantCulture),
                Markup.Escape($"{r.GetProperty("name").GetString()} ({r.GetProperty("sku").GetString()})"),
                Markup.Escape(r.GetProperty("source").GetString() ?? ""),
                Markup.Escape(r.GetProperty("reason").GetString() ?? ""));
        }

        _console.Write(table);
    }

    private async Task StopAllAsync()
    {
        if (_edges.Count == 0 && _hub is null)
        {
            return;
        }

        Volatile.Write(ref _stopping, true);
        // Edges first (they drain their logs and may still upload), then the hub.
        var edges = _edges.ToList();
        _edges.Clear();
        await Task.WhenAll(edges.Select(e => StopHostAsync(e.Site.StoreId, e.App))).ConfigureAwait(false);
        if (_hub is { } hub)
        {
            _hub = null;
            await StopHostAsync("hub", hub).ConfigureAwait(false);
        }

        _log?.Dispose();
        _log = null;
    }

    private async Task StopHostAsync(string name, WebApplication app)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or AggregateException or IOException)
        {
            await CommandRunner.Fail($"{name} did not stop cleanly: {ex.Message}").ConfigureAwait(false);
        }
        finally
        {
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task StartHostAsync(string name, Func<Task> start, string portOption)
    {
        try
        {
            await start().ConfigureAwait(false);
        }
        catch (Exception ex) when (ServiceRunner.Describe(ex) is { } reason)
        {
            var hint = reason.Contains("use", StringComparison.OrdinalIgnoreCase) && reason.Contains("port", StringComparison.OrdinalIgnoreCase)
                       || reason.Contains("address already in use", StringComparison.OrdinalIgnoreCase)
                ? $" (is another demo or broker running? choose other ports with {portOption})"
                : "";
            throw new CliException($"{name} did not start: {reason}{hint}", ExitCodes.Usage);
        }
    }

    private void Quiet(WebApplicationBuilder builder, string host)
    {
        // The progress display owns the terminal: hosts log warnings and errors to stderr, everything else to demo.log.
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        // While stopping, the console stays quiet: cancelled uploads and publishes are expected then (demo.log has them).
        builder.Logging.AddFilter<ConsoleLoggerProvider>((category, level) => level >= LogLevel.Warning && !Volatile.Read(ref _stopping) && category switch
        {
            // A failed start is reported as one line naming the problem; the host's stack trace would repeat it.
            "Microsoft.Extensions.Hosting.Internal.Host" => level >= LogLevel.Critical,
            // The summary shows the operator token; its "generated" warning would only repeat it mid-progress.
            "EdgeProfile.Hub.Hosting.HubInitializer" => level >= LogLevel.Error,
            _ => true,
        });
        if (_log is not null)
        {
            builder.Services.AddSingleton<ILoggerProvider>(new DemoFileLoggerProvider(_log, host));
        }

        builder.Services.AddSingleton<IHostLifetime, NoopHostLifetime>();
    }

    private void Info(string message)
    {
        _console.MarkupLine("[grey]" + Markup.Escape(message) + "[/]");
        _log?.Write("demo", "info", "EdgeProfile.Cli.Demo", message, null);
    }

    private static void CheckPortRange(int basePort, int count, string option)
    {
        if (basePort != 0 && (basePort < 1 || basePort + count - 1 > 65535))
        {
            throw new CliException($"{option} {basePort} leaves no room for {count} consecutive ports (1-65535, or 0 for any free ports)", ExitCodes.Usage);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private sealed class RunningEdge(DemoSite site, WebApplication app, int mqttPort)
    {
        public DemoSite Site { get; } = site;

        public WebApplication App { get; } = app;

        public int MqttPort { get; } = mqttPort;

        public Uri? Api { get; set; }
    }

    private sealed class SiteCounts
    {
        public long Valid { get; private set; }

        public long Duplicates { get; private set; }

        public long Malformed { get; private set; }

        public long Total => Valid + Duplicates + Malformed;

        public long Acked { get; set; }

        public void Add(DemoEventKind kind)
        {
            switch (kind)
            {
                case DemoEventKind.Valid:
                    Valid++;
                    break;
                case DemoEventKind.Duplicate:
                    Duplicates++;
                    break;
                default:
                    Malformed++;
                    break;
            }
        }
    }
}
