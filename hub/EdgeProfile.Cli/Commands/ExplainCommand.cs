using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeProfile.Cli.HubApi;
using Spectre.Console;

namespace EdgeProfile.Cli.Commands;

/// <summary>
/// <c>explain KEY [--task T] [--lang en|zh-CN]</c>: why a customer was scored as they were — at an edge (default; the
/// decision stored there, checked by recomputation, or the one in force <c>--at</c> a past time) or at the hub
/// (<c>--hub</c>: every store's latest explained decision).
/// </summary>
public static class ExplainCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Builds <c>explain</c>.</summary>
    public static Command Create()
    {
        var key = new Argument<string>("KEY") { Description = "A customer key, e.g. loyalty:L-1002, app:u-77, email:a@b.cn" };
        var task = new Option<string?>("--task") { Description = "Only this task (a unique prefix will do: churn → churn_90d)", HelpName = "TASK" };
        var label = new Option<string?>("--label") { Description = "For a multi-label task: this label instead of the top-scoring one", HelpName = "LABEL" };
        var lang = new Option<string>("--lang") { Description = "Language of the reasons: en or zh-CN [default en]", HelpName = "LANG", DefaultValueFactory = _ => "en" };
        var at = new Option<string?>("--at") { Description = "Edge only: the decision in force at this time (RFC 3339), from the edge's decision history", HelpName = "TIME" };
        var edge = new Option<string>("--edge") { Description = $"The edge's local API [default {FeaturesEdgeCommands.DefaultEdgeUrl}]", HelpName = "URL", DefaultValueFactory = _ => FeaturesEdgeCommands.DefaultEdgeUrl };
        var store = new Option<string?>("--store") { Description = "Hub only: only this store's decision", HelpName = "STORE" };
        var method = new Option<string?>("--method") { Description = "Edge only: a second opinion on the decision, computed now: lime or kernel_shap", HelpName = "METHOD" };
        var json = new Option<bool>("--json") { Description = "Print the JSON answer" };
        var hub = new HubConnectionOptions();
        var command = new Command("explain", "Why a customer got their scores: attributions per feature group and business-language reasons (en, zh-CN)")
        {
            key, task, label, lang, at, edge, store, method, json,
        };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            var customerKey = r.GetValue(key)!.Trim();
            if (!customerKey.Contains(':', StringComparison.Ordinal))
            {
                throw new CliException($"'{customerKey}' is not a customer key: expected kind:value, e.g. loyalty:L-1002 or app:u-77", ExitCodes.Usage);
            }

            var language = r.GetValue(lang)!;
            if (!Core.Explanations.ReasonLanguages.TryParse(language, out _))
            {
                throw new CliException($"--lang '{language}' is not supported: use en or zh-CN", ExitCodes.Usage);
            }

            bool atHub = r.GetResult(hub.Hub) is { Implicit: false };
            string body;
            if (atHub)
            {
                if (r.GetValue(at) is not null || r.GetValue(method) is not null)
                {
                    throw new CliException("--at and --method work on an edge's stored decisions: use them with --edge, not --hub", ExitCodes.Usage);
                }

                using var client = hub.CreateClient(r);
                body = await client.GetExplanationsAsync(customerKey, r.GetValue(task), language, r.GetValue(store), ct).ConfigureAwait(false);
            }
            else
            {
                body = await FromEdgeAsync(r.GetValue(edge)!, customerKey, r.GetValue(task), r.GetValue(label), language, r.GetValue(at), r.GetValue(method), ct).ConfigureAwait(false);
            }

            using var doc = JsonDocument.Parse(body);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(doc.RootElement, Indented));
                return ExitCodes.Ok;
            }

            if (Console.IsOutputRedirected)
            {
                AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 200);
            }

            if (atHub)
            {
                foreach (var decision in doc.RootElement.GetProperty("decisions").EnumerateArray())
                {
                    Write(decision, decision.GetProperty("storeId").GetString(), null);
                }
            }
            else
            {
                var root = doc.RootElement;
                Write(root, root.GetProperty("storeId").GetString(), root.GetProperty("reproduced"));
            }

            return ExitCodes.Ok;
        });

        return command;
    }

    private static async Task<string> FromEdgeAsync(string edgeUrl, string key, string? task, string? label, string lang, string? at, string? method, CancellationToken ct)
    {
        var baseUrl = edgeUrl.TrimEnd('/');
        var query = new List<string> { "lang=" + Uri.EscapeDataString(lang) };
        if (task is not null)
        {
            query.Add("task=" + Uri.EscapeDataString(task));
        }

        if (label is not null)
        {
            query.Add("label=" + Uri.EscapeDataString(label));
        }

        if (at is not null)
        {
            query.Add("at=" + Uri.EscapeDataString(at));
        }

        if (method is not null)
        {
            query.Add("method=" + Uri.EscapeDataString(method));
        }

        var url = $"{baseUrl}/api/profiles/{Uri.EscapeDataString(key)}/explanations?{string.Join('&', query)}";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(new Uri(url), ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException($"cannot reach the edge at {baseUrl}: {ex.Message}", ex);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return body;
            }

            string message = body;
            try
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.TryGetProperty("error", out var e))
                {
                    message = e.GetString() ?? body;
                }
            }
            catch (JsonException)
            {
                // Not JSON: show it as it came.
            }

            throw new CliException($"the edge at {baseUrl} could not explain {key}: {message}");
        }
    }

    /// <summary>One decision: its scores' reasons, then the attributions as a table.</summary>
    private static void Write(JsonElement decision, string? storeId, JsonElement? reproduced)
    {
        var scoredAt = decision.TryGetProperty("decision", out var inner) ? inner.GetProperty("scoredAt") : decision.GetProperty("scoredAt");
        var model = decision.TryGetProperty("decision", out var inner2) ? inner2.GetProperty("model") : decision.GetProperty("model");
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(storeId ?? "")}[/] model {Markup.Escape(model.GetString() ?? "")}, scored {scoredAt.GetDateTimeOffset().ToString("u", CultureInfo.InvariantCulture)}");
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(decision.GetProperty("method").GetString() ?? "")}: {Markup.Escape(decision.GetProperty("background").GetString() ?? "")}[/]");
        if (reproduced is { } rep && rep.TryGetProperty("equal", out var equal) && equal.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            AnsiConsole.MarkupLine(equal.GetBoolean()
                ? "[green]reproduced[/]: recomputing from the stored row with the archived model gives the same numbers"
                : $"[red]not reproduced[/]: recomputation differs by up to {rep.GetProperty("maxDifference").GetDouble().ToString("G3", CultureInfo.InvariantCulture)}");
        }

        foreach (var output in decision.GetProperty("explanations").EnumerateArray())
        {
            var name = output.GetProperty("task").GetString() ?? "";
            if (output.TryGetProperty("label", out var l) && l.ValueKind == JsonValueKind.String)
            {
                name += $" [{l.GetString()}]";
            }

            var score = output.TryGetProperty("score", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : output.GetProperty("output").GetDouble();
            var fit = output.TryGetProperty("surrogateFit", out var r2) && r2.ValueKind == JsonValueKind.Number
                ? $", local surrogate R² {r2.GetDouble().ToString("0.###", CultureInfo.InvariantCulture)} (LIME: not Shapley values)"
                : "";
            AnsiConsole.MarkupLine($"\n[bold]{Markup.Escape(name)}[/] = {score.ToString("0.####", CultureInfo.InvariantCulture)} (base {output.GetProperty("base").GetDouble().ToString("0.####", CultureInfo.InvariantCulture)}, additivity error {output.GetProperty("additivityError").GetDouble().ToString("G2", CultureInfo.InvariantCulture)}{Markup.Escape(fit)})");
            foreach (var reason in output.GetProperty("reasons").EnumerateArray())
            {
                AnsiConsole.MarkupLine($"  • {Markup.Escape(reason.GetProperty("text").GetString() ?? "")}");
            }

            var table = new Table().Border(TableBorder.Rounded).AddColumn("Group").AddColumn(new TableColumn("φ").RightAligned()).AddColumn("Features");
            foreach (var a in output.GetProperty("attributions").EnumerateArray())
            {
                var phi = a.GetProperty("phi").GetDouble();
                table.AddRow(
                    Markup.Escape(a.GetProperty("group").GetString() ?? ""),
                    (phi > 0 ? "[red]" : phi < 0 ? "[green]" : "[grey]") + phi.ToString("+0.0000;-0.0000;0", CultureInfo.InvariantCulture) + "[/]",
                    Markup.Escape(string.Join(", ", a.GetProperty("features").EnumerateArray().Select(f => f.GetString()))));
            }

            AnsiConsole.Write(table);
        }
    }
}
