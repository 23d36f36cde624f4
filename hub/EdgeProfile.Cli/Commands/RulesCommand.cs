using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeProfile.Cli.HubApi;
using EdgeProfile.Knowledge;

namespace EdgeProfile.Cli.Commands;

/// <summary>
/// <c>rules validate|diff|publish|rollback|list</c>: the operators' tag rules at the hub. Publishing compiles and
/// validates the file (syntax, unknown features, unsafe variables, cycles through negation), refuses it with every
/// error at its line, and otherwise streams it to every edge, which applies it to all profiles without a restart.
/// </summary>
public static class RulesCommand
{
    /// <summary>Builds <c>rules</c>.</summary>
    public static Command Create() => new("rules", "Tag rules: validate, diff against the live set, publish to every store, roll back")
    {
        Submit(publish: false), Diff(), Submit(publish: true), Rollback(), List(),
    };

    private static Command Submit(bool publish)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The rule file (see shared/EdgeProfile.Knowledge/Rules/README.md)" };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON" };
        var hub = new HubConnectionOptions();
        var command = new Command(publish ? "publish" : "validate",
            publish ? "Publish the rule file: every connected store applies it within seconds" : "Check the rule file at the hub (against its feature registry) without publishing")
        {
            file, json,
        };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            var path = r.GetValue(file)!;
            if (!path.Exists)
            {
                throw new CliException($"FILE: '{path.FullName}' does not exist", ExitCodes.Usage);
            }

            var text = await File.ReadAllTextAsync(path.FullName, ct).ConfigureAwait(false);
            using var client = hub.CreateClient(r);
            var (accepted, body) = await client.SubmitRulesAsync(text, publish, ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(body));
            }

            using var doc = JsonDocument.Parse(body);
            if (!accepted)
            {
                foreach (var e in doc.RootElement.GetProperty("errors").EnumerateArray())
                {
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{path.Name}:{e.GetProperty("line").GetInt32()}:{e.GetProperty("column").GetInt32()}: {e.GetProperty("message").GetString()}"));
                }

                throw new CliException(publish ? "not published: the live rules are unchanged" : "the rule file does not compile");
            }

            if (!r.GetValue(json))
            {
                Console.Out.WriteLine(publish
                    ? $"Published tag rules version {doc.RootElement.GetProperty("version").GetInt64()} ({doc.RootElement.GetProperty("rules").GetInt32()} rules); stores apply it as it arrives"
                    : $"Valid: {string.Join(", ", doc.RootElement.GetProperty("rules").EnumerateArray().Select(x => $"{x.GetProperty("id").GetString()}@v{x.GetProperty("version").GetInt32()}"))}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Diff()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The rule file to compare with the live set" };
        var hub = new HubConnectionOptions();
        var command = new Command("diff", "Show which rules FILE adds, removes or changes against the live set") { file };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            var path = r.GetValue(file)!;
            if (!path.Exists)
            {
                throw new CliException($"FILE: '{path.FullName}' does not exist", ExitCodes.Usage);
            }

            var mine = TagRuleSet.Compile(await File.ReadAllTextAsync(path.FullName, ct).ConfigureAwait(false), null, out var errors)
                ?? throw new CliException($"{path.Name} does not compile: {string.Join("; ", errors.Take(5))}");
            using var client = hub.CreateClient(r);
            using var live = JsonDocument.Parse(await client.GetRulesAsync(ct).ConfigureAwait(false));
            var liveVersion = live.RootElement.GetProperty("version").GetInt64();
            var liveSet = TagRuleSet.Compile(live.RootElement.GetProperty("text").GetString() ?? "", null, out _)
                ?? throw new CliException($"the live rules (version {liveVersion}) do not compile with this CLI: upgrade it");
            var before = liveSet.Rules.ToDictionary(x => x.Id, StringComparer.Ordinal);
            var after = mine.Rules.ToDictionary(x => x.Id, StringComparer.Ordinal);
            var changes = 0;
            foreach (var id in before.Keys.Union(after.Keys).Order(StringComparer.Ordinal))
            {
                var (had, has) = (before.GetValueOrDefault(id), after.GetValueOrDefault(id));
                var line = (had, has) switch
                {
                    (null, { } added) => $"+ {added.Id}@v{added.Version}: {added.En}",
                    ({ } removed, null) => $"- {removed.Id}@v{removed.Version}: {removed.En}",
                    ({ } a, { } b) when !string.Equals(a.Source, b.Source, StringComparison.Ordinal) => $"~ {b.Id}@v{a.Version} → v{b.Version}: {b.En}\n    live: {a.Source}\n    file: {b.Source}",
                    _ => null,
                };
                if (line is not null)
                {
                    changes++;
                    Console.Out.WriteLine(line);
                }
            }

            Console.Out.WriteLine(changes == 0 ? $"No change against the live rules (version {liveVersion})" : $"{changes} change(s) against the live rules (version {liveVersion})");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Rollback()
    {
        var hub = new HubConnectionOptions();
        var command = new Command("rollback", "Publish again the rule set that was live before the current one");
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var body = await client.RollbackRulesAsync(ct).ConfigureAwait(false)
                ?? throw new CliException("there is no earlier rule set to roll back to");
            using var doc = JsonDocument.Parse(body);
            Console.Out.WriteLine($"Tag rules version {doc.RootElement.GetProperty("version").GetInt64()} published ({doc.RootElement.GetProperty("action").GetString()})");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON" };
        var hub = new HubConnectionOptions();
        var command = new Command("list", "The live rule set and every published version") { json };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var body = await client.GetRulesAsync(ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(body));
                return ExitCodes.Ok;
            }

            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            Console.Out.WriteLine($"Live: version {root.GetProperty("version").GetInt64()} ({root.GetProperty("rules").GetInt32()} rules, {root.GetProperty("action").GetString()})");
            foreach (var h in root.GetProperty("history").EnumerateArray())
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  v{h.GetProperty("version").GetInt64()}  {h.GetProperty("publishedAt").GetDateTimeOffset():u}  {h.GetProperty("action").GetString()}  {h.GetProperty("rules").GetInt32()} rules"));
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
