using System.Text.Json;
using EdgeProfile.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class ConfigurationTests
{
    private static async Task<string> StartFailureAsync(params string[] args)
    {
        Exception? failure = null;
        try
        {
            await using var app = EdgeApp.Build(args);
            await app.StartAsync();
            await app.StopAsync();
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        Assert.True(failure is not null, $"the edge started with {string.Join(' ', args)}");
        var message = ServiceRunner.Describe(failure);
        Assert.True(message is not null, $"not described as a configuration error: {failure}");
        return message;
    }

    private static string[] Args(string dataDir, params string[] overrides)
    {
        var args = EdgeHost.Args(dataDir, EdgeHost.FreePort());
        args.Add("--Logging:LogLevel:Microsoft.Extensions.Hosting=None"); // the expected start failure is not news
        args.AddRange(overrides);
        return [.. args];
    }

    [Theory]
    [InlineData("Edge:Mqtt:Port", "--Edge:Mqtt:Port=70000")]
    [InlineData("Edge:Mqtt:Port", "--Edge:Mqtt:Port=0")]
    [InlineData("Edge:Mqtt:Port", "--Edge:Mqtt:Port=abc")]
    [InlineData("Edge:Mqtt:Mode", "--Edge:Mqtt:Mode=foo")]
    [InlineData("Edge:Log:Durability", "--Edge:Log:Durability=maybe")]
    [InlineData("Edge:Log:WalMb", "--Edge:Log:WalMb=4")]
    [InlineData("Edge:StoreId", "--Edge:StoreId=store with spaces")]
    [InlineData("Edge:HubUrl", "--Edge:HubUrl=ftp://hub")]
    [InlineData("Edge:Uplink:DiskBudgetMb", "--Edge:Uplink:DiskBudgetMb=0")]
    [InlineData("Edge:DeadLetters:MaxCount", "--Edge:DeadLetters:MaxCount=0")]
    [InlineData("Edge:PseudonymKey", "--Edge:PseudonymKey=not-base64!")]
    [InlineData("Edge:MaxClockSkew", "--Edge:MaxClockSkew=soon")]
    public async Task Bad_setting_fails_the_start_naming_the_key(string key, string setting)
    {
        using var dir = new TempDir();

        var message = await StartFailureAsync(Args(dir.Path, setting));

        Assert.Contains(key, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_store_id_fails_the_start_naming_the_key()
    {
        using var dir = new TempDir();
        var args = Args(dir.Path).Where(a => !a.StartsWith("--Edge:StoreId=", StringComparison.Ordinal)).ToArray();

        var message = await StartFailureAsync(args);

        Assert.Contains("Edge:StoreId", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_bad_settings_are_all_named()
    {
        using var dir = new TempDir();

        var message = await StartFailureAsync(Args(dir.Path, "--Edge:Mqtt:Port=70000", "--Edge:Log:Durability=maybe"));

        Assert.Contains("Edge:Mqtt:Port", message, StringComparison.Ordinal);
        Assert.Contains("Edge:Log:Durability", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hub_url_without_enrollment_token_on_a_fresh_data_dir_names_the_token()
    {
        using var dir = new TempDir();

        var message = await StartFailureAsync(Args(dir.Path, "--Edge:HubUrl=http://127.0.0.1:1"));

        Assert.Contains("Edge:EnrollmentToken", message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir.Path, "credential.json")));
    }

    [Fact]
    public async Task Mqtt_port_in_use_fails_the_start_naming_the_key()
    {
        using var dir = new TempDir();
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((System.Net.IPEndPoint)squatter.LocalEndpoint).Port;

        var message = await StartFailureAsync(Args(dir.Path, $"--Edge:Mqtt:Port={port}"));

        Assert.Contains("Edge:Mqtt:Port", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Store_id_from_the_EDGEPROFILE_CONFIG_file_is_used()
    {
        using var dir = new TempDir();
        var file = WriteConfigFile(dir.Path, """{ "Edge": { "StoreId": "store-file" } }""");
        var args = Args(dir.Path).Where(a => !a.StartsWith("--Edge:StoreId=", StringComparison.Ordinal)).ToArray();

        await WithConfigFileAsync(file, async () =>
        {
            await using var app = EdgeApp.Build(args);
            await app.StartAsync();
            using var http = new HttpClient { BaseAddress = app.ApiAddress() };
            using var health = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/health", UriKind.Relative)));
            await app.StopAsync();

            Assert.Equal("store-file", health.RootElement.GetProperty("storeId").GetString());
        });
    }

    [Fact]
    public async Task Environment_variables_and_command_line_win_over_the_EDGEPROFILE_CONFIG_file()
    {
        using var dir = new TempDir();
        var file = WriteConfigFile(dir.Path, """{ "Edge": { "StoreId": "store-file", "Uplink": { "BatchSize": 11 }, "DeadLetters": { "MaxCount": 7 } } }""");
        var args = Args(dir.Path, "--Edge:StoreId=store-cli");
        var before = Environment.GetEnvironmentVariable("Edge__DeadLetters__MaxCount");
        Environment.SetEnvironmentVariable("Edge__DeadLetters__MaxCount", "8");
        try
        {
            await WithConfigFileAsync(file, async () =>
            {
                await using var app = EdgeApp.Build(args);
                var options = app.Services.GetRequiredService<IOptions<EdgeOptions>>().Value;

                Assert.Equal("store-cli", options.StoreId); // command line over the file
                Assert.Equal(8, options.DeadLetters.MaxCount); // environment over the file
                Assert.Equal(11, options.Uplink.BatchSize); // the file over the defaults
            });
        }
        finally
        {
            Environment.SetEnvironmentVariable("Edge__DeadLetters__MaxCount", before);
        }
    }

    [Fact]
    public async Task Missing_EDGEPROFILE_CONFIG_file_fails_the_start_naming_the_variable()
    {
        using var dir = new TempDir();
        var missing = Path.Combine(dir.Path, "no-such.json");

        await WithConfigFileAsync(missing, async () =>
        {
            var message = await StartFailureAsync(Args(dir.Path));

            Assert.Contains(ServiceDefaults.ConfigFileVariable, message, StringComparison.Ordinal);
            Assert.Contains(missing, message, StringComparison.Ordinal);
        });
    }

    private static string WriteConfigFile(string dir, string json)
    {
        var path = Path.Combine(dir, "edge.appsettings.json");
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>Runs <paramref name="body"/> with EDGEPROFILE_CONFIG set (process-wide: this collection runs alone), then restores it.</summary>
    private static async Task WithConfigFileAsync(string path, Func<Task> body)
    {
        var before = Environment.GetEnvironmentVariable(ServiceDefaults.ConfigFileVariable);
        Environment.SetEnvironmentVariable(ServiceDefaults.ConfigFileVariable, path);
        try
        {
            await body();
        }
        finally
        {
            Environment.SetEnvironmentVariable(ServiceDefaults.ConfigFileVariable, before);
        }
    }
}
