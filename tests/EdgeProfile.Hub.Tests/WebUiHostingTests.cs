using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeProfile.Hub.Ui;

namespace EdgeProfile.Hub.Tests;

/// <summary>
/// The operator web UI's hosting without a browser: its own port, accounts with hashed passwords, sign-in with antiforgery
/// and throttling, roles checked at every request, and the audit log of every API change with its actor.
/// </summary>
public sealed partial class WebUiHostingTests
{
    private static readonly string[] UiArgs = ["--Hub:Ui:Url=http://127.0.0.1:0"];

    [Fact]
    public async Task The_ui_has_a_port_of_its_own_and_each_port_serves_only_its_side()
    {
        await using var hub = await TestHub.StartAsync(args: UiArgs);
        var ui = hub.App.UiAddress();
        Assert.NotNull(ui);
        Assert.NotEqual(hub.Address.Port, ui!.Port);

        using var browser = Client(ui);
        using (var home = await browser.GetAsync(new Uri("/", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
            Assert.StartsWith("/login", home.Headers.Location!.OriginalString.Replace(ui.AbsoluteUri.TrimEnd('/'), "", StringComparison.Ordinal), StringComparison.Ordinal);
        }

        using (var login = await browser.GetAsync(new Uri("/login", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
            Assert.Equal("DENY", login.Headers.GetValues("X-Frame-Options").Single());
            Assert.Contains("frame-ancestors 'none'", login.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        }

        using (var apiOnUi = await browser.GetAsync(new Uri("/api/health", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, apiOnUi.StatusCode);
        }

        using var api = Client(hub.Address);
        using (var uiOnApi = await api.GetAsync(new Uri("/login", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, uiOnApi.StatusCode);
        }

        using (var health = await api.GetAsync(new Uri("/api/health", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        // Without Hub:Ui:Url there is no UI at all.
        await using var bare = await TestHub.StartAsync();
        Assert.Null(bare.App.UiAddress());
    }

    [Fact]
    public async Task Accounts_keep_only_a_salted_hash_and_refuse_bad_names_roles_passwords_and_partners()
    {
        await using var hub = await TestHub.StartAsync(args: UiArgs);
        using (var created = await hub.Http.PostAsJsonAsync("/api/operators", new { name = "alice", role = "Operator", password = "a-long-password" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var body = await created.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("operator", body.GetProperty("role").GetString());
            Assert.False(body.TryGetProperty("passwordHash", out _));
        }

        using (var again = await hub.Http.PostAsJsonAsync("/api/operators", new { name = "alice", role = "viewer", password = "another-password" }))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }

        using (var bad = await hub.Http.PostAsJsonAsync("/api/operators", new { name = "bad name!", role = "boss", password = "short" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            var error = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString()!;
            Assert.Contains("name:", error, StringComparison.Ordinal);
            Assert.Contains("role:", error, StringComparison.Ordinal);
            Assert.Contains("password:", error, StringComparison.Ordinal);
        }

        using (var partner = await hub.Http.PostAsJsonAsync("/api/operators", new { name = "pat", role = "partner", password = "a-long-password" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, partner.StatusCode);
            Assert.Contains("partner:", await partner.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var partner = await hub.Http.PostAsJsonAsync("/api/operators", new { name = "pat", role = "partner", password = "a-long-password", partner = "brand-1" }))
        {
            Assert.Equal(HttpStatusCode.Created, partner.StatusCode);
        }

        var list = await hub.Http.GetFromJsonAsync<JsonElement>("/api/operators");
        Assert.Equal(["alice", "pat"], list.EnumerateArray().Select(a => a.GetProperty("name").GetString()));
        Assert.Equal("brand-1", list[1].GetProperty("partner").GetString());
        Assert.DoesNotContain("a-long-password", list.GetRawText(), StringComparison.Ordinal);

        // The stored hash is ASP.NET Core Identity's v3 format (PBKDF2, salted): two equal passwords hash differently.
        using (var connection = TestHub.OpenDatabase(hub.DataDir))
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT password_hash FROM operator_accounts ORDER BY name";
            using var reader = command.ExecuteReader();
            var hashes = new List<string>();
            while (reader.Read())
            {
                hashes.Add(reader.GetString(0));
            }

            Assert.Equal(2, hashes.Count);
            Assert.All(hashes, h => Assert.Equal(0x01, Convert.FromBase64String(h)[0]));
            Assert.NotEqual(hashes[0], hashes[1]);
        }

        using (var missing = await hub.Http.PutAsJsonAsync("/api/operators/nobody", new { disabled = true }))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using (var toPartner = await hub.Http.PutAsJsonAsync("/api/operators/alice", new { role = "partner" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, toPartner.StatusCode);
        }
    }

    [Fact]
    public async Task Sign_in_needs_the_antiforgery_token_and_the_right_password_and_is_throttled_and_a_disabled_account_is_signed_out()
    {
        await using var hub = await TestHub.StartAsync(args: UiArgs);
        using (var created = await hub.Http.PostAsJsonAsync("/api/operators", new { name = "victor", role = "viewer", password = "victor-password" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var ui = hub.App.UiAddress()!;
        using var browser = Client(ui);

        // A post without the form's antiforgery token is refused before any password check.
        using (var forged = await browser.PostAsync(new Uri("/login", UriKind.Relative), Form(("_handler", "login"), ("Input.Name", "victor"), ("Input.Password", "victor-password"))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        }

        var wrong = await SignInAsync(browser, "victor", "not-the-password");
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Contains("data-testid=\"login-error\"", wrong.Body, StringComparison.Ordinal);

        var signedIn = await SignInAsync(browser, "victor", "victor-password");
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var fleet = await browser.GetStringAsync(new Uri("/", UriKind.Relative));
        Assert.Contains("victor (viewer)", fleet, StringComparison.Ordinal);

        // Admin pages are closed to a viewer.
        using (var accounts = await browser.GetAsync(new Uri("/audit", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Redirect, accounts.StatusCode);
            Assert.Contains("/denied", accounts.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }

        // Disabled: signed out at the next request.
        using (var disable = await hub.Http.PutAsJsonAsync("/api/operators/victor", new { disabled = true }))
        {
            Assert.Equal(HttpStatusCode.OK, disable.StatusCode);
        }

        using (var after = await browser.GetAsync(new Uri("/", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
            Assert.Contains("/login", after.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }

        // Five wrong passwords lock the name, even for the right one.
        using var other = Client(ui);
        using (var created = await hub.Http.PostAsJsonAsync("/api/operators", new { name = "wendy", role = "viewer", password = "wendy-password" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        for (var i = 0; i < 5; i++)
        {
            await SignInAsync(other, "wendy", "guess-" + i);
        }

        var locked = await SignInAsync(other, "wendy", "wendy-password");
        Assert.Equal(HttpStatusCode.OK, locked.StatusCode);
        Assert.Contains("Too many failed attempts", locked.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_api_change_is_in_the_audit_log_with_its_actor_and_reads_are_not()
    {
        await using var hub = await TestHub.StartAsync();
        using (var segment = await hub.Http.PutAsJsonAsync("/api/segments/big", new { expression = "spend_30d >= 100" }))
        {
            Assert.True(segment.IsSuccessStatusCode, await segment.Content.ReadAsStringAsync());
        }

        using (var request = new HttpRequestMessage(HttpMethod.Put, "/api/segments/bad") { Content = JsonContent.Create(new { expression = "spend_30d >>> 1" }) })
        {
            request.Headers.Add("X-EdgeProfile-Actor", "ui:olivia (operator)");
            using var refused = await hub.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        using (var validate = await hub.Http.PostAsync("/api/rules/validate", new StringContent("")))
        {
            Assert.True(validate.IsSuccessStatusCode);
        }

        await hub.Http.GetStringAsync("/api/segments");
        var audit = await hub.Http.GetFromJsonAsync<JsonElement>("/api/audit?limit=10");
        var entries = audit.EnumerateArray().ToList();
        Assert.Equal(2, entries.Count);
        Assert.Equal("ui:olivia (operator)", entries[0].GetProperty("actor").GetString());
        Assert.Equal("PUT /api/segments/bad", entries[0].GetProperty("action").GetString());
        Assert.Equal(400, entries[0].GetProperty("status").GetInt32());
        Assert.Equal("operator-token", entries[1].GetProperty("actor").GetString());
        Assert.Equal("segments/big", entries[1].GetProperty("target").GetString());
        Assert.Equal(201, entries[1].GetProperty("status").GetInt32()); // created
        Assert.True(entries[0].GetProperty("seq").GetInt64() > entries[1].GetProperty("seq").GetInt64());

        // A change on a customer: logged by route template, the customer only as a keyed hash (never the key itself).
        using (var consent = await hub.Http.PutAsJsonAsync("/api/consent/loyalty:L-SECRET9", new { training = false }))
        {
            Assert.True(consent.IsSuccessStatusCode, await consent.Content.ReadAsStringAsync());
        }

        var onCustomer = (await hub.Http.GetFromJsonAsync<JsonElement>("/api/audit?limit=1"))[0];
        Assert.DoesNotContain("SECRET9", onCustomer.GetRawText(), StringComparison.Ordinal);
        Assert.Matches("^PUT /api/consent/\\{", onCustomer.GetProperty("action").GetString()!);
        Assert.Matches("^customer [0-9a-f]{16}$", onCustomer.GetProperty("target").GetString()!);

        var older = await hub.Http.GetFromJsonAsync<JsonElement>($"/api/audit?limit=10&before={entries[0].GetProperty("seq").GetInt64()}");
        Assert.Equal(1, older.GetArrayLength());
        Assert.Equal(3, (await hub.Http.GetFromJsonAsync<JsonElement>("/api/audit?limit=10")).GetArrayLength());
        using var tooMany = await hub.Http.GetAsync("/api/audit?limit=5000");
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
    }

    [Fact]
    public async Task A_bad_ui_url_fails_at_start_naming_the_key()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var hub = await TestHub.StartAsync(args: ["--Hub:Ui:Url=not a url"]);
        });
        Assert.Contains("Hub:Ui:Url", error.Message, StringComparison.Ordinal);
    }

    private static HttpClient Client(Uri address) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() }) { BaseAddress = address };

    private static FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)));

    private static async Task<(HttpStatusCode StatusCode, string Body)> SignInAsync(HttpClient browser, string name, string password)
    {
        var page = await browser.GetStringAsync(new Uri("/login", UriKind.Relative));
        var token = TokenPattern().Match(page).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(token), "no antiforgery token on the sign-in page");
        using var response = await browser.PostAsync(new Uri("/login", UriKind.Relative),
            Form(("_handler", "login"), ("__RequestVerificationToken", WebUtility.HtmlDecode(token)), ("Input.Name", name), ("Input.Password", password)));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
