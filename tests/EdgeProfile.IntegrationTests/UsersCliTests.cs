using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeProfile.IntegrationTests.Infrastructure;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// The web UI's accounts from the CLI (<c>edgeprofile users add|list|set</c>, <c>edgeprofile audit</c>) as a child
/// process against a hub with its UI: the first admin is created with the operator token and signs in with the printed
/// password; bad input is refused with the reason; every change is in the audit log under the CLI's user.
/// </summary>
public sealed partial class UsersCliTests(ITestOutputHelper output)
{
    private const string OperatorToken = "it-users-token-0123456789";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_first_admin_comes_from_the_cli_signs_in_with_the_printed_password_and_every_change_is_audited()
    {
        using var dir = new TempDirectory("users");
        await using var hub = await HubHost.StartAsync(dir.Sub("hub"), 0, OperatorToken, output, "--Hub:Ui:Url=http://127.0.0.1:0");
        string[] connect = ["--hub", hub.Address.ToString(), "--token", OperatorToken];

        var add = await CliProcess.RunAsync(dir.Path, Wait, ["users", "add", "alice", "--role", "admin", .. connect]);
        Assert.True(add.ExitCode == 0, add.Stderr);
        var password = PasswordLine().Match(add.Stdout).Groups[1].Value;
        Assert.Equal(20, password.Length);
        Assert.Equal(HttpStatusCode.Redirect, await SignInAsync(hub.Ui!, "alice", password));
        Assert.Equal(HttpStatusCode.OK, await SignInAsync(hub.Ui!, "alice", "not-" + password)); // the form again, with an error

        var bob = await CliProcess.RunWithInputAsync(dir.Path, Wait, "bob-password-123\n", ["users", "add", "bob", "--role", "viewer", "--password-stdin", .. connect]);
        Assert.True(bob.ExitCode == 0, bob.Stderr);
        Assert.DoesNotContain("Password", bob.Stdout, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, await SignInAsync(hub.Ui!, "bob", "bob-password-123"));

        var shortPassword = await CliProcess.RunWithInputAsync(dir.Path, Wait, "short\n", ["users", "add", "carol", "--role", "viewer", "--password-stdin", .. connect]);
        Assert.Equal(1, shortPassword.ExitCode);
        Assert.Contains("password: at least 10 characters", shortPassword.Stderr, StringComparison.Ordinal);
        var badRole = await CliProcess.RunAsync(dir.Path, Wait, ["users", "add", "carol", "--role", "boss", .. connect]);
        Assert.Equal(2, badRole.ExitCode);
        var partner = await CliProcess.RunAsync(dir.Path, Wait, ["users", "add", "pat", "--role", "partner", .. connect]);
        Assert.Equal(1, partner.ExitCode);
        Assert.Contains("partner:", partner.Stderr, StringComparison.Ordinal);

        var disable = await CliProcess.RunAsync(dir.Path, Wait, ["users", "set", "bob", "--disable", .. connect]);
        Assert.True(disable.ExitCode == 0, disable.Stderr);
        Assert.Equal(HttpStatusCode.OK, await SignInAsync(hub.Ui!, "bob", "bob-password-123")); // refused: disabled
        var missing = await CliProcess.RunAsync(dir.Path, Wait, ["users", "set", "nobody", "--enable", .. connect]);
        Assert.Equal(1, missing.ExitCode);

        var list = await CliProcess.RunAsync(dir.Path, Wait, ["users", "list", "--json", .. connect]);
        Assert.True(list.ExitCode == 0, list.Stderr);
        using (var accounts = JsonDocument.Parse(list.Stdout))
        {
            var rows = accounts.RootElement.EnumerateArray().ToDictionary(a => a.GetProperty("name").GetString()!, a => a);
            Assert.Equal(["alice", "bob"], rows.Keys.Order());
            Assert.Equal("admin", rows["alice"].GetProperty("role").GetString());
            Assert.True(rows["bob"].GetProperty("disabled").GetBoolean());
            Assert.DoesNotContain(password, list.Stdout, StringComparison.Ordinal);
        }

        var audit = await CliProcess.RunAsync(dir.Path, Wait, ["audit", "--json", .. connect]);
        Assert.True(audit.ExitCode == 0, audit.Stderr);
        using var log = JsonDocument.Parse(audit.Stdout);
        var entries = log.RootElement.EnumerateArray().ToList();
        var actor = "cli:" + Environment.UserName;
        Assert.Contains(entries, e => e.GetProperty("actor").GetString() == actor && e.GetProperty("action").GetString() == "POST /api/operators" && e.GetProperty("status").GetInt32() == 201);
        Assert.Contains(entries, e => e.GetProperty("actor").GetString() == actor && e.GetProperty("action").GetString() == "POST /api/operators" && e.GetProperty("status").GetInt32() == 400);
        Assert.Contains(entries, e => e.GetProperty("actor").GetString() == actor && e.GetProperty("action").GetString() == "PUT /api/operators/bob");
        var table = await CliProcess.RunAsync(dir.Path, Wait, ["audit", "--limit", "5", .. connect]);
        Assert.True(table.ExitCode == 0, table.Stderr);
        Assert.Contains("PUT /api/operators/bob", table.Stdout, StringComparison.Ordinal);
    }

    private static async Task<HttpStatusCode> SignInAsync(Uri ui, string name, string password)
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = ui };
        var page = await browser.GetStringAsync(new Uri("/login", UriKind.Relative));
        var token = WebUtility.HtmlDecode(TokenField().Match(page).Groups[1].Value);
        using var form = new FormUrlEncodedContent([new("_handler", "login"), new("__RequestVerificationToken", token), new("Input.Name", name), new("Input.Password", password)]);
        using var response = await browser.PostAsync(new Uri("/login", UriKind.Relative), form);
        return response.StatusCode;
    }

    [GeneratedRegex(@"Password \(shown once\): (\S+)")]
    private static partial Regex PasswordLine();

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
