using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using EdgeProfile.IntegrationTests.Infrastructure;
using Microsoft.Playwright;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// The operator UI on the demo's own data set: <c>edgeprofile demo --keep-running</c> as a child process, signed in
/// with the admin password it prints, every page opened in Debian's headless Chromium. Each page must answer without an
/// API error (the demo publishes a recommender, so even the customer page's recommendations answer); the fleet's counts
/// and a customer's recommendations are the API's; the load times are recorded for the note
/// (TestResults/web-ui/demo-page-load-ms.txt), not asserted.
/// </summary>
public sealed partial class WebUiDemoTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_page_opens_on_the_demo_data_set_with_the_figures_of_its_api_and_its_load_time_recorded()
    {
        using var dir = new TempDirectory("web-ui-demo");
        var psi = CliProcess.StartInfo(dir.Path, "demo", "--keep-running", "--hub-port", "0", "--ui-port", "0",
            "--mqtt-base-port", "0", "--http-base-port", "0", "--data-dir", dir.Sub("data"));
        using var demo = Process.Start(psi) ?? throw new InvalidOperationException("could not start the demo");
        var lines = new List<string>();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        demo.OutputDataReceived += (_, e) =>
        {
            lock (lines)
            {
                lines.Add(e.Data ?? "");
            }

            if (e.Data is null)
            {
                ready.TrySetException(new InvalidOperationException("the demo ended before it was ready"));
            }
            else if (e.Data.Contains("keep running", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        demo.ErrorDataReceived += (_, _) => { };
        demo.BeginOutputReadLine();
        demo.BeginErrorReadLine();
        try
        {
            try
            {
                await ready.Task.WaitAsync(TimeSpan.FromSeconds(150));
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
            {
                lock (lines)
                {
                    Assert.Fail($"the demo did not come up: {ex.Message}\n{string.Join('\n', lines.TakeLast(40))}");
                }
            }

            string all;
            lock (lines)
            {
                all = string.Join('\n', lines);
            }

            var ui = UiLine().Match(all);
            var hub = HubLine().Match(all);
            var token = TokenLine().Match(all);
            var key = KeyLine().Match(all);
            Assert.True(ui.Success && hub.Success && token.Success && key.Success, "the demo's addresses are missing:\n" + all);
            using var api = new HttpClient { BaseAddress = new Uri(hub.Groups[1].Value) };
            api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token.Groups[1].Value);

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = "/usr/bin/chromium", Headless = true });
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = ui.Groups[1].Value });
            await page.GotoAsync("/login");
            await page.FillAsync("#name", "admin");
            await page.FillAsync("#password", ui.Groups[2].Value);
            await page.ClickAsync("[data-testid=sign-in]");
            await page.WaitForURLAsync(u => !u.Contains("/login", StringComparison.Ordinal));

            var customer = key.Groups[1].Value;
            var timings = new List<string>();
            foreach (var path in new[] { "/", "/customers?key=" + Uri.EscapeDataString(customer), "/rules", "/models", "/fl", "/graph", "/segments", "/accounts", "/audit" })
            {
                await page.GotoAsync(path);
                var clock = Stopwatch.StartNew();
                var response = await page.GotoAsync(path, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
                var ms = clock.Elapsed.TotalMilliseconds;
                Assert.True(response is not null && response.Ok, $"GET {path} -> {response?.Status}");
                Assert.Empty(await page.Locator("[data-testid=api-error]").AllInnerTextsAsync());
                timings.Add(string.Create(CultureInfo.InvariantCulture, $"{path.Split('?')[0]}\t{ms:0}"));
                output.WriteLine($"{path}: {ms:0} ms");
            }

            // The demo's figures: the fleet is the API's stores (all four edges report counters), the customer page
            // shows that customer's recommendations as the API ranks them.
            await page.GotoAsync("/");
            var stores = System.Text.Json.JsonDocument.Parse(await api.GetStringAsync(new Uri("/api/stores", UriKind.Relative))).RootElement;
            Assert.Equal(stores.GetArrayLength(), await page.Locator("[data-testid=fleet] tr[data-store]").CountAsync());
            foreach (var s in stores.EnumerateArray())
            {
                var row = page.Locator($"[data-testid=fleet] tr[data-store='{s.GetProperty("storeId").GetString()}']");
                Assert.Equal(s.GetProperty("eventsStored").GetInt64().ToString(CultureInfo.InvariantCulture), await row.Locator("[data-field=eventsStored]").GetAttributeAsync("data-value"));
            }

            await page.GotoAsync("/customers?key=" + Uri.EscapeDataString(customer));
            var recommended = System.Text.Json.JsonDocument.Parse(await api.GetStringAsync(new Uri($"/api/profiles/{Uri.EscapeDataString(customer)}/recommendations?k=10&lang=en", UriKind.Relative))).RootElement;
            var skus = recommended.GetProperty("recommendations").EnumerateArray().Select(i => i.GetProperty("sku").GetString()).ToList();
            Assert.NotEmpty(skus);
            Assert.Equal(skus, await Task.WhenAll((await page.Locator("[data-testid=recommendations] tr[data-sku]").AllAsync()).Select(r => r.GetAttributeAsync("data-sku"))));

            var artifacts = Path.Combine(WebUiFleet.ArtifactsDirectoryPath(), "demo-page-load-ms.txt");
            await File.WriteAllLinesAsync(artifacts, timings);
        }
        finally
        {
            if (!demo.HasExited)
            {
                demo.Kill(entireProcessTree: true);
                await demo.WaitForExitAsync();
            }
        }
    }

    [GeneratedRegex(@"Operator UI\s+(http://\S+) — admin / (\S+)")]
    private static partial Regex UiLine();

    [GeneratedRegex(@"Hub\s+(http://127\.0\.0\.1:\d+) \(REST")]
    private static partial Regex HubLine();

    [GeneratedRegex(@"Operator token\s+(\S+)")]
    private static partial Regex TokenLine();

    [GeneratedRegex(@"profiles get (\S+)")]
    private static partial Regex KeyLine();
}
