using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using EdgeProfile.IntegrationTests.Infrastructure;

namespace EdgeProfile.IntegrationTests;

/// <summary>The README's demo (<c>edgeprofile demo</c>), run for real as a child process on free ports.</summary>
[Collection(IntegrationCollection.Name)]
public sealed partial class DemoTests(ITestOutputHelper output)
{
    private const int Events = 3000;
    private static readonly string[] Edges = ["store-001", "store-002", "store-003", "cdn-001"];

    [Fact]
    public async Task Demo_runs_a_hub_and_four_edges_and_prints_counts_profiles_and_where_to_look()
    {
        using var dir = new TempDirectory("demo");
        var psi = CliProcess.StartInfo(dir.Path, "demo", "--events", Events.ToString(CultureInfo.InvariantCulture), "--customers", "300",
            "--hub-port", "0", "--ui-port", "0", "--mqtt-base-port", "0", "--http-base-port", "0", "--data-dir", dir.Sub("data"));
        var watch = Stopwatch.StartNew();
        using var demo = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + psi.FileName);
        var stdoutTask = demo.StandardOutput.ReadToEndAsync();
        var stderrTask = demo.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
        {
            try
            {
                await demo.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                demo.Kill(entireProcessTree: true);
                await demo.WaitForExitAsync();
                Assert.Fail($"the demo did not finish within 90 s\n--- stdout ---\n{await stdoutTask}\n--- stderr ---\n{await stderrTask}");
            }
        }

        var stdout = await stdoutTask;
        var stderr = await stderrTask;
        output.WriteLine($"exit {demo.ExitCode} after {watch.Elapsed.TotalSeconds:0.0} s\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
        Assert.True(demo.ExitCode == 0, $"the demo exited with {demo.ExitCode}; stderr: {stderr}");

        // Per-store counts: every message published was acknowledged and ends up stored, ignored as a retry, or dead-lettered.
        var sent = 0L;
        foreach (var edge in Edges)
        {
            var row = TableRow(stdout, edge);
            Assert.True(row is not null, $"no row for {edge} in the edges table");
            var (rowSent, stored, dupes, dead) = row.Value;
            Assert.True(stored > 0, $"{edge} stored nothing");
            Assert.True(rowSent == stored + dupes + dead, $"{edge}: sent {rowSent} != stored {stored} + dupes {dupes} + dead {dead}");
            sent += rowSent;
        }

        Assert.Equal(Events, sent);

        // At least one global profile, with its tags and the reason for each.
        Assert.Contains("Global profiles at the hub", stdout, StringComparison.Ordinal);
        Assert.Matches(CustomerLine(), stdout);
        Assert.Matches(TagWithReason(), stdout);
        Assert.DoesNotContain("No multi-store customer found", stdout, StringComparison.Ordinal);

        // Where to look: hub URL, operator token, each edge's API and broker, example calls.
        Assert.Contains("Where to look", stdout, StringComparison.Ordinal);
        Assert.Matches(HubLine(), stdout);
        Assert.Contains("Operator token", stdout, StringComparison.Ordinal);
        Assert.Matches(UiLine(), stdout);
        Assert.True(File.Exists(Path.Combine(dir.Sub("data"), "hub", "ui-admin.password")), "the demo's UI password file is missing");
        foreach (var edge in Edges)
        {
            Assert.Matches(new Regex($@"Edge {Regex.Escape(edge)}\s+API http://127\.0\.0\.1:\d+\s+MQTT mqtt://127\.0\.0\.1:\d+"), stdout);
        }

        Assert.Contains("curl -s", stdout, StringComparison.Ordinal);
        Assert.Contains("Demo finished", stdout, StringComparison.Ordinal);
    }

    /// <summary>Sent, Stored, Dupes and Dead of an edge's row in the edges table (│ Edge │ Kind │ Channels │ Sent │ Stored │ Dupes │ Dead │ Late │).</summary>
    private static (long Sent, long Stored, long Dupes, long Dead)? TableRow(string stdout, string edge)
    {
        foreach (var line in stdout.Split('\n'))
        {
            var cells = line.Split('│', StringSplitOptions.TrimEntries);
            if (cells.Length >= 9 && cells[1] == edge)
            {
                return (Number(cells[4]), Number(cells[5]), Number(cells[6]), Number(cells[7]));
            }
        }

        return null;
    }

    private static long Number(string cell) => long.Parse(cell, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^Customer ep:[0-9a-f]+ \(looked up as \S+\)", RegexOptions.Multiline)]
    private static partial Regex CustomerLine();

    [GeneratedRegex(@"^ {4}[a-z_]+ — \S.*", RegexOptions.Multiline)]
    private static partial Regex TagWithReason();

    [GeneratedRegex(@"^Operator UI\s+http://127\.0\.0\.1:\d+/ — admin / [A-Za-z0-9]{20}\s*$", RegexOptions.Multiline)]
    private static partial Regex UiLine();

    [GeneratedRegex(@"^Hub\s+http://127\.0\.0\.1:\d+ \(REST \+ gRPC\)", RegexOptions.Multiline)]
    private static partial Regex HubLine();
}
