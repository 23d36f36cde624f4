using System.CommandLine;
using System.Runtime.InteropServices;
using EdgeProfile.Cli.Commands;

namespace EdgeProfile.Cli;

/// <summary>The <c>edgeprofile</c> command line (contracts.md §6).</summary>
public static class CliApp
{
    /// <summary>Builds the command tree.</summary>
    public static RootCommand BuildRootCommand() => new("edgeprofile: run and operate EdgeProfile hubs and edges")
    {
        DemoCommand.Create(),
        HostCommands.Hub(),
        HostCommands.Edge(),
        EnrollCommand.Create(),
        StoresCommand.Create(),
        ProfilesCommand.Create(),
        ExplainCommand.Create(),
        RulesCommand.Create(),
        RecommendersCommand.Create(),
        GraphCommand.Create(),
        IdentityCommand.Create(),
        SegmentsCommand.Create(),
        UsersCommand.Create(),
        UsersCommand.CreateAudit(),
        EraseCommand.Erase(),
        EraseCommand.Erasures(),
        ReplayCommand.Create(),
        FeaturesCommand.Create(),
        ModelsCommand.Create(),
        FlCommand.Create(),
        PartnerCommand.Create(),
    };

    /// <summary>Parses and runs <paramref name="args"/>; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var root = BuildRootCommand();
        // No response files: host arguments that start with '@' pass through unchanged.
        var parseResult = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parseResult.Errors.Count > 0)
        {
            // One line, not the help page: scripts read stderr.
            var command = string.Join(' ', parseResult.CommandResult.Command is RootCommand ? [] : CommandPath(parseResult.CommandResult.Command));
            await CommandRunner.Fail($"{parseResult.Errors[0].Message} (see: edgeprofile {(command.Length > 0 ? command + " " : "")}--help)").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        // Ctrl-C / SIGTERM cancel the command's token once; the command stops its hosts gracefully. Another signal a
        // second or more later ends the process at once. (Signals right after the first are repeats: `timeout` and
        // some supervisors signal both the process and its group.)
        using var cts = new CancellationTokenSource();
        long firstSignal = 0;
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            var now = Environment.TickCount64;
            if (Interlocked.CompareExchange(ref firstSignal, now, 0) == 0)
            {
                cts.Cancel();
            }
            else if (now - Interlocked.Read(ref firstSignal) > 1000)
            {
                Console.Error.WriteLine("edgeprofile: stopping at once (second signal)");
                Environment.Exit(context.Signal == PosixSignal.SIGTERM ? 143 : ExitCodes.Interrupted);
            }
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        return await parseResult.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false }, cts.Token).ConfigureAwait(false);
    }

    private static IEnumerable<string> CommandPath(Command command)
    {
        var names = new List<string>();
        for (var c = command; c is not null and not RootCommand; c = c.Parents.OfType<Command>().FirstOrDefault())
        {
            names.Insert(0, c.Name);
        }

        return names;
    }
}
