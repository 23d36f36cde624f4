using System.CommandLine;
using EdgeProfile.Cli.Demo;
using Spectre.Console;

namespace EdgeProfile.Cli.Commands;

/// <summary><c>demo</c>: the whole product in one process, no external services.</summary>
public static class DemoCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var defaults = new DemoSettings();
        var stores = new Option<int>("--stores") { HelpName = "N", Description = "Physical stores (store-001...); one online/CDN edge (cdn-001) comes on top", DefaultValueFactory = _ => defaults.Stores };
        var customers = new Option<int>("--customers") { HelpName = "N", Description = "Customers in the simulation", DefaultValueFactory = _ => defaults.Customers };
        var events = new Option<int>("--events") { HelpName = "N", Description = "Messages to publish in total (incl. a few retries and malformed ones)", DefaultValueFactory = _ => defaults.Events };
        var seed = new Option<int>("--seed") { HelpName = "S", Description = "Seed of the simulation (same seed, same customers and events)", DefaultValueFactory = _ => defaults.Seed };
        var dataDir = new Option<string>("--data-dir") { Description = "Where the hub's and edges' data go; wiped at start unless --resume", HelpName = "DIR", DefaultValueFactory = _ => defaults.DataDir };
        var resume = new Option<bool>("--resume") { Description = "Keep the data (and enrollments) of the last run" };
        var keepRunning = new Option<bool>("--keep-running") { Description = "Keep the hub and edges up after the summary, until Ctrl-C" };
        var hubPort = new Option<int>("--hub-port") { HelpName = "PORT", Description = "The hub's port on 127.0.0.1 (0 = any free port)", DefaultValueFactory = _ => defaults.HubPort };
        var uiPort = new Option<int>("--ui-port") { HelpName = "PORT", Description = "The operator web UI's port on 127.0.0.1 (0 = any free port, -1 = no UI)", DefaultValueFactory = _ => defaults.UiPort };
        var mqttBase = new Option<int>("--mqtt-base-port") { HelpName = "PORT", Description = "First edge's MQTT port; the others follow (0 = any free ports)", DefaultValueFactory = _ => defaults.MqttBasePort };
        var httpBase = new Option<int>("--http-base-port") { HelpName = "PORT", Description = "First edge's HTTP API port; the others follow (0 = any free ports)", DefaultValueFactory = _ => defaults.HttpBasePort };

        var command = new Command("demo", "Run a hub, 3 store edges and an online/CDN edge in this process, feed them a simulated multi-channel flow, and show the resulting profiles")
        {
            stores, customers, events, seed, dataDir, resume, keepRunning, hubPort, uiPort, mqttBase, httpBase,
        };
        command.SetGuardedAction(async (r, ct) =>
        {
            var settings = new DemoSettings
            {
                Stores = r.GetValue(stores),
                Customers = r.GetValue(customers),
                Events = r.GetValue(events),
                Seed = r.GetValue(seed),
                DataDir = r.GetValue(dataDir)!,
                Resume = r.GetValue(resume),
                KeepRunning = r.GetValue(keepRunning),
                HubPort = r.GetValue(hubPort),
                UiPort = r.GetValue(uiPort),
                MqttBasePort = r.GetValue(mqttBase),
                HttpBasePort = r.GetValue(httpBase),
            };
            Validate(settings);
            await using var runner = new DemoRunner(settings, AnsiConsole.Console);
            return await runner.RunAsync(ct).ConfigureAwait(false);
        });
        return command;
    }

    private static void Validate(DemoSettings s)
    {
        if (s.Stores is < 1 or > 50)
        {
            throw new CliException("--stores must be between 1 and 50", ExitCodes.Usage);
        }

        if (s.Customers is < 1 or > 1_000_000)
        {
            throw new CliException("--customers must be between 1 and 1000000", ExitCodes.Usage);
        }

        if (s.Events is < 1 or > 10_000_000)
        {
            throw new CliException("--events must be between 1 and 10000000", ExitCodes.Usage);
        }

        if (s.HubPort is < 0 or > 65535)
        {
            throw new CliException($"--hub-port {s.HubPort} is not a TCP port (0-65535)", ExitCodes.Usage);
        }

        if (s.UiPort is < -1 or > 65535)
        {
            throw new CliException($"--ui-port {s.UiPort} is not a TCP port (0-65535, or -1 for no UI)", ExitCodes.Usage);
        }

        if (string.IsNullOrWhiteSpace(s.DataDir))
        {
            throw new CliException("--data-dir must not be empty", ExitCodes.Usage);
        }
    }
}
