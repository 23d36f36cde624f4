using System.Data.Common;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Net.Http.Json;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub;
using EdgeProfile.Hub.Api;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EdgeProfile.Hub.Tests;

/// <summary>
/// A real hub on 127.0.0.1:0 with its own temp data directory, plus REST and gRPC clients. The storage is SQLite,
/// or PostgreSQL when <c>EDGEPROFILE_TEST_STORAGE=postgres</c> (<c>.ci/run</c> runs this suite both ways): each data
/// directory then gets its own schema in the database named by <c>EDGEPROFILE_TEST_POSTGRES</c>.
/// </summary>
public sealed class TestHub : IAsyncDisposable
{
    private readonly bool _ownsDir;

    private TestHub(WebApplication app, string dataDir, bool ownsDir)
    {
        App = app;
        DataDir = dataDir;
        _ownsDir = ownsDir;
        Address = app.BoundAddress();
        Http = new HttpClient { BaseAddress = Address };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", app.OperatorToken());
        Channel = GrpcChannel.ForAddress(Address);
        Enrollment = new Contracts.V1.Enrollment.EnrollmentClient(Channel);
        Uplink = new Contracts.V1.Uplink.UplinkClient(Channel);
    }

    public WebApplication App { get; }

    public string DataDir { get; }

    public Uri Address { get; }

    /// <summary>REST client carrying the operator token.</summary>
    public HttpClient Http { get; }

    public GrpcChannel Channel { get; }

    public Contracts.V1.Enrollment.EnrollmentClient Enrollment { get; }

    public Contracts.V1.Uplink.UplinkClient Uplink { get; }

    /// <summary>True when the suite runs on PostgreSQL.</summary>
    public static bool OnPostgres { get; } =
        string.Equals(Environment.GetEnvironmentVariable("EDGEPROFILE_TEST_STORAGE"), "postgres", StringComparison.OrdinalIgnoreCase);

    /// <summary>The test database (a superuser's, so that schemas can be created and dropped).</summary>
    public static string PostgresConnectionString { get; } =
        Environment.GetEnvironmentVariable("EDGEPROFILE_TEST_POSTGRES") is { Length: > 0 } cs
            ? cs
            : "Host=127.0.0.1;Port=5432;Database=edgeprofile;Username=edgeprofile;Password=edgeprofile";

    public static string NewDataDir() => Path.Combine(Path.GetTempPath(), "ep-hub-tests", Guid.NewGuid().ToString("N"));

    /// <summary>The storage settings for a hub on <paramref name="dataDir"/>: none for SQLite, its own schema on PostgreSQL.</summary>
    public static string[] StorageArgs(string dataDir) =>
        OnPostgres ? ["--Hub:Storage=postgres", $"--Hub:ConnectionString={PostgresConnectionString};Search Path={EnsureSchema(dataDir)}"] : [];

    public static WebApplication Build(string dataDir, IEnumerable<string>? args = null, Action<WebApplicationBuilder>? configure = null) =>
        HubApp.Build(
            ["--urls", "http://127.0.0.1:0", $"--Hub:DataDir={dataDir}", "--hostBuilder:reloadConfigOnChange=false", .. StorageArgs(dataDir), .. args ?? []],
            b =>
            {
                if (Environment.GetEnvironmentVariable("EDGEPROFILE_TEST_LOGS") != "1")
                {
                    b.Logging.ClearProviders();
                }
                configure?.Invoke(b);
            });

    /// <summary>The PostgreSQL schema of a data directory (stable, so a hub restarted on it finds its data).</summary>
    public static string SchemaOf(string dataDir) =>
        "t_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dataDir))))[..24];

    /// <summary>
    /// A connection to the hub's database beside the running hub, for tests that look at stored rows: the SQLite
    /// file (read-only), or the data directory's PostgreSQL schema.
    /// </summary>
    public static DbConnection OpenDatabase(string dataDir)
    {
        if (OnPostgres)
        {
            var pg = new NpgsqlConnection($"{PostgresConnectionString};Search Path={SchemaOf(dataDir)};Pooling=false");
            pg.Open();
            return pg;
        }

        var sqlite = new SqliteConnection($"Data Source={Path.Combine(dataDir, HubOptions.DatabaseFileName)};Mode=ReadOnly;Pooling=false");
        sqlite.Open();
        return sqlite;
    }

    /// <summary>Drops the data directory's PostgreSQL schema (nothing on SQLite).</summary>
    public static void DropSchema(string dataDir)
    {
        if (!OnPostgres)
        {
            return;
        }

        using var connection = new NpgsqlConnection(PostgresConnectionString + ";Pooling=false");
        connection.Open();
        using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {SchemaOf(dataDir)} CASCADE;", connection);
        command.ExecuteNonQuery();
    }

    private static string EnsureSchema(string dataDir)
    {
        var schema = SchemaOf(dataDir);
        using var connection = new NpgsqlConnection(PostgresConnectionString + ";Pooling=false");
        connection.Open();
        lock (Created)
        {
            // Tests that manage their own data directory (restarts) leave theirs to the end of the run; a run that
            // ended without that (killed) is swept by the next one: schemas of earlier runs older than an hour.
            if (Created.Count == 0)
            {
                AppDomain.CurrentDomain.ProcessExit += (_, _) => DropCreated();
                using var sweep = new NpgsqlCommand("""
                    DO $$ DECLARE s text; BEGIN
                      FOR s IN SELECT nspname FROM pg_namespace
                               WHERE obj_description(oid, 'pg_namespace') LIKE 'edgeprofile-test %'
                                 AND split_part(obj_description(oid, 'pg_namespace'), ' ', 2)::bigint < extract(epoch FROM now()) - 3600
                      LOOP EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP;
                    END $$;
                    """, connection);
                sweep.ExecuteNonQuery();
            }

            Created.Add(dataDir);
        }

        using var command = new NpgsqlCommand(
            $"CREATE SCHEMA IF NOT EXISTS {schema}; COMMENT ON SCHEMA {schema} IS 'edgeprofile-test {DateTimeOffset.UtcNow.ToUnixTimeSeconds()}';", connection);
        command.ExecuteNonQuery();

        return schema;
    }

    private static readonly HashSet<string> Created = new(StringComparer.Ordinal);

    private static void DropCreated()
    {
        string[] dirs;
        lock (Created)
        {
            dirs = [.. Created];
        }

        foreach (var dir in dirs)
        {
            try
            {
                DropSchema(dir);
            }
            catch (NpgsqlException)
            {
                // The server went away first; nothing to clean.
            }
        }
    }

    public static async Task<TestHub> StartAsync(string? dataDir = null, IEnumerable<string>? args = null, Action<WebApplicationBuilder>? configure = null)
    {
        var ownsDir = dataDir is null;
        dataDir ??= NewDataDir();
        var app = Build(dataDir, args, configure);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new TestHub(app, dataDir, ownsDir);
    }

    public async Task<EnrollmentTokenResponse> CreateTokenAsync(string storeId, string? kind = null)
    {
        using var response = await Http.PostAsJsonAsync("/api/enrollments", new { storeId, kind });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<EnrollmentTokenResponse>())!;
    }

    /// <summary>Creates a token over REST and trades it over gRPC; returns a client acting as the store.</summary>
    public async Task<StoreClient> EnrollAsync(string storeId)
    {
        var token = await CreateTokenAsync(storeId);
        var enrolled = await Enrollment.EnrollAsync(new EnrollRequest { Token = token.Token, StoreId = storeId, AgentVersion = "test" });
        return new StoreClient(storeId, enrolled.Credential, enrolled.PseudonymKey.ToByteArray(), Uplink);
    }

    public async Task<List<StoreSummary>> StoresAsync() =>
        (await Http.GetFromJsonAsync<List<StoreSummary>>("/api/stores"))!;

    public async Task<GlobalProfile> ProfileAsync(string key) =>
        (await Http.GetFromJsonAsync<GlobalProfile>("/api/profiles/" + Uri.EscapeDataString(key)))!;

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        if (_ownsDir)
        {
            DropSchema(DataDir);
            try
            {
                Directory.Delete(DataDir, recursive: true);
            }
            catch (IOException)
            {
                // Best effort; the temp dir is unique per test.
            }
        }
    }
}

/// <summary>gRPC calls authenticated as one store.</summary>
public sealed record StoreClient(string StoreId, string Credential, byte[] PseudonymKey, Contracts.V1.Uplink.UplinkClient Uplink)
{
    public Metadata Headers => As(StoreId, Credential);

    public static Metadata As(string storeId, string credential) => new()
    {
        { "x-ep-store", storeId },
        { "authorization", "Bearer " + credential },
    };

    public async Task<UploadAck> UploadAsync(params ProfileDelta[] deltas)
    {
        var batch = new DeltaBatch();
        batch.Deltas.AddRange(deltas);
        return await Uplink.UploadAsync(batch, Headers);
    }

    public async Task<long> CursorAsync() => (await Uplink.GetCursorAsync(new CursorRequest(), Headers)).AckedThrough;
}
