using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>
/// The web UI tests' world, started once for the class: a hub with its operator UI on a port of its own, two store edges
/// serving a deployed int8 model (so a customer has scores with reasons), two federated partners, the UI accounts of
/// every role, and Debian's headless Chromium driven by Playwright (never a downloaded browser).
/// </summary>
public sealed class WebUiFleet : IAsyncLifetime, IDisposable
{
    public const string OperatorToken = "web-ui-operator-token-0123456789";
    public const string Customer = "loyalty:L-ui-1";
    public const string Password = "correct-horse-battery";
    public static readonly string[] Stores = ["ui-store-1", "ui-store-2", "ui-store-3"];
    public static readonly string[] PartnerIds = ["brand-1", "brand-2"];
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _dir = new("web-ui");
    private readonly List<FederatedPartner> _partners = [];
    private IPlaywright? _playwright;

    public ModelFleet Fleet { get; private set; } = null!;

    public HubHost Hub => Fleet.Hub;

    /// <summary>A working directory for CLI calls and files.</summary>
    public string WorkDir => _dir.Path;

    /// <summary>The UI's base address.</summary>
    public Uri Ui { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where screenshots and the page timings go (kept after the run).</summary>
    public string Artifacts { get; } = ArtifactsDirectory();

    /// <summary>Lines for the test output collected while starting (a class fixture has no output helper).</summary>
    public List<string> Log { get; } = [];

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        Fleet = await ModelFleet.StartWithHubArgsAsync(_dir, OperatorToken, null, ["--Hub:Ui:Url=http://127.0.0.1:0"], Stores);
        Ui = Hub.Ui ?? throw new InvalidOperationException("the hub started without its web UI");
        foreach (var (name, role, partner) in new[] { ("admin", "admin", (string?)null), ("olivia", "operator", null), ("victor", "viewer", null), ("pat", "partner", "brand-1") })
        {
            using var created = await Hub.Operator.PostAsJsonAsync(new Uri("/api/operators", UriKind.Relative), new { name, role, password = Password, partner });
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        }

        // A model at every store, and one member buying at the first two: the hub's profile carries each store's scores and why.
        await Fleet.CliAsync(_dir.Path, "models", "register", ModelFleet.WriteModel(_dir.Sub("ui-1.onnx"), "ui-1", 7));
        await Fleet.CliAsync(_dir.Path, "models", "deploy", "ui-1");
        foreach (var store in Stores)
        {
            await Fleet.ServingAsync(store, "ui-1");
        }

        await Fleet.PurchaseAsync(Stores[0], "ui-p1", "L-ui-1", 120);
        await Fleet.PurchaseAsync(Stores[1], "ui-p2", "L-ui-1", 80);
        await Poll.UntilAsync(() => Hub.ProfileAsync(Customer),
            p => p is { } profile && profile.GetProperty("scores").GetArrayLength() == 4 &&
                 profile.GetProperty("scores").EnumerateArray().All(s => s.TryGetProperty("reasons", out _) && s.TryGetProperty("reasonsZh", out _)),
            Wait, "the hub to show both stores' scores with reasons");

        for (var i = 0; i < PartnerIds.Length; i++)
        {
            _partners.Add(await FederatedPartner.StartAsync(Hub, PartnerIds[i], FederatedPartner.SampleHistories(seed: 300 + i), new NullOutput()));
        }

        await Poll.UntilAsync(() => Task.FromResult(_partners.All(p => p.Runner.Connected)), Wait, "both partners to join the federation");

        _playwright = await Playwright.CreateAsync();
        const string chromium = "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"{chromium} is missing: install Debian's chromium (apt-get install -y chromium); the UI tests never download a browser");
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium, Headless = true });
        Log.Add($"fleet, accounts, model, scores, partners and browser ready in {clock.Elapsed.TotalSeconds:0.0} s; UI at {Ui}; artefacts in {Artifacts}");
    }

    /// <summary>A new browser session signed in as <paramref name="name"/> (through the sign-in form), on the page it lands on.</summary>
    public async Task<IPage> SignInAsync(string name, string? lang = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Ui.AbsoluteUri,
            Locale = lang ?? "en-US",
            ViewportSize = new ViewportSize { Width = 1360, Height = 900 },
        });
        var page = await context.NewPageAsync();
        page.Dialog += (_, dialog) => _ = dialog.AcceptAsync(); // data-confirm buttons
        await page.GotoAsync("/login");
        await page.FillAsync("#name", name);
        await page.FillAsync("#password", Password);
        await page.ClickAsync("[data-testid=sign-in]");
        await page.WaitForURLAsync(u => !u.Contains("/login", StringComparison.Ordinal));
        Assert.Equal($"{name} ", (await page.Locator("[data-testid=me]").InnerTextAsync())[..(name.Length + 1)]);
        return page;
    }

    /// <summary>Opens <paramref name="path"/> and returns how long it took until the load event (the page's figure for the note).</summary>
    public static async Task<double> OpenAsync(IPage page, string path)
    {
        var clock = Stopwatch.StartNew();
        var response = await page.GotoAsync(path, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        var ms = clock.Elapsed.TotalMilliseconds;
        Assert.True(response is not null && response.Ok, $"GET {path} -> {response?.Status}");
        return ms;
    }

    /// <summary>Saves a full-page screenshot as an artefact.</summary>
    public async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, name + ".png"), FullPage = true });

    /// <summary>GET on the hub's REST API with the operator token, as JSON.</summary>
    public async Task<JsonElement> ApiAsync(string path)
    {
        using var response = await Hub.Operator.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path} -> {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Appends one page's load time to the artefacts' timing file.</summary>
    public void RecordTiming(string page, double ms)
    {
        lock (Log)
        {
            File.AppendAllText(Path.Combine(Artifacts, "page-load-ms.txt"), string.Create(CultureInfo.InvariantCulture, $"{page}\t{ms:0}\n"));
            Log.Add(string.Create(CultureInfo.InvariantCulture, $"page {page}: {ms:0} ms"));
        }
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        foreach (var p in _partners)
        {
            await p.DisposeAsync();
        }

        if (Fleet is not null)
        {
            await Fleet.DisposeAsync();
        }

        _dir.Dispose();
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>The web UI tests' artefacts folder (created), without clearing it.</summary>
    public static string ArtifactsDirectoryPath()
    {
        var dir = Environment.GetEnvironmentVariable("EDGEPROFILE_TEST_ARTIFACTS");
        if (string.IsNullOrWhiteSpace(dir))
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "EdgeProfile.sln")))
            {
                root = root.Parent;
            }

            dir = Path.Combine(root?.FullName ?? Path.GetTempPath(), "TestResults");
        }

        var path = Path.Combine(dir, "web-ui");
        Directory.CreateDirectory(path);
        return path;
    }

    // EDGEPROFILE_TEST_ARTIFACTS, else TestResults/web-ui under the repository (ignored by git); a fresh timing file.
    private static string ArtifactsDirectory()
    {
        var path = ArtifactsDirectoryPath();
        File.Delete(Path.Combine(path, "page-load-ms.txt"));
        return path;
    }

    private sealed class NullOutput : ITestOutputHelper
    {
        public void WriteLine(string message)
        {
        }

        public void WriteLine(string format, params object[] args)
        {
        }
    }
}
