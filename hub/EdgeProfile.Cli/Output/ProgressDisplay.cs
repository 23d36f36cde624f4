using Spectre.Console;

namespace EdgeProfile.Cli.Output;

/// <summary>A Spectre.Console progress display that switches itself off when output is redirected or not a terminal.</summary>
public static class ProgressDisplay
{
    /// <summary>True when a live display can be drawn (an interactive ANSI terminal on stdout).</summary>
    public static bool Enabled =>
        !Console.IsOutputRedirected
        && AnsiConsole.Profile.Capabilities.Interactive
        && AnsiConsole.Profile.Capabilities.Ansi
        && Environment.GetEnvironmentVariable("EDGEPROFILE_NO_PROGRESS") is not ("1" or "true");

    /// <summary>
    /// Runs <paramref name="work"/> inside a live progress display, or without one (context null) when it is
    /// disabled. The display stays on screen afterwards.
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<ProgressContext?, Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!Enabled)
        {
            return await work(null).ConfigureAwait(false);
        }

        return await AnsiConsole.Progress()
            .AutoRefresh(true)
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new ElapsedTimeColumn(),
                new SpinnerColumn())
            .StartAsync(work).ConfigureAwait(false);
    }
}
