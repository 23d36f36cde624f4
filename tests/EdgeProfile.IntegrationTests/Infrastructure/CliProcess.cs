using System.Diagnostics;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>The <c>edgeprofile</c> CLI next to the tests (the test project references EdgeProfile.Cli), run as a child process.</summary>
public static class CliProcess
{
    /// <summary>Path of <c>edgeprofile.dll</c>.</summary>
    public static string Dll
    {
        get
        {
            var beside = Path.Combine(AppContext.BaseDirectory, "edgeprofile.dll");
            if (File.Exists(beside) && File.Exists(Path.ChangeExtension(beside, ".runtimeconfig.json")))
            {
                return beside;
            }

            throw new FileNotFoundException($"edgeprofile.dll (with its runtimeconfig) not found in {AppContext.BaseDirectory}; build the test project");
        }
    }

    /// <summary>
    /// How to start the CLI as a long-running child (the demo): output redirected, and a plain start with no URLs,
    /// environment or settings file inherited from the test host.
    /// </summary>
    public static ProcessStartInfo StartInfo(string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(EdgeProcess.DotnetHost)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove("ASPNETCORE_URLS");
        psi.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        psi.Environment.Remove("DOTNET_ENVIRONMENT");
        psi.Environment.Remove("EDGEPROFILE_CONFIG");
        return psi;
    }

    /// <summary>Runs the CLI with <paramref name="args"/> to completion; returns exit code, stdout and stderr.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string workingDirectory, TimeSpan timeout, params string[] args) =>
        RunDllAsync(Dll, workingDirectory, timeout, args);

    /// <summary>Runs the CLI build at <paramref name="dll"/> (e.g. its own output, for commands that need its native libraries).</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunDllAsync(string dll, string workingDirectory, TimeSpan timeout, params string[] args) =>
        RunDllAsync(dll, workingDirectory, timeout, null, args);

    /// <summary>Runs the CLI with <paramref name="input"/> on its standard input (e.g. <c>--password-stdin</c>).</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunWithInputAsync(string workingDirectory, TimeSpan timeout, string input, params string[] args) =>
        RunDllAsync(Dll, workingDirectory, timeout, input, args);

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunDllAsync(string dll, string workingDirectory, TimeSpan timeout, string? input, string[] args)
    {
        var psi = new ProcessStartInfo(EdgeProcess.DotnetHost)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            RedirectStandardInput = input is not null,
        };
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["COLUMNS"] = "200";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start the CLI");
        if (input is not null)
        {
            await p.StandardInput.WriteAsync(input);
            p.StandardInput.Close();
        }

        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"edgeprofile {string.Join(' ', args)} did not finish in {timeout}");
        }

        return (p.ExitCode, await stdout, await stderr);
    }
}
