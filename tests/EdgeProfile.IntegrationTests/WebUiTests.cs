using System.Globalization;
using System.Text.Json;
using EdgeProfile.IntegrationTests.Infrastructure;
using Microsoft.Playwright;

namespace EdgeProfile.IntegrationTests;

/// <summary>
/// The operator web UI end to end in Debian's headless Chromium (Playwright, never a downloaded browser), against a real
/// hub with two stores serving a model and two federated partners: sign-in, a customer's scores with reasons in both
/// languages, a rule published in the editor that tags the customer, a small federated job and its curve, what a viewer
/// and a partner may not do, and every page with its figures traced to the API answer they came from. Screenshots and
/// page load times go to TestResults/web-ui (or $EDGEPROFILE_TEST_ARTIFACTS/web-ui).
/// </summary>
public sealed class WebUiTests(WebUiFleet world, ITestOutputHelper output) : IClassFixture<WebUiFleet>
{
    private const string Rule = """
        # Big baskets: more than 100 spent in the last 30 days.
        @rule big_basket
        @version 1
        @en "Spent more than 100 in the last 30 days"
        @zh "近30天消费超过100"
        tag(C, big_basket) :- feature(C, spend_30d, S), S > 100.
        """;

    [Fact]
    public async Task An_operator_finds_a_customer_by_loyalty_id_and_sees_each_score_with_its_reasons_and_shapley_bars_in_english_and_chinese()
    {
        Flush();
        var page = await world.SignInAsync("olivia");
        await WebUiFleet.OpenAsync(page, "/customers");
        await page.FillAsync("[data-testid=customer-search]", WebUiFleet.Customer);
        await page.ClickAsync("[data-testid=customer-go]");
        await page.WaitForSelectorAsync("[data-testid=scores]");
        var profile = await world.ApiAsync("/api/profiles/" + Uri.EscapeDataString(WebUiFleet.Customer));
        var scores = profile.GetProperty("scores").EnumerateArray().ToList();
        Assert.Equal(4, scores.Count);
        Assert.Equal(profile.GetProperty("profileId").GetString(), (await page.Locator("[data-testid=profile-id]").InnerTextAsync()).Trim());
        await AssertScoresAsync(page, scores, "reasons");
        await AssertShapleyAsync(page, "en");
        await world.ScreenshotAsync(page, "customer-en");

        // The same page in Chinese: the switch in the header, then the Chinese reasons the stores wrote.
        await page.ClickAsync("[data-testid=lang-zh]");
        await page.WaitForSelectorAsync("html[lang=zh-CN]");
        await AssertScoresAsync(page, scores, "reasonsZh");
        await AssertShapleyAsync(page, "zh-CN");
        Assert.Contains("客户", await page.Locator("header nav").InnerTextAsync(), StringComparison.Ordinal);
        await world.ScreenshotAsync(page, "customer-zh");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_operator_publishes_a_rule_from_the_editor_and_the_tag_appears_on_the_customer_with_the_rule_while_a_viewer_cannot_publish()
    {
        Flush();
        var page = await world.SignInAsync("olivia");
        await WebUiFleet.OpenAsync(page, "/rules");

        // Validation as you type: an unknown feature is reported at its line before anything is published.
        await page.FillAsync("#rule-text", Rule.Replace("spend_30d", "spend_3d", StringComparison.Ordinal));
        var error = page.Locator("#rule-errors[data-state=invalid] li.rule-error");
        await error.First.WaitForAsync();
        Assert.Equal("6", await error.First.GetAttributeAsync("data-line"));
        Assert.Contains("spend_3d", await error.First.InnerTextAsync(), StringComparison.Ordinal);
        await page.Locator("#rule-gutter .err").First.WaitForAsync();

        await page.FillAsync("#rule-text", Rule);
        await page.Locator("#rule-errors[data-state=valid]").WaitForAsync();
        var before = (await world.ApiAsync("/api/rules")).GetProperty("version").GetInt64();

        // The diff against the live set, then publish.
        await page.ClickAsync("[data-testid=diff-button]");
        var diff = page.Locator("[data-testid=diff]");
        await diff.WaitForAsync();
        Assert.Contains("tag(C, big_basket)", await diff.Locator(".add").AllInnerTextsAsync() is var added ? string.Join('\n', added) : "", StringComparison.Ordinal);
        await page.ClickAsync("[data-testid=publish]");
        await page.WaitForURLAsync(u => u.Contains("published=", StringComparison.Ordinal));
        var rules = await world.ApiAsync("/api/rules");
        var version = rules.GetProperty("version").GetInt64();
        Assert.Equal(before + 1, version);
        Assert.Contains($"v{version}", await page.Locator("[data-testid=flash]").InnerTextAsync(), StringComparison.Ordinal);

        // Watch it go live at both stores (the page refreshes itself while a store is behind).
        await Poll.UntilAsync(async () =>
            {
                await page.ReloadAsync();
                return await page.Locator("[data-testid=rule-stores] tr[data-live=live]").CountAsync();
            },
            n => n == WebUiFleet.Stores.Length, WebUiFleet.Wait, "both stores to show the new rule set as live");
        foreach (var store in WebUiFleet.Stores)
        {
            var row = page.Locator($"[data-testid=rule-stores] tr[data-store='{store}']");
            Assert.Equal(version.ToString(CultureInfo.InvariantCulture), await row.Locator("[data-field=version]").GetAttributeAsync("data-value"));
        }

        await world.ScreenshotAsync(page, "rules");

        // The tag reaches the hub's profile (store 1: 120 spent) and the customer page shows it with the rule.
        await Poll.UntilAsync(() => world.ApiAsync("/api/profiles/" + Uri.EscapeDataString(WebUiFleet.Customer)),
            p => p.GetProperty("tags").EnumerateArray().Any(t => t.GetProperty("name").GetString() == "big_basket"), WebUiFleet.Wait, "the big_basket tag at the hub");
        await WebUiFleet.OpenAsync(page, "/customers?key=" + Uri.EscapeDataString(WebUiFleet.Customer));
        var tag = page.Locator("[data-testid=tags] li[data-tag=big_basket]");
        Assert.Contains("big_basket", await tag.Locator("[data-field=rule]").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("Spent more than 100", await tag.Locator("[data-field=reason]").InnerTextAsync(), StringComparison.Ordinal);
        await world.ScreenshotAsync(page, "customer-tagged");

        // The change is in the audit log under the operator's name.
        var audit = await world.ApiAsync("/api/audit?limit=50");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("actor").GetString() == "ui:olivia (operator)" && e.GetProperty("action").GetString() == "POST /api/rules/publish" && e.GetProperty("status").GetInt32() == 201);
        await page.Context.CloseAsync();

        // A viewer sees the editor but cannot publish, roll back or erase.
        var viewer = await world.SignInAsync("victor");
        await WebUiFleet.OpenAsync(viewer, "/rules");
        Assert.True(await viewer.Locator("[data-testid=publish]").IsDisabledAsync());
        Assert.True(await viewer.Locator("[data-testid=rollback]").IsDisabledAsync());
        await viewer.Locator("[data-testid=publish]").ClickAsync(new LocatorClickOptions { Force = true, Timeout = 2000 });
        Assert.Equal(version, (await world.ApiAsync("/api/rules")).GetProperty("version").GetInt64());
        await WebUiFleet.OpenAsync(viewer, "/customers?key=" + Uri.EscapeDataString(WebUiFleet.Customer));
        Assert.Equal(0, await viewer.Locator("[data-testid=erase]:visible").CountAsync());
        await world.ScreenshotAsync(viewer, "rules-viewer");
        await viewer.Context.CloseAsync();
    }

    [Fact]
    public async Task An_operator_starts_a_small_federated_job_and_sees_its_curve_while_a_partner_sees_only_its_jobs_and_no_customer()
    {
        Flush();
        var page = await world.SignInAsync("olivia");
        await WebUiFleet.OpenAsync(page, "/fl");
        await page.FillAsync("[name='Input.Name']", "ui-repurchase");
        await page.FillAsync("[name='Input.Features']", "purchases_30d, spend_30d, lifetime_purchases, days_since_last_purchase");
        await page.FillAsync("[name='Input.Tasks']", "repurchase_30d:binary:purchase_next_30d");
        await page.FillAsync("[name='Input.Rounds']", "3");
        await page.FillAsync("[name='Input.MinClients']", "2");
        await page.FillAsync("[name='Input.RoundTimeoutSeconds']", "60");
        await page.FillAsync("[name='Input.Experts']", "1");
        await page.FillAsync("[name='Input.ExpertHidden']", "4");
        await page.FillAsync("[name='Input.Cutoffs']", "3");
        await page.FillAsync("[name='Input.Clients']", string.Join(",", WebUiFleet.PartnerIds));
        await page.ClickAsync("[data-testid=create-submit]");
        await page.WaitForURLAsync(u => u.Contains("/fl/job-", StringComparison.Ordinal));
        var id = (await page.Locator("[data-testid=job-id]").InnerTextAsync()).Trim();

        // The page refreshes itself while the job runs; wait for the end, then check the curve against the API.
        var job = await Poll.UntilAsync(() => world.ApiAsync("/api/fl/jobs/" + id),
            j => j.GetProperty("state").GetString() is "completed" or "failed" or "stopped", TimeSpan.FromSeconds(180), "the UI's job to end");
        Assert.True(job.GetProperty("state").GetString() == "completed", job.ToString());
        await WebUiFleet.OpenAsync(page, "/fl/" + id);
        Assert.Equal("completed", await page.Locator("[data-testid=state]").GetAttributeAsync("data-value"));
        var expected = new List<(string Metric, double Round, double Value)>();
        foreach (var round in job.GetProperty("roundHistory").EnumerateArray())
        {
            var r = round.GetProperty("round").GetInt32();
            foreach (var m in round.GetProperty("metrics").EnumerateObject())
            {
                if (r >= 1 && EdgeProfile.Hub.Ui.Components.Pages.FederationJob.IsCurveMetric(m.Name))
                {
                    expected.Add((m.Name, r, m.Value.GetDouble()));
                }
            }
        }

        Assert.NotEmpty(expected);
        Assert.Contains(expected, e => e.Metric.Contains("loss", StringComparison.Ordinal));
        Assert.Contains(expected, e => e.Metric.Contains("auc", StringComparison.Ordinal));
        var drawn = new List<(string Metric, double Round, double Value)>();
        foreach (var series in await page.Locator("[data-testid=fl-curve] g.series").AllAsync())
        {
            var name = (await series.GetAttributeAsync("data-name"))!;
            foreach (var point in await series.Locator("circle.point").AllAsync())
            {
                drawn.Add((name, Number(await point.GetAttributeAsync("data-x")), Number(await point.GetAttributeAsync("data-value"))));
            }
        }

        Assert.Equal(expected.OrderBy(e => e.Metric, StringComparer.Ordinal).ThenBy(e => e.Round), drawn.OrderBy(e => e.Metric, StringComparer.Ordinal).ThenBy(e => e.Round));
        Assert.True(expected.Select(e => e.Round).Distinct().Count() >= 2, "a curve needs at least two rounds");
        var participation = job.GetProperty("participation").GetArrayLength();
        Assert.Equal(participation, await page.Locator("[data-testid=participation] tr[data-client]").CountAsync());
        await world.ScreenshotAsync(page, "fl-job");
        await page.Context.CloseAsync();

        // A partner: its own jobs only, and no customer page.
        var partner = await world.SignInAsync("pat");
        Assert.EndsWith("/fl", new Uri(partner.Url).AbsolutePath, StringComparison.Ordinal);
        var listed = await partner.Locator("[data-testid=jobs] tr[data-job]").AllAsync();
        Assert.Contains(id, await Task.WhenAll(listed.Select(r => r.GetAttributeAsync("data-job"))));
        foreach (var row in listed)
        {
            var detail = await world.ApiAsync("/api/fl/jobs/" + await row.GetAttributeAsync("data-job"));
            Assert.Contains(detail.GetProperty("participation").EnumerateArray(), p => p.GetProperty("client").GetString() == "brand-1");
        }

        Assert.Equal(0, await partner.Locator("[data-testid=create-job]").CountAsync());

        // In the job: the shared curve, but only its own participation rows.
        await WebUiFleet.OpenAsync(partner, "/fl/" + id);
        Assert.True(await partner.Locator("[data-testid=fl-curve] circle.point").CountAsync() >= 2);
        var clients = await Task.WhenAll((await partner.Locator("[data-testid=participation] tr[data-client]").AllAsync()).Select(r => r.GetAttributeAsync("data-client")));
        Assert.NotEmpty(clients);
        Assert.All(clients, c => Assert.Equal("brand-1", c));
        await partner.GotoAsync("/customers?key=" + Uri.EscapeDataString(WebUiFleet.Customer));
        Assert.Contains("/denied", partner.Url, StringComparison.Ordinal);
        Assert.Equal(0, await partner.Locator("[data-testid=scores]").CountAsync());
        await partner.GotoAsync("/");
        Assert.Contains("/denied", partner.Url, StringComparison.Ordinal);
        await world.ScreenshotAsync(partner, "fl-partner");
        await partner.Context.CloseAsync();
    }

    [Fact]
    public async Task An_operator_deploys_a_model_to_one_store_and_rolls_it_back_defines_a_segment_exports_it_and_queries_the_graph()
    {
        Flush();
        await world.Fleet.CliAsync(world.WorkDir, "models", "register", ModelFleet.WriteModel(Path.Combine(world.WorkDir, "ui-2.onnx"), "ui-2", 8));
        var page = await world.SignInAsync("olivia");

        // Deploy ui-2 to one store only (the third, which has no customers of the other tests).
        await WebUiFleet.OpenAsync(page, "/models");
        await page.SelectOptionAsync("[data-testid=deploy] select[name=Version]", "ui-2");
        await page.CheckAsync("[data-testid=deploy] input[name=Target][value=some]");
        await page.CheckAsync("[data-testid=deploy] input[name=Stores][value=ui-store-3]");
        await page.ClickAsync("[data-testid=deploy-submit]");
        await page.WaitForURLAsync(u => u.Contains("done=deployed", StringComparison.Ordinal));
        var deployment = (await world.ApiAsync("/api/models/deployments"))[0];
        Assert.Equal("ui-2", deployment.GetProperty("version").GetString());
        Assert.Equal(["ui-store-3"], deployment.GetProperty("stores").EnumerateArray().Select(x => x.GetString()));
        await world.Fleet.ServingAsync("ui-store-3", "ui-2");
        await Poll.UntilAsync(async () =>
            {
                await page.ReloadAsync();
                return await page.Locator("[data-testid=model-status] tr[data-store=ui-store-3] [data-field=serving]").InnerTextAsync();
            },
            t => t.Contains("ui-2", StringComparison.Ordinal), WebUiFleet.Wait, "the models page to show ui-store-3 serving ui-2");
        Assert.Contains("ui-1", await page.Locator("[data-testid=model-status] tr[data-store=ui-store-1] [data-field=serving]").InnerTextAsync(), StringComparison.Ordinal);
        await world.ScreenshotAsync(page, "models-deployed");

        // Roll that store back: it serves ui-1 again.
        await page.SelectOptionAsync("select[name=RollbackStore]", "ui-store-3");
        await page.ClickAsync("[data-testid=rollback]");
        await page.WaitForLoadStateAsync();
        await world.Fleet.ServingAsync("ui-store-3", "ui-1");

        // A segment defined in the page: its count is the API's, and its CSV export has that many rows.
        await WebUiFleet.OpenAsync(page, "/segments");
        await page.FillAsync("[data-testid=define-name]", "ui_big");
        await page.FillAsync("[data-testid=define-expression]", "spend_30d >= 100");
        await page.FillAsync("[data-testid=define-description]", "Spent 100 or more in 30 days");
        await page.ClickAsync("[data-testid=define-submit]");
        await page.Locator("[data-testid=flash]").WaitForAsync();
        var segment = await world.ApiAsync("/api/segments/ui_big");
        var members = segment.GetProperty("members").GetInt64();
        Assert.True(members >= 1, segment.ToString());
        Assert.Equal(members.ToString(CultureInfo.InvariantCulture), await page.Locator("[data-testid=segments] tr[data-segment=ui_big] [data-field=count]").GetAttributeAsync("data-value"));
        var csv = await page.APIRequest.GetAsync((await page.Locator("[data-testid=export-ui_big]").GetAttributeAsync("href"))!);
        Assert.Equal(200, csv.Status);
        var rows = (await csv.TextAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(members, rows.Length - 1);
        await world.ScreenshotAsync(page, "segments-defined");

        // The knowledge graph: a query typed into the box answers with the API's rows.
        using (var knowledge = await world.Hub.Operator.PostAsync(new Uri("/api/graph/import/knowledge", UriKind.Relative),
                   new StringContent("Strollers needs CarSeatSafetyInfo\nPhones complementedBy PhoneCases\nStrollers needs RainCover\n")))
        {
            Assert.True(knowledge.IsSuccessStatusCode, await knowledge.Content.ReadAsStringAsync());
        }

        const string query = "MATCH (a)-[:NEEDS]->(b) RETURN a, b";
        await WebUiFleet.OpenAsync(page, "/graph");
        await page.FillAsync("[data-testid=query]", query);
        await page.ClickAsync("[data-testid=run-query]");
        await page.Locator("[data-testid=graph-results]").WaitForAsync();
        using var answer = await world.Hub.Operator.PostAsync(new Uri("/api/graph/query", UriKind.Relative), new StringContent(query));
        var result = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement;
        var apiRows = result.GetProperty("rows").EnumerateArray().Select(r => (r.GetProperty("a").ToString(), r.GetProperty("b").ToString())).ToList();
        Assert.Equal(2, apiRows.Count);
        var shown = new List<(string, string)>();
        foreach (var row in await page.Locator("[data-testid=graph-results] tr[data-row]").AllAsync())
        {
            shown.Add(((await row.Locator("[data-field=a]").GetAttributeAsync("data-value"))!, (await row.Locator("[data-field=b]").GetAttributeAsync("data-value"))!));
        }

        Assert.Equal(apiRows, shown);
        Assert.Equal(2, await page.Locator("[data-testid=graph-view] g.edge").CountAsync());
        await world.ScreenshotAsync(page, "graph-query");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Every_page_loads_for_an_admin_and_the_fleet_figures_are_the_apis()
    {
        Flush();
        var page = await world.SignInAsync("admin");
        string[] pages = ["/", "/customers?key=" + Uri.EscapeDataString(WebUiFleet.Customer), "/rules", "/models", "/fl", "/graph", "/segments", "/accounts", "/audit"];
        foreach (var path in pages)
        {
            // First visit warms the page's code; the second is the figure reported.
            await WebUiFleet.OpenAsync(page, path);
            var ms = await WebUiFleet.OpenAsync(page, path);
            world.RecordTiming(path, ms);
            output.WriteLine($"{path}: {ms:0} ms");
            // Every call a page makes answers; the one expected refusal: no recommender is published in this world.
            var errors = await page.Locator("[data-testid=api-error]").AllInnerTextsAsync();
            Assert.All(errors, e => Assert.Contains("/recommendations", e, StringComparison.Ordinal));
            var name = path == "/" ? "fleet" : path.TrimStart('/').Split('?')[0];
            await world.ScreenshotAsync(page, name);
        }

        // The fleet table is the API's /api/stores, row by row.
        await WebUiFleet.OpenAsync(page, "/");
        var stores = await world.ApiAsync("/api/stores");
        Assert.Contains(stores.EnumerateArray(), s => s.GetProperty("eventsStored").ValueKind == JsonValueKind.Number && s.GetProperty("eventsStored").GetInt64() > 0);
        Assert.Equal(stores.GetArrayLength(), await page.Locator("[data-testid=fleet] tr[data-store]").CountAsync());
        foreach (var s in stores.EnumerateArray())
        {
            var row = page.Locator($"[data-testid=fleet] tr[data-store='{s.GetProperty("storeId").GetString()}']");
            Assert.Equal(s.GetProperty("backlog").GetInt64().ToString("N0", CultureInfo.InvariantCulture), (await row.Locator("[data-field=backlog]").InnerTextAsync()).Trim());
            Assert.Equal(s.GetProperty("oldestBacklogAgeMs").GetInt64().ToString(CultureInfo.InvariantCulture), await row.Locator("[data-field=oldestBacklogAgeMs]").GetAttributeAsync("data-value"));
            foreach (var field in new[] { "eventsStored", "deadLettered", "lateEvents" })
            {
                var cell = row.Locator($"[data-field={field}]");
                if (s.GetProperty(field).ValueKind == JsonValueKind.Number)
                {
                    Assert.Equal(s.GetProperty(field).GetInt64().ToString(CultureInfo.InvariantCulture), await cell.GetAttributeAsync("data-value"));
                }
                else
                {
                    Assert.Equal("—", (await cell.InnerTextAsync()).Trim()); // a partner reports no ingest counters
                }
            }
        }

        // Partners upload nothing; the fleet shows them online while they are connected for federated jobs.
        var federating = (await world.ApiAsync("/api/fl/participants")).GetProperty("connected").EnumerateArray().Select(c => c.GetString()).ToList();
        foreach (var partnerId in WebUiFleet.PartnerIds)
        {
            Assert.Contains(partnerId, federating);
            Assert.Equal("online", await page.Locator($"[data-testid=fleet] tr[data-store='{partnerId}'] [data-field=state]").GetAttributeAsync("data-value"));
        }

        Assert.Equal(0, await page.Locator("[data-testid=fleet-warnings] li[data-store^=brand]").CountAsync());

        // Models: the registered model with the API's metrics; its importance bars are the API's.
        await WebUiFleet.OpenAsync(page, "/models?version=ui-1");
        Assert.Equal(1, await page.Locator("[data-testid=models] tr[data-version=ui-1]").CountAsync());
        var importance = await world.ApiAsync("/api/models/ui-1/importance");
        var apiValues = Numbers(importance).Select(v => Math.Round(v, 9)).ToHashSet();
        var bars = await page.Locator("[data-testid=importance] g.bar").AllAsync();
        Assert.NotEmpty(bars);
        foreach (var bar in bars)
        {
            Assert.Contains(Math.Round(Number(await bar.GetAttributeAsync("data-value")), 9), apiValues);
        }

        await page.Context.CloseAsync();
    }

    private static async Task AssertScoresAsync(IPage page, List<JsonElement> scores, string reasonsField)
    {
        foreach (var s in scores)
        {
            var (task, store) = (s.GetProperty("task").GetString()!, s.GetProperty("storeId").GetString()!);
            var row = page.Locator($"[data-testid=scores] tr[data-task='{task}'][data-store='{store}']");
            Assert.Equal(1, await row.CountAsync());
            Assert.Equal(s.GetProperty("value").GetDouble(), Number(await row.Locator("[data-field=value]").GetAttributeAsync("data-value")));
            var expected = s.GetProperty(reasonsField).EnumerateArray().Select(r => r.GetString()!).ToList();
            Assert.NotEmpty(expected);
            var shown = await page.Locator($"[data-testid='reasons-{task}-{store}'] li").AllInnerTextsAsync();
            Assert.Equal(expected, shown.Select(t => t.Trim()));
        }
    }

    private async Task AssertShapleyAsync(IPage page, string lang)
    {
        var answer = await world.ApiAsync($"/api/profiles/{Uri.EscapeDataString(WebUiFleet.Customer)}/explanations?task=repurchase_30d&lang={lang}");
        foreach (var decision in answer.GetProperty("decisions").EnumerateArray())
        {
            var store = decision.GetProperty("storeId").GetString()!;
            var phi = decision.GetProperty("explanations")[0].GetProperty("attributions").EnumerateArray()
                .Select(a => (a.GetProperty("group").GetString()!, a.GetProperty("phi").GetDouble())).ToList();
            var bars = page.Locator($"[data-testid='shapley-repurchase_30d-{store}'] g.bar");
            var drawn = new List<(string, double)>();
            foreach (var bar in await bars.AllAsync())
            {
                drawn.Add(((await bar.GetAttributeAsync("data-label"))!, Number(await bar.GetAttributeAsync("data-value"))));
            }

            Assert.NotEmpty(phi);
            Assert.Equal(phi, drawn);
        }
    }

    private static IEnumerable<double> Numbers(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => [e.GetDouble()],
        JsonValueKind.Object => e.EnumerateObject().SelectMany(p => Numbers(p.Value)),
        JsonValueKind.Array => e.EnumerateArray().SelectMany(Numbers),
        _ => [],
    };

    private static double Number(string? text) => double.Parse(text ?? "NaN", CultureInfo.InvariantCulture);

    private void Flush()
    {
        lock (world.Log)
        {
            foreach (var line in world.Log)
            {
                output.WriteLine(line);
            }

            world.Log.Clear();
        }
    }
}
