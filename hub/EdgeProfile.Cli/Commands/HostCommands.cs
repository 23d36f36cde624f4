using System.CommandLine;
using EdgeProfile.Edge;
using EdgeProfile.Hosting;
using EdgeProfile.Hub;
using Microsoft.AspNetCore.Builder;

namespace EdgeProfile.Cli.Commands;

/// <summary><c>hub run</c> and <c>edge run</c>: run a host in this process with host arguments passed through.</summary>
public static class HostCommands
{
    /// <summary>The <c>hub</c> command with <c>run</c>.</summary>
    public static Command Hub()
    {
        var run = RunCommand(
            "Run the hub in this process. Host arguments pass through: --urls http://0.0.0.0:8080 --Hub:DataDir=/var/lib/edgeprofile/hub --Hub:OperatorToken=...",
            "edgeprofile hub",
            args => HubApp.Build(args));
        return new Command("hub", "The hub: enrollment, uplink, global profiles, operator API") { run };
    }

    /// <summary>The <c>edge</c> command with <c>run</c>.</summary>
    public static Command Edge()
    {
        var run = RunCommand(
            "Run an edge agent in this process. Host arguments pass through: --Edge:StoreId=store-001 --Edge:Mqtt:Port=1883 --Edge:HubUrl=... --Edge:EnrollmentToken=...",
            "edgeprofile edge",
            args => EdgeApp.Build(args));
        return new Command("edge", "The edge agent of a store, CDN node or partner") { run };
    }

    private static Command RunCommand(string description, string name, Func<string[], WebApplication> build)
    {
        var run = new Command("run", description)
        {
            // --Section:Key=value, --urls URL, ... are the host's business (contracts.md §5, §6).
            TreatUnmatchedTokensAsErrors = false,
        };
        run.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var hostArgs = parseResult.UnmatchedTokens.ToArray();
            // ServiceRunner turns configuration mistakes into one line naming the key and exit code 2; Ctrl-C or
            // SIGTERM stops the host gracefully (the log drains) and ends with 0, as a service manager expects.
            return await ServiceRunner.RunAsync(name, () => build(hostArgs), cancellationToken).ConfigureAwait(false);
        });
        return run;
    }
}
