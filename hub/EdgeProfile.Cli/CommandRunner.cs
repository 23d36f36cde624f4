using System.CommandLine;

namespace EdgeProfile.Cli;

/// <summary>Wraps command actions so that every failure ends as one line on stderr and a meaningful exit code.</summary>
public static partial class CommandRunner
{
    /// <summary>Sets <paramref name="action"/> as the action of <paramref name="command"/>, with the CLI's error handling.</summary>
    public static void SetGuardedAction(this Command command, Func<ParseResult, CancellationToken, Task<int>> action)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(action);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                return await action(parseResult, cancellationToken).ConfigureAwait(false);
            }
            catch (CliException ex)
            {
                await Fail(ex.Message).ConfigureAwait(false);
                return ex.ExitCode;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await Fail("interrupted").ConfigureAwait(false);
                return ExitCodes.Interrupted;
            }
            catch (Exception ex) when (EdgeProfile.Hosting.ServiceRunner.Describe(ex) is { } config)
            {
                await Fail(config).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            catch (Exception ex)
            {
                // Unexpected: still one line, with the type so that a bug report says what broke.
                await Fail($"unexpected {ex.GetType().Name}: {OneLine(ex.Message)}").ConfigureAwait(false);
                if (Environment.GetEnvironmentVariable("EDGEPROFILE_DEBUG") is "1" or "true")
                {
                    await Console.Error.WriteLineAsync(ex.ToString()).ConfigureAwait(false);
                }

                return ExitCodes.Failed;
            }
        });
    }

    /// <summary>Writes <c>edgeprofile: message</c> to stderr.</summary>
    public static Task Fail(string message) => Console.Error.WriteLineAsync("edgeprofile: " + OneLine(message));

    private static string OneLine(string s) => WhiteSpace().Replace(s, " ").Trim();

    [System.Text.RegularExpressions.GeneratedRegex(@"\s+")]
    private static partial System.Text.RegularExpressions.Regex WhiteSpace();
}
