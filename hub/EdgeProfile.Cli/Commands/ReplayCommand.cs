using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeProfile.Cli.Mqtt;
using EdgeProfile.Cli.Output;
using Spectre.Console;

namespace EdgeProfile.Cli.Commands;

/// <summary><c>replay FILE</c>: publishes a JSONL file of v1 events to <c>ep/v1/{store}/events</c> at a given rate.</summary>
public static partial class ReplayCommand
{
    private static readonly JsonSerializerOptions ReplayJson = new(JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "JSONL file: one v1 JSON event per line (blank lines are skipped; lines are sent as they are)" };
        var broker = new Option<string>("--broker")
        {
            Description = "The edge's (or any) MQTT broker, e.g. mqtt://127.0.0.1:1883",
            HelpName = "URL",
            Required = true,
        };
        var store = new Option<string>("--store")
        {
            Description = "Store id of the topic ep/v1/{store}/events",
            HelpName = "ID",
            Required = true,
        };
        var rate = new Option<double>("--rate")
        {
            Description = "Events per second; 0 = as fast as the broker acknowledges, with many publishes in flight",
            HelpName = "N",
            DefaultValueFactory = _ => 0,
        };
        var qos = new Option<int>("--qos") { Description = "MQTT QoS: 1 waits for the edge to make each event durable, 0 fires and forgets", DefaultValueFactory = _ => 1 };
        qos.AcceptOnlyFromAmong("0", "1");
        var clientId = new Option<string?>("--client-id") { Description = "MQTT client id [default edgeprofile-replay-<random>]", HelpName = "ID" };
        var inFlight = new Option<int>("--max-in-flight") { Description = "Most QoS 1 publishes awaiting acknowledgement", HelpName = "N", DefaultValueFactory = _ => 512 };
        var json = new Option<bool>("--json") { Description = "Print the final counts as JSON" };

        var command = new Command("replay", "Publish a JSONL file of v1 events to a broker at a given rate, with progress") { file, broker, store, rate, qos, clientId, inFlight, json };
        command.SetGuardedAction(async (r, ct) =>
        {
            var path = r.GetValue(file)!;
            if (!path.Exists)
            {
                throw new CliException($"FILE {path.FullName} does not exist", ExitCodes.Usage);
            }

            var storeId = r.GetValue(store)!.Trim();
            if (!StoreIdPattern().IsMatch(storeId))
            {
                throw new CliException($"--store '{storeId}' must be 1-64 of A-Z a-z 0-9 . _ -", ExitCodes.Usage);
            }

            var perSecond = r.GetValue(rate);
            if (perSecond < 0 || double.IsNaN(perSecond) || double.IsInfinity(perSecond))
            {
                throw new CliException($"--rate {perSecond} must be 0 (unlimited) or a positive number", ExitCodes.Usage);
            }

            var maxInFlight = r.GetValue(inFlight);
            if (maxInFlight is < 1 or > 65_000)
            {
                throw new CliException("--max-in-flight must be between 1 and 65000", ExitCodes.Usage);
            }

            var address = BrokerAddress.Parse(r.GetValue(broker));
            var id = r.GetValue(clientId) is { Length: > 0 } given ? given : "edgeprofile-replay-" + Guid.NewGuid().ToString("N")[..12];
            var result = await ReplayAsync(path.FullName, address, storeId, perSecond, r.GetValue(qos), id, maxInFlight, ct).ConfigureAwait(false);

            if (r.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(result, ReplayJson));
            }
            else
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Replayed {result.File} to {result.Topic} on {result.Broker}: sent {result.Sent:N0}, acked {result.Acked:N0}{(result.Qos == 0 ? " (QoS 0: written, not confirmed)" : "")}, failed {result.Failed:N0} in {result.Seconds:0.00} s ({result.EventsPerSecond:N0} events/s)"));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<ReplayResult> ReplayAsync(string path, BrokerAddress address, string storeId, double rate, int qos, string clientId, int maxInFlight, CancellationToken ct)
    {
        var total = JsonLines.Count(path);
        var topic = $"ep/v1/{storeId}/events";
        await using var publisher = await MqttEventPublisher.ConnectAsync(address, clientId, qos, rate > 0 ? Math.Min(maxInFlight, 64) : maxInFlight, ct).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        await ProgressDisplay.RunAsync<bool>(async ctx =>
        {
            var task = ctx?.AddTask(Markup.Escape($"{Path.GetFileName(path)} → {topic}"), maxValue: Math.Max(1, total));
            using var refresh = new CancellationTokenSource();
            var updater = task is null ? Task.CompletedTask : UpdateAsync(task, publisher, total, refresh.Token);
            try
            {
                await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
                long i = 0;
                foreach (var line in JsonLines.Read(stream))
                {
                    if (rate > 0)
                    {
                        var due = TimeSpan.FromSeconds(i / rate) - clock.Elapsed;
                        if (due > TimeSpan.FromMilliseconds(1))
                        {
                            await Task.Delay(due, ct).ConfigureAwait(false);
                        }
                    }

                    await publisher.PublishAsync(topic, line, ct).ConfigureAwait(false);
                    i++;
                }

                await publisher.FlushAsync(ct).ConfigureAwait(false);
            }
            catch (CliException ex)
            {
                throw new CliException(string.Create(CultureInfo.InvariantCulture, $"{ex.Message} (sent {publisher.Sent:N0}, acked {publisher.Acked:N0})"), ex);
            }
            finally
            {
                await refresh.CancelAsync().ConfigureAwait(false);
                await updater.ConfigureAwait(false);
                if (task is not null)
                {
                    task.Value = publisher.Acked;
                    task.Description = Markup.Escape($"{Path.GetFileName(path)} → {topic}: {publisher.Acked:N0} acked");
                    task.StopTask();
                }
            }

            return true;
        }).ConfigureAwait(false);

        var seconds = Math.Max(clock.Elapsed.TotalSeconds, 0.001);
        return new ReplayResult(path, address.ToString(), topic, qos, publisher.Sent, publisher.Acked, publisher.Failed, Math.Round(seconds, 3), Math.Round(publisher.Acked / seconds, 1));
    }

    private static async Task UpdateAsync(ProgressTask task, MqttEventPublisher publisher, long total, CancellationToken ct)
    {
        var description = task.Description;
        while (!ct.IsCancellationRequested)
        {
            task.Value = publisher.Acked;
            task.Description = description + Markup.Escape(string.Create(CultureInfo.InvariantCulture, $": {publisher.Acked:N0}/{total:N0} acked"));
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

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex StoreIdPattern();

    private sealed record ReplayResult(string File, string Broker, string Topic, int Qos, long Sent, long Acked, long Failed, double Seconds, double EventsPerSecond);
}
