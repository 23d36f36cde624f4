using System.Net;
using System.Net.Http.Json;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Hosting;
using EdgeProfile.Hub.Api;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Hub.Tests;

public sealed class HostingTests
{
    [Fact]
    public async Task Rest_over_http11_and_grpc_over_h2c_share_one_port()
    {
        await using var hub = await TestHub.StartAsync();

        using var rest = new HttpClient();
        using var response = await rest.GetAsync(new Uri(hub.Address, "/api/health"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version11, response.Version);
        var health = await response.Content.ReadFromJsonAsync<HealthResponse>();
        Assert.Equal("ok", health!.Status);

        // Same address, gRPC (HTTP/2 with prior knowledge, no TLS): enroll and upload.
        var store = await hub.EnrollAsync("store-001");
        var ack = await store.UploadAsync(Deltas.Of(1, "loyalty:L-1"));
        Assert.Equal(1, ack.AckedThrough);

        // And plain HTTP/2 prior knowledge for REST works too.
        using var h2 = new HttpRequestMessage(HttpMethod.Get, new Uri(hub.Address, "/api/health"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var h2Response = await rest.SendAsync(h2);
        Assert.Equal(HttpVersion.Version20, h2Response.Version);
        Assert.Equal(HttpStatusCode.OK, h2Response.StatusCode);
    }

    [Fact]
    public async Task Unknown_storage_fails_start_naming_Hub_Storage()
    {
        await using var app = TestHub.Build(TestHub.NewDataDir(), ["--Hub:Storage=mongo"]);
        var ex = await Assert.ThrowsAsync<ConfigurationException>(() => StartupValidation.RunValidatedAsync(() => app.StartAsync()));
        Assert.Contains("Hub:Storage", ex.Message, StringComparison.Ordinal);
        Assert.Contains("mongo", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Host=127.0.0.1;Bogus Key=1")]
    public async Task Postgres_storage_without_a_usable_connection_string_fails_start_naming_it(string connectionString)
    {
        await using var app = TestHub.Build(TestHub.NewDataDir(), ["--Hub:Storage=postgres", $"--Hub:ConnectionString={connectionString}"]);
        var ex = await Assert.ThrowsAsync<ConfigurationException>(() => StartupValidation.RunValidatedAsync(() => app.StartAsync()));
        Assert.Contains("Hub:ConnectionString", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_postgres_fails_start_naming_the_connection_string()
    {
        // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
        await using var app = TestHub.Build(TestHub.NewDataDir(), ["--Hub:Storage=postgres", "--Hub:ConnectionString=Host=127.0.0.1;Port=9;Database=x;Username=x;Timeout=3"]);
        var ex = await Assert.ThrowsAsync<ConfigurationException>(() => app.StartAsync());
        Assert.Contains("Hub:ConnectionString", ex.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:9", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--Hub:EnrollmentTokenTtl=soon", "Hub:EnrollmentTokenTtl")]
    [InlineData("--Hub:EnrollmentTokenTtl=-01:00:00", "Hub:EnrollmentTokenTtl")]
    [InlineData("--Hub:OperatorToken=short", "Hub:OperatorToken")]
    [InlineData("--Hub:DataDir=", "Hub:DataDir")]
    public async Task Bad_setting_fails_start_naming_its_key(string setting, string key)
    {
        await using var app = TestHub.Build(TestHub.NewDataDir(), [setting]);
        var ex = await Assert.ThrowsAsync<ConfigurationException>(() => StartupValidation.RunValidatedAsync(() => app.StartAsync()));
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Data_dir_that_is_a_file_fails_start_naming_Hub_DataDir()
    {
        var file = Path.GetTempFileName();
        try
        {
            await using var app = TestHub.Build(file);
            var ex = await Assert.ThrowsAsync<ConfigurationException>(() => app.StartAsync());
            Assert.Contains("Hub:DataDir", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Second_hub_on_the_same_data_dir_is_refused()
    {
        await using var first = await TestHub.StartAsync();
        await using var second = TestHub.Build(first.DataDir);
        var ex = await Assert.ThrowsAsync<ConfigurationException>(() => second.StartAsync());
        Assert.Contains("in use by another hub", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generated_operator_token_file_is_owner_only_and_reused_after_restart()
    {
        var dir = TestHub.NewDataDir();
        string token;
        await using (var hub = await TestHub.StartAsync(dir))
        {
            token = hub.App.OperatorToken();
            var path = Path.Combine(dir, HubOptions.OperatorTokenFileName);
            Assert.Equal(token, File.ReadAllText(path).Trim());
            Assert.True(token.Length >= 32);
            if (TestHub.OnPostgres)
            {
                // The key lives in the shared database, so that every replica pseudonymises alike; no copy on disk.
                Assert.False(File.Exists(Path.Combine(dir, HubOptions.PseudonymKeyFileName)));
                Assert.False(File.Exists(Path.Combine(dir, HubOptions.DatabaseFileName)));
            }

            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
                if (!TestHub.OnPostgres)
                {
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, HubOptions.PseudonymKeyFileName)));
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, HubOptions.DatabaseFileName)));
                }
            }
        }

        await using (var again = await TestHub.StartAsync(dir))
        {
            Assert.Equal(token, again.App.OperatorToken());
            using var response = await again.Http.GetAsync("/api/stores");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Configured_operator_token_is_used_and_no_token_file_is_written()
    {
        const string token = "configured-operator-token-123456";
        await using var hub = await TestHub.StartAsync(args: [$"--Hub:OperatorToken={token}"]);
        Assert.Equal(token, hub.App.OperatorToken());
        Assert.False(File.Exists(Path.Combine(hub.DataDir, HubOptions.OperatorTokenFileName)));
        using var response = await hub.Http.GetAsync("/api/stores");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Pseudonym_key_and_data_survive_a_restart()
    {
        var dir = TestHub.NewDataDir();
        byte[] key;
        await using (var hub = await TestHub.StartAsync(dir))
        {
            var store = await hub.EnrollAsync("store-001");
            key = store.PseudonymKey;
            Assert.Equal(32, key.Length);
            await store.UploadAsync(Deltas.Range(1, 3));
        }

        await using (var again = await TestHub.StartAsync(dir))
        {
            var store = await again.EnrollAsync("store-001");
            Assert.Equal(key, store.PseudonymKey);
            Assert.Equal(3, await store.CursorAsync());
            Assert.Equal("ep:", (await again.ProfileAsync("loyalty:L-2")).ProfileId[..3]);
        }

        Directory.Delete(dir, recursive: true);
    }
}
