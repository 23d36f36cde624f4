using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.Cli.HubApi;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using EdgeProfile.Hub.Features;
using Spectre.Console;

namespace EdgeProfile.Cli.Commands;

/// <summary>
/// The hub's feature-definition registry: <c>features list</c>, <c>features describe NAME</c> and
/// <c>features register FILE</c>. Each takes <c>--hub</c>/<c>--token</c> and <c>--json</c>.
/// </summary>
public static class FeaturesRegistryCommands
{
    /// <summary><c>features list</c>: the current definitions, as a table with the registry revision in its title.</summary>
    public static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print the hub's FeatureSet JSON instead of a table" };
        var hub = new HubConnectionOptions();
        var list = new Command("list", "List the hub's current feature definitions: version, window, aggregation, event types, TTL, owner") { json };
        hub.AddTo(list);
        list.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var (set, raw) = await client.GetFeaturesAsync(ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(raw));
                return ExitCodes.Ok;
            }

            var table = new Table().Border(TableBorder.Rounded)
                .Title($"Feature definitions at {Markup.Escape(client.BaseUrl.AbsoluteUri.TrimEnd('/'))}: revision {set.Revision}, {set.Definitions.Count} definitions")
                .AddColumn(new TableColumn("Name").NoWrap()).AddColumn(new TableColumn("Ver").RightAligned().NoWrap()).AddColumn("Window")
                .AddColumn("Aggregation").AddColumn("Event types").AddColumn(new TableColumn("TTL").NoWrap()).AddColumn("Owner");
            foreach (var d in set.Definitions)
            {
                table.AddRow(
                    Markup.Escape(d.Name),
                    "v" + d.Version.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(d.Window.ToString()),
                    Markup.Escape(Aggregation(d.Aggregation)),
                    Markup.Escape(EventTypes(d.EventTypes)),
                    d.Ttl is { } ttl ? Durations.Format(ttl) : "-",
                    Markup.Escape(d.Owner.Length == 0 ? "-" : d.Owner));
            }

            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        });
        return list;
    }

    /// <summary><c>features describe NAME</c>: everything about one definition, with its lineage (all versions and what changed).</summary>
    public static Command Describe()
    {
        var name = new Argument<string>("NAME") { Description = "The feature name, e.g. spend_30d" };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON (all versions) instead of text" };
        var hub = new HubConnectionOptions();
        var describe = new Command("describe", "Show a feature definition: description, owner, entity, window, aggregation, sources, TTL, and its lineage") { name, json };
        hub.AddTo(describe);
        describe.SetGuardedAction(async (r, ct) =>
        {
            var feature = r.GetValue(name)!.Trim();
            using var client = hub.CreateClient(r);
            var found = await client.GetFeatureAsync(feature, ct).ConfigureAwait(false)
                ?? throw new CliException($"no feature '{feature}' at the hub {client.BaseUrl} (see: edgeprofile features list)");
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(found.Json));
            }
            else
            {
                Write(AnsiConsole.Console, found.History);
            }

            return ExitCodes.Ok;
        });
        return describe;
    }

    /// <summary><c>features register FILE</c>: posts a FeatureSet JSON (or one definition) to the hub; prints what changed and the new revision.</summary>
    public static Command Register()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "A FeatureSet JSON ({\"definitions\":[...]}, e.g. from features synthesize) or one definition JSON" };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON answer instead of a table" };
        var hub = new HubConnectionOptions();
        var register = new Command("register", "Register feature definitions at the hub: new names get version 1, changed ones the next version, identical ones stay") { file, json };
        hub.AddTo(register);
        register.SetGuardedAction(async (r, ct) =>
        {
            var path = r.GetValue(file)!;
            string text;
            try
            {
                text = await File.ReadAllTextAsync(path.FullName, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"{path.FullName} cannot be read: {ex.Message}", ExitCodes.Usage);
            }

            // JSON syntax is checked here, naming the file; the hub validates the definitions and names the key.
            var count = CountDefinitions(path.FullName, text);
            using var client = hub.CreateClient(r);
            var (result, raw) = await client.RegisterFeaturesAsync(text, ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(raw));
                return ExitCodes.Ok;
            }

            var table = new Table().Border(TableBorder.Rounded)
                .Title($"{count} definition(s) from {Markup.Escape(path.Name)}")
                .AddColumn("Feature").AddColumn("Definition id").AddColumn("Result");
            foreach (var c in result.Changes)
            {
                table.AddRow(Markup.Escape(c.Name), Markup.Escape(c.Id), OutcomeMarkup(c.Outcome));
            }

            AnsiConsole.Write(table);
            var changed = result.Changes.Count(c => c.Outcome is not FeatureOutcome.Unchanged);
            Console.Out.WriteLine(changed == 0
                ? $"Nothing changed; the registry stays at revision {result.Revision}"
                : $"Registry revision {result.Revision}: {Counts(result.Changes)}");
            return ExitCodes.Ok;
        });
        return register;
    }

    /// <summary>Writes one definition's history for people: the current definition in full, then every version and what changed.</summary>
    public static void Write(IAnsiConsole console, FeatureHistory history)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(history);
        var latest = history.Versions.Count > 0 ? history.Versions[^1] : null;
        var d = latest is null ? null : FeatureSet.ParseDefinition(latest.Definition.GetRawText());
        console.MarkupLine($"[bold]{Markup.Escape(history.Id)}[/]" + (history.Retired
            ? $" [red]retired[/]{(history.RetiredAt is { } at ? " since " + at.ToString("u", CultureInfo.InvariantCulture) : "")}: not in the current set (registry revision {history.Revision})"
            : $" [grey]current; values computed by it are stamped {Markup.Escape(history.Id)} (registry revision {history.Revision})[/]"));
        if (d is not null)
        {
            var rows = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            void Row(string label, string value) => rows.AddRow($"  [grey]{label}[/]", Markup.Escape(value));
            Row("description", d.Description.Length == 0 ? "-" : d.Description);
            Row("owner", d.Owner.Length == 0 ? "-" : d.Owner);
            Row("entity", d.Entity);
            Row("window", d.Window.ToString());
            Row("aggregation", Aggregation(d.Aggregation));
            if (Weights(d.Aggregation) is { } weights)
            {
                Row("weights", weights);
            }

            Row("sources", $"event types: {EventTypes(d.EventTypes)}; category: {d.CategoryPrefix ?? "any"}");
            Row("ttl", d.Ttl is { } ttl ? $"{Durations.Format(ttl)} after the last contributing event" : "none (never stale)");
            console.Write(rows);
        }

        console.WriteLine();
        var lineage = new Table().Border(TableBorder.Rounded).Title("Lineage")
            .AddColumn("Definition id").AddColumn("Created (UTC)").AddColumn("Owner").AddColumn(new TableColumn("Revision").RightAligned()).AddColumn("Changes");
        foreach (var v in history.Versions)
        {
            lineage.AddRow(
                Markup.Escape(v.Id),
                v.CreatedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                Markup.Escape(v.Owner.Length == 0 ? "-" : v.Owner),
                v.Revision.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(v.Version == 1 && v.Changes.Count == 0 ? "first version" : v.Changes.Count == 0 ? "-" : string.Join(Environment.NewLine, v.Changes)));
        }

        console.Write(lineage);
    }

    /// <summary>Short text of an aggregation: <c>sum(amount)</c>, <c>top_k(category_top, k=5)</c>, <c>ratio(count[purchase] / count[view])</c>.</summary>
    public static string Aggregation(AggregationSpec aggregation)
    {
        ArgumentNullException.ThrowIfNull(aggregation);
        var kind = Snake(aggregation.Kind.ToString());
        var part = aggregation.EventTypes.Count > 0 ? $"[{string.Join(",", aggregation.EventTypes.Select(t => t.Name()))}]" : "";
        return aggregation.Kind switch
        {
            AggregationKind.Ratio when aggregation.Numerator is { } n && aggregation.Denominator is { } dd => $"ratio({Aggregation(n)} / {Aggregation(dd)})",
            AggregationKind.TopK => $"top_k({Snake(aggregation.Field.ToString())}, k={aggregation.K.ToString(CultureInfo.InvariantCulture)}){part}",
            _ when aggregation.Field == FeatureField.None => kind + part,
            _ => $"{kind}({Snake(aggregation.Field.ToString())}){part}",
        };
    }

    private static string? Weights(AggregationSpec a) =>
        a.Weights is { Count: > 0 } w
            ? string.Join(", ", w.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value.ToString(CultureInfo.InvariantCulture)}"))
            : null;

    private static string EventTypes(IReadOnlyList<EventType> types) => types.Count == 0 ? "all" : string.Join(", ", types.Select(t => t.Name()));

    private static string Snake(string pascal) => JsonNamingPolicy.SnakeCaseLower.ConvertName(pascal);

    private static string OutcomeMarkup(string outcome) => outcome switch
    {
        FeatureOutcome.Created => "[green]new[/]",
        FeatureOutcome.NewVersion => "[yellow]new version[/]",
        FeatureOutcome.Restored => "[green]restored[/]",
        FeatureOutcome.Retired => "[red]retired[/]",
        _ => "[grey]unchanged[/]",
    };

    private static string Counts(IReadOnlyList<FeatureChange> changes)
    {
        var parts = new List<string>();
        void Add(string outcome, string label)
        {
            var n = changes.Count(c => c.Outcome == outcome);
            if (n > 0)
            {
                parts.Add($"{n.ToString(CultureInfo.InvariantCulture)} {label}");
            }
        }

        Add(FeatureOutcome.Created, "new");
        Add(FeatureOutcome.NewVersion, "new version(s)");
        Add(FeatureOutcome.Restored, "restored");
        Add(FeatureOutcome.Unchanged, "unchanged");
        return string.Join(", ", parts);
    }

    private static int CountDefinitions(string path, string text)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new CliException($"{path}: not valid JSON (line {ex.LineNumber + 1}): {ex.Message}", ExitCodes.Usage);
        }

        return root switch
        {
            JsonObject o when o["definitions"] is JsonArray definitions => definitions.Count,
            JsonObject => 1,
            _ => throw new CliException($"{path}: expected a feature set ({{\"definitions\":[...]}}) or one feature definition, a JSON object", ExitCodes.Usage),
        };
    }
}
