using System.Diagnostics;
using System.Text;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>Runs a command-line tool to completion, optionally feeding stdin, with a deadline; kills it on timeout.</summary>
public static class ExternalTool
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed)
    {
        public override string ToString() => $"exit {ExitCode} in {Elapsed.TotalSeconds:0.0} s\nstdout: {StandardOutput}\nstderr: {StandardError}";
    }

    public static async Task<Result> RunAsync(string fileName, IEnumerable<string> args, TimeSpan timeout, Func<StreamWriter, Task>? stdin = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        Assert.True(File.Exists(fileName), $"{fileName} is missing");
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = stdin is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        var watch = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            if (stdin is not null)
            {
                await stdin(process.StandardInput);
                process.StandardInput.Close();
            }

            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} did not finish within {timeout.TotalSeconds} s\nstdout: {stdout}\nstderr: {stderr}");
        }
        catch
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            throw;
        }

        string output, errors;
        lock (stdout)
        {
            output = stdout.ToString().Trim();
        }

        lock (stderr)
        {
            errors = stderr.ToString().Trim();
        }

        return new Result(process.ExitCode, output, errors, watch.Elapsed);
    }
}
