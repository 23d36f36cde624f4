using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>
/// A real hub as a child process, <c>dotnet edgeprofile.dll hub run --urls http://127.0.0.1:{port} --Hub:DataDir=...</c>
/// plus any other host arguments, with a REST client for its operator API. Output is drained continuously and kept
/// for failure messages; dispose kills the process.
/// </summary>
public sealed class HubProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private HubProcess(Process process, string name, int port, string dataDir)
    {
        _process = process;
        Name = name;
        DataDir = dataDir;
        Address = new Uri($"http://127.0.0.1:{port}/");
        Http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(10) };
    }

    public string Name { get; }

    public string DataDir { get; }

    /// <summary>Where edges and operators reach it (REST and gRPC share the address).</summary>
    public Uri Address { get; }

    /// <summary>REST client; carries the operator token once <see cref="Authorize"/> has been called.</summary>
    public HttpClient Http { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines of its output, for failure messages.</summary>
    public string Tail(int lines = 40) => $"--- {Name} ---\n" + string.Join('\n', _output.TakeLast(lines));

    public static HubProcess Start(string name, string dataDir, int port, string workingDirectory, params string[] hostArgs)
    {
        var psi = new ProcessStartInfo(EdgeProcess.DotnetHost)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])[CliProcess.Dll, "hub", "run", "--urls", $"http://127.0.0.1:{port}", $"--Hub:DataDir={dataDir}", .. hostArgs])
        {
            psi.ArgumentList.Add(a);
        }

        // A plain production-like start: no inherited URLs or environment from the test host.
        psi.Environment.Remove("ASPNETCORE_URLS");
        psi.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        psi.Environment.Remove("DOTNET_ENVIRONMENT");

        var process = new Process { StartInfo = psi };
        var hub = new HubProcess(process, name, port, dataDir);
        process.OutputDataReceived += (_, e) => hub.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => hub.Keep(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException("could not start " + psi.FileName);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return hub;
    }

    /// <summary>Waits until <c>GET /api/health</c> answers <c>ok</c>; fails at once if the process exits.</summary>
    public Task WaitHealthyAsync(TimeSpan timeout) =>
        Poll.UntilAsync(
            async () =>
            {
                if (_process.HasExited)
                {
                    throw new Xunit.Sdk.XunitException($"{Name} exited with code {_process.ExitCode} before it was healthy\n{Tail()}");
                }

                using var response = await Http.GetAsync(new Uri("/api/health", UriKind.Relative));
                return response.IsSuccessStatusCode && JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString() == "ok";
            },
            timeout,
            $"{Name} at {Address}api/health to be ok");

    /// <summary>Sends <paramref name="operatorToken"/> as the bearer token from now on.</summary>
    public void Authorize(string operatorToken) =>
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", operatorToken);

    /// <summary><c>GET /api/profiles/{key}</c>, or null on 404.</summary>
    public async Task<JsonElement?> ProfileAsync(string customerKey)
    {
        using var response = await Http.GetAsync(new Uri("/api/profiles/" + Uri.EscapeDataString(customerKey), UriKind.Relative));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{Name}: GET /api/profiles/{customerKey} -> {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }

        _process.Dispose();
        Http.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 2000 && _output.TryDequeue(out _))
        {
        }
    }
}
