// bench-web-ui: how long each operator page takes on the demo data set, in Debian's headless Chromium, against the same
// page's data fetched straight from the REST API (the peer) in the same run.
//
//   dotnet run -c Release --project bench/EdgeProfile.Bench.WebUi [-- --rounds 10 --events 20000]
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

var rounds = Arg("--rounds", 10);
var events = Arg("--events", 20_000);
var data = Path.Combine(Path.GetTempPath(), "bench-web-ui-" + Guid.NewGuid().ToString("N")[..8]);
var cli = Path.Combine(AppContext.BaseDirectory, "edgeprofile.dll");
var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
foreach (var a in new[] { cli, "demo", "--keep-running", "--events", events.ToString(CultureInfo.InvariantCulture), "--data-dir", data,
             "--hub-port", "0", "--ui-port", "0", "--mqtt-base-port", "0", "--http-base-port", "0" })
{
    psi.ArgumentList.Add(a);
}

psi.Environment["COLUMNS"] = "400";
using var demo = Process.Start(psi) ?? throw new InvalidOperationException("could not start the demo");
var lines = new List<string>();
var ready = new TaskCompletionSource();
demo.OutputDataReceived += (_, e) =>
{
    if (e.Data is null)
    {
        ready.TrySetException(new InvalidOperationException("the demo ended early:\n" + string.Join('\n', lines.TakeLast(30))));
        return;
    }

    lock (lines)
    {
        lines.Add(e.Data);
    }

    if (e.Data.Contains("keep running", StringComparison.Ordinal))
    {
        ready.TrySetResult();
    }
};
demo.ErrorDataReceived += (_, _) => { };
demo.BeginOutputReadLine();
demo.BeginErrorReadLine();
try
{
    Console.Error.WriteLine($"demo with {events:N0} events starting ({data}) ...");
    await ready.Task.WaitAsync(TimeSpan.FromMinutes(5));
    string all;
    lock (lines)
    {
        all = string.Join('\n', lines);
    }

    var ui = Regex.Match(all, @"Operator UI\s+(http://\S+) — admin / (\S+)");
    var hub = Regex.Match(all, @"Hub\s+(http://127\.0\.0\.1:\d+) \(REST");
    var token = Regex.Match(all, @"Operator token\s+(\S+)");
    var key = Regex.Match(all, @"profiles get (\S+)");
    if (!ui.Success || !hub.Success || !token.Success || !key.Success)
    {
        throw new InvalidOperationException("could not read the demo's addresses:\n" + all);
    }

    var (uiUrl, password, hubUrl, customer) = (ui.Groups[1].Value, ui.Groups[2].Value, hub.Groups[1].Value, key.Groups[1].Value);
    var k = Uri.EscapeDataString(customer);

    // Each page and the API calls it makes for its figures (the peer fetches the same, concurrently, with HttpClient).
    var pages = new (string Page, string[] Api)[]
    {
        ("/", ["/api/stores", "/api/models/status", "/api/rules"]),
        ($"/customers?key={k}", [$"/api/profiles/{k}", $"/api/identity/{k}", $"/api/consent/{k}", $"/api/profiles/{k}/recommendations?k=10&lang=en"]),
        ("/rules", ["/api/rules"]),
        ("/models", ["/api/models", "/api/models/status", "/api/models/deployments", "/api/stores"]),
        ("/fl", ["/api/fl/jobs", "/api/features"]),
        ("/graph", ["/api/graph/stats"]),
        ("/segments", ["/api/segments"]),
        ("/accounts", ["/api/operators"]),
        ("/audit", ["/api/audit?limit=100"]),
    };

    using var http = new HttpClient { BaseAddress = new Uri(hubUrl) };
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Groups[1].Value);
    using var playwright = await Playwright.CreateAsync();
    await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = "/usr/bin/chromium", Headless = true });
    var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = uiUrl });
    await page.GotoAsync("/login");
    await page.FillAsync("#name", "admin");
    await page.FillAsync("#password", password);
    await page.ClickAsync("[data-testid=sign-in]");
    await page.WaitForURLAsync(u => !u.Contains("/login", StringComparison.Ordinal));

    Console.WriteLine($"Demo data set: {events:N0} events, customer {customer}; {rounds} loads per page after one warm-up; Chromium {browser.Version}");
    Console.WriteLine();
    Console.WriteLine("| page | UI p50 ms | UI max ms | API data p50 ms (peer) | UI / API |");
    Console.WriteLine("|---|---:|---:|---:|---:|");
    foreach (var (path, api) in pages)
    {
        await page.GotoAsync(path);
        await Fetch(http, api);
        var uiTimes = new List<double>();
        var apiTimes = new List<double>();
        for (var i = 0; i < rounds; i++)
        {
            var clock = Stopwatch.StartNew();
            var response = await page.GotoAsync(path, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
            uiTimes.Add(clock.Elapsed.TotalMilliseconds);
            if (response is null || !response.Ok)
            {
                throw new InvalidOperationException($"{path}: HTTP {response?.Status}");
            }

            clock.Restart();
            await Fetch(http, api);
            apiTimes.Add(clock.Elapsed.TotalMilliseconds);
        }

        var (u, a) = (Median(uiTimes), Median(apiTimes));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| `{(path.Contains('?', StringComparison.Ordinal) ? path[..path.IndexOf('?', StringComparison.Ordinal)] : path)}` | {u:0} | {uiTimes.Max():0} | {a:0.0} | {u / a:0.0}× |"));
    }
}
finally
{
    if (!demo.HasExited)
    {
        demo.Kill(entireProcessTree: true);
        await demo.WaitForExitAsync();
    }

    try
    {
        Directory.Delete(data, recursive: true);
    }
    catch (IOException)
    {
    }
}

static async Task Fetch(HttpClient http, string[] paths)
{
    var answers = await Task.WhenAll(paths.Select(p => http.GetAsync(new Uri(p, UriKind.Relative))));
    foreach (var answer in answers)
    {
        await answer.Content.ReadAsByteArrayAsync();
        answer.Dispose();
    }
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var v) ? v : fallback;
}
