using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace EdgeProfile.Bench.HubReads;

/// <summary>
/// The real hub, <c>edgeprofile-hub</c> from <c>hub/EdgeProfile.Hub.Server</c> built in Release, as a child process
/// on a free loopback port with its own temp data directory and a known operator token; on PostgreSQL, with its own
/// fresh schema (dropped afterwards).
/// </summary>
internal sealed class HubProcess : IAsyncDisposable
{
    private const int KeptLines = 40;

    private readonly Process _process;
    private readonly DirectoryInfo _dataDir;
    private readonly Queue<string> _output = new();
    private readonly string? _postgres;
    private readonly string? _schema;

    private HubProcess(Process process, DirectoryInfo dataDir, Uri address, string token, string? postgres, string? schema)
    {
        _process = process;
        _dataDir = dataDir;
        _postgres = postgres;
        _schema = schema;
        Address = address;
        OperatorToken = token;
    }

    public Uri Address { get; }

    public string OperatorToken { get; }

    public int Pid => _process.Id;

    public static string ServerDll(string root) =>
        Path.Combine(root, "hub", "EdgeProfile.Hub.Server", "bin", "Release", "net10.0", "edgeprofile-hub.dll");

    /// <summary><c>dotnet build -c Release</c> of the server project, so the bench always runs the current hub.</summary>
    public static async Task BuildAsync(string root)
    {
        var project = Path.Combine(root, "hub", "EdgeProfile.Hub.Server", "EdgeProfile.Hub.Server.csproj");
        var psi = new ProcessStartInfo(DotnetHost(), ["build", project, "-c", "Release", "-nologo", "-v", "q"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var build = Process.Start(psi)!;
        var stdout = build.StandardOutput.ReadToEndAsync();
        var stderr = build.StandardError.ReadToEndAsync();
        await build.WaitForExitAsync();
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet build {project} -c Release failed:\n{await stdout}{await stderr}");
        }
    }

    public static async Task<HubProcess> StartAsync(string root, string storage, string postgres)
    {
        var dll = ServerDll(root);
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: run without --no-build, or dotnet build hub/EdgeProfile.Hub.Server -c Release");
        }

        var dataDir = Directory.CreateTempSubdirectory("ep-bench-hub-reads-");
        var address = new Uri($"http://127.0.0.1:{FreePort()}");
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        string? schema = null;
        string? connectionString = null;
        if (storage == "postgres")
        {
            schema = "bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
            await ExecuteAsync(postgres, $"CREATE SCHEMA {schema};");
            connectionString = $"{postgres};Search Path={schema}";
        }

        var psi = new ProcessStartInfo(DotnetHost())
        {
            ArgumentList =
            {
                dll,
                "--urls", address.ToString().TrimEnd('/'),
                $"--Hub:DataDir={dataDir.FullName}",
                $"--Hub:OperatorToken={token}",
                $"--Hub:Storage={storage}",
                "--Logging:LogLevel:Default=Warning",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (connectionString is not null)
        {
            psi.ArgumentList.Add($"--Hub:ConnectionString={connectionString}");
        }

        var process = Process.Start(psi)!;
        var hub = new HubProcess(process, dataDir, address, token, postgres, schema);
        process.OutputDataReceived += (_, e) => hub.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => hub.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await hub.WaitHealthyAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await hub.DisposeAsync();
            throw;
        }

        return hub;
    }

    /// <summary>User + system CPU seconds the hub process has used so far.</summary>
    public double CpuSeconds() => ProcStat.CpuSeconds(_process.Id);

    /// <summary>The hub's last lines of output (it logs warnings and errors only).</summary>
    public string Output()
    {
        lock (_output)
        {
            return string.Join('\n', _output);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        if (_schema is not null)
        {
            await ExecuteAsync(_postgres!, $"DROP SCHEMA IF EXISTS {_schema} CASCADE;");
        }

        try
        {
            _dataDir.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory.
        }
    }

    /// <summary>The hub's tables, for an <c>ANALYZE</c> after seeding (what autovacuum would do a minute later).</summary>
    public async Task AnalyzeAsync()
    {
        if (_schema is not null)
        {
            await ExecuteAsync($"{_postgres};Search Path={_schema}", "ANALYZE;");
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString + ";Pooling=false");
        try
        {
            await connection.OpenAsync();
        }
        catch (Npgsql.NpgsqlException ex)
        {
            throw new InvalidOperationException($"PostgreSQL at '{connection.Host}:{connection.Port}' is not reachable ({ex.Message}); start it (.ci/run shows how) or pass --storage sqlite", ex);
        }

        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static string DotnetHost() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            if (_output.Count > KeptLines)
            {
                _output.Dequeue();
            }
        }
    }

    private async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync();
                throw new InvalidOperationException($"the hub exited with code {_process.ExitCode}:\n{Output()}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("/api/health", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Slow start on a busy box.
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"the hub did not answer /api/health within {timeout.TotalSeconds:F0} s:\n{Output()}");
    }
}
