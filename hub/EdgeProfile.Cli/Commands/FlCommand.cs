using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeProfile.Cli.HubApi;
using EdgeProfile.Cli.Output;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Federated.Participant;
using Spectre.Console;

namespace EdgeProfile.Cli.Commands;

/// <summary>
/// Federated learning at the hub: <c>fl jobs create</c> (from a job file and/or flags, validated here before it is
/// sent), <c>fl jobs list</c>, <c>fl jobs show ID</c> (rounds and participation) and <c>fl jobs stop ID</c>.
/// </summary>
public static class FlCommand
{
    // A typo in a job file ("round": 5) must not silently fall back to the default.
    private static readonly JsonSerializerOptions StrictSpecJson = new(FederatedJobSpec.Json)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>Builds <c>fl</c> with <c>jobs create|list|show|stop</c>.</summary>
    public static Command Create()
    {
        var jobs = new Command("jobs", "Federated training jobs: create, list, show, stop") { CreateJob(), List(), Show(), Stop() };
        return new Command("fl", "Federated learning: models trained across stores and partners without their rows leaving them") { jobs };
    }

    private static Command CreateJob()
    {
        var o = new SpecOptions();
        var dryRun = new Option<bool>("--dry-run") { Description = "Validate and print the job JSON that would be sent, without sending it" };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of text" };
        var hub = new HubConnectionOptions();
        var command = new Command("create", "Create a federated job from a job file (JSON, camelCase) and/or flags (flags override the file); validated before it is sent");
        o.AddTo(command);
        command.Options.Add(dryRun);
        command.Options.Add(json);
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            var spec = await o.BuildAsync(r, ct).ConfigureAwait(false);
            var problems = Problems(spec);
            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    await CommandRunner.Fail("job spec: " + problem).ConfigureAwait(false);
                }

                return ExitCodes.Usage;
            }

            if (r.GetValue(dryRun))
            {
                await Console.Out.WriteLineAsync(HubRestClient.Indent(JsonSerializer.Serialize(spec, FederatedJobSpec.Json))).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            using var client = hub.CreateClient(r);
            var (job, raw) = await client.CreateFlJobAsync(spec, ct).ConfigureAwait(false);
            await Console.Out.WriteLineAsync(r.GetValue(json)
                ? HubRestClient.Indent(raw)
                : $"{FlJobRenderer.SummaryLine(job)}; follow it with: edgeprofile fl jobs show {job.Id}").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of a table" };
        var hub = new HubConnectionOptions();
        var command = new Command("list", "List federated jobs: state, round, strategy, privacy spent, latest model") { json };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var (jobs, raw) = await client.ListFlJobsAsync(ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                await Console.Out.WriteLineAsync(HubRestClient.Indent(raw)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            if (jobs.Count == 0)
            {
                await Console.Out.WriteLineAsync($"No federated jobs at {client.BaseUrl} yet (create one with: edgeprofile fl jobs create --file job.json)").ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
            FlJobRenderer.WriteList(AnsiConsole.Console, jobs);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show()
    {
        var id = new Argument<string>("ID") { Description = "A job id (see `fl jobs list`)" };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of text" };
        var hub = new HubConnectionOptions();
        var command = new Command("show", "A federated job: its spec, each round (updates of invited, dropped, stragglers, loss, AUC, ε, model) and each client's participation") { id, json };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            var jobId = r.GetValue(id)!.Trim();
            using var client = hub.CreateClient(r);
            var (job, raw) = await client.GetFlJobAsync(jobId, ct).ConfigureAwait(false) ?? throw NotFound(jobId, client);
            if (r.GetValue(json))
            {
                await Console.Out.WriteLineAsync(HubRestClient.Indent(raw)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
            FlJobRenderer.WriteDetail(AnsiConsole.Console, job);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Stop()
    {
        var id = new Argument<string>("ID") { Description = "A job id (see `fl jobs list`)" };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of text" };
        var hub = new HubConnectionOptions();
        var command = new Command("stop", "Stop a pending or running federated job; the models it registered stay") { id, json };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            var jobId = r.GetValue(id)!.Trim();
            using var client = hub.CreateClient(r);
            var (job, raw) = await client.StopFlJobAsync(jobId, ct).ConfigureAwait(false) ?? throw NotFound(jobId, client);
            await Console.Out.WriteLineAsync(r.GetValue(json) ? HubRestClient.Indent(raw) : FlJobRenderer.SummaryLine(job)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// The spec's problems: <see cref="FederatedJobSpec.Problems"/>, plus task labels that participants cannot compute
    /// (they would fail every client's first round instead of failing here).
    /// </summary>
    public static IReadOnlyList<string> Problems(FederatedJobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = spec.Problems().ToList();
        foreach (var task in spec.Tasks.Where(t => !string.IsNullOrWhiteSpace(t.Label)))
        {
            try
            {
                _ = FederatedRows.ParseLabel(task.Label);
            }
            catch (FederatedDataException ex)
            {
                problems.Add($"tasks.{task.Name}.label: {ex.Message}");
            }
        }

        return problems;
    }

    private static CliException NotFound(string id, HubRestClient client) =>
        new($"federated job {id} does not exist at {client.BaseUrl} (see: edgeprofile fl jobs list)", ExitCodes.Failed);

    /// <summary>Reads a job file; an unreadable file, bad JSON or an unknown key is a usage error naming it.</summary>
    public static FederatedJobSpec ReadSpecFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--file {path} cannot be read: {ex.Message}", ExitCodes.Usage);
        }

        FederatedJobSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize<FederatedJobSpec>(text, StrictSpecJson);
        }
        catch (JsonException ex)
        {
            throw new CliException($"--file {path} is not a job spec: {ex.Message}", ExitCodes.Usage);
        }

        if (spec is null)
        {
            throw new CliException($"--file {path} is not a job spec: expected a JSON object", ExitCodes.Usage);
        }

        // "features": null and the like would otherwise reach Problems() as null lists.
        return spec with
        {
            Name = spec.Name ?? "",
            Features = spec.Features ?? [],
            Tasks = spec.Tasks ?? [],
            ExpertHidden = spec.ExpertHidden ?? [],
            TowerHidden = spec.TowerHidden ?? [],
            Clients = spec.Clients ?? [],
            Strategy = spec.Strategy ?? "",
            Optimizer = spec.Optimizer ?? "",
            Compression = spec.Compression ?? "",
        };
    }

    /// <summary>Parses <c>--task NAME:KIND:LABEL</c>.</summary>
    public static FederatedTask ParseTask(string value)
    {
        var parts = (value ?? "").Split(':', StringSplitOptions.TrimEntries);
        return parts.Length == 3 && parts.All(p => p.Length > 0)
            ? new FederatedTask(parts[0], parts[1], parts[2])
            : throw new CliException($"--task '{value}': expected NAME:KIND:LABEL, e.g. repurchase:binary:purchase_next_30d", ExitCodes.Usage);
    }

    /// <summary>Parses <c>--round-timeout</c>: seconds, or a number with s, m or h (<c>90</c>, <c>90s</c>, <c>2m</c>, <c>1h</c>).</summary>
    public static int ParseSeconds(string value)
    {
        var text = (value ?? "").Trim();
        var (number, unit) = text.Length > 0 && char.IsAsciiLetter(text[^1]) ? (text[..^1], char.ToLowerInvariant(text[^1])) : (text, 's');
        var factor = unit switch { 's' => 1, 'm' => 60, 'h' => 3600, _ => 0 };
        return factor > 0 && double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n * factor is >= 1 and <= int.MaxValue
            ? (int)Math.Round(n * factor)
            : throw new CliException($"--round-timeout '{value}' is not a duration (seconds, or e.g. 90s, 2m, 1h)", ExitCodes.Usage);
    }

    private static string[] Split(string? value) =>
        string.IsNullOrWhiteSpace(value) ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The flags of <c>fl jobs create</c> and how they override the job file.</summary>
    private sealed class SpecOptions
    {
        private readonly Option<FileInfo?> _file = new("--file") { Description = "Job spec JSON (FederatedJobSpec, camelCase); flags override its fields", HelpName = "JOB.json" };
        private readonly Option<string?> _name = new("--name") { Description = "Job name (letters, digits, - _ .); prefixes the model versions it registers", HelpName = "NAME" };
        private readonly Option<string?> _features = new("--features") { Description = "Feature names, comma-separated (registered numeric definitions)", HelpName = "A,B,C" };
        private readonly Option<string[]> _tasks = new("--task") { Description = "A head NAME:KIND:LABEL, KIND binary|regression, LABEL purchase_next_<N>d, churn_next_<N>d or spend_next_<N>d (repeat for more; replaces the file's tasks)", HelpName = "NAME:KIND:LABEL" };
        private readonly Option<string?> _strategy = new("--strategy") { Description = "Server strategy: " + string.Join(", ", FederatedJobSpec.StrategyNames), HelpName = "NAME" };
        private readonly Option<int?> _rounds = new("--rounds") { Description = "Rounds to run", HelpName = "N" };
        private readonly Option<double?> _fraction = new("--fraction") { Description = "Fraction of the eligible connected clients invited to each round, in (0, 1]", HelpName = "F" };
        private readonly Option<int?> _minClients = new("--min-clients") { Description = "Fewest updates a round may aggregate (below: retry, then fail)", HelpName = "N" };
        private readonly Option<string?> _roundTimeout = new("--round-timeout") { Description = "How long a round waits for updates (seconds, or 90s, 2m, 1h)", HelpName = "DURATION" };
        private readonly Option<int?> _localEpochs = new("--local-epochs") { Description = "Local epochs per round", HelpName = "N" };
        private readonly Option<int?> _batchSize = new("--batch-size") { Description = "Local batch size", HelpName = "N" };
        private readonly Option<double?> _lr = new("--lr") { Description = "Local learning rate", HelpName = "RATE" };
        private readonly Option<string?> _optimizer = new("--optimizer") { Description = "Local optimiser: sgd or adam", HelpName = "NAME" };
        private readonly Option<double?> _mu = new("--mu") { Description = "FedProx proximal term μ (0: none)", HelpName = "MU" };
        private readonly Option<double?> _clip = new("--clip") { Description = "L2 bound each client clips its update to", HelpName = "NORM" };
        private readonly Option<bool> _secagg = new("--secagg") { Description = "Secure aggregation: the hub learns only the sum of the updates (--secagg false turns off the file's)" };
        private readonly Option<double?> _noise = new("--noise") { Description = "Differential privacy: Gaussian noise multiplier σ (needs --clip)", HelpName = "SIGMA" };
        private readonly Option<double?> _epsilon = new("--epsilon") { Description = "Privacy budget ε that stops the job (needs --noise)", HelpName = "EPS" };
        private readonly Option<double?> _delta = new("--delta") { Description = "Privacy δ", HelpName = "DELTA" };
        private readonly Option<string?> _compression = new("--compression") { Description = "Update encoding: f32 or int8", HelpName = "ENC" };
        private readonly Option<string?> _clients = new("--clients") { Description = "Store or partner ids that may take part, comma-separated [default: all enrolled]", HelpName = "A,B" };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[]
            {
                _file, _name, _features, _tasks, _strategy, _rounds, _fraction, _minClients, _roundTimeout, _localEpochs, _batchSize,
                _lr, _optimizer, _mu, _clip, _secagg, _noise, _epsilon, _delta, _compression, _clients,
            })
            {
                command.Options.Add(option);
            }
        }

        public async Task<FederatedJobSpec> BuildAsync(ParseResult r, CancellationToken ct)
        {
            var spec = new FederatedJobSpec();
            if (r.GetValue(_file) is { } file)
            {
                if (!file.Exists)
                {
                    throw new CliException($"--file {file.FullName} does not exist", ExitCodes.Usage);
                }

                spec = await Task.Run(() => ReadSpecFile(file.FullName), ct).ConfigureAwait(false);
            }

            var tasks = r.GetValue(_tasks) ?? [];
            return spec with
            {
                Name = r.GetValue(_name)?.Trim() ?? spec.Name,
                Features = r.GetValue(_features) is { } f ? Split(f) : spec.Features,
                Tasks = tasks.Length > 0 ? tasks.Select(ParseTask).ToArray() : spec.Tasks,
                Strategy = r.GetValue(_strategy)?.Trim() ?? spec.Strategy,
                Rounds = r.GetValue(_rounds) ?? spec.Rounds,
                Fraction = r.GetValue(_fraction) ?? spec.Fraction,
                MinClients = r.GetValue(_minClients) ?? spec.MinClients,
                RoundTimeoutSeconds = r.GetValue(_roundTimeout) is { } t ? ParseSeconds(t) : spec.RoundTimeoutSeconds,
                LocalEpochs = r.GetValue(_localEpochs) ?? spec.LocalEpochs,
                BatchSize = r.GetValue(_batchSize) ?? spec.BatchSize,
                LearningRate = r.GetValue(_lr) ?? spec.LearningRate,
                Optimizer = r.GetValue(_optimizer)?.Trim() ?? spec.Optimizer,
                ProximalMu = r.GetValue(_mu) ?? spec.ProximalMu,
                ClipNorm = r.GetValue(_clip) ?? spec.ClipNorm,
                SecureAggregation = r.GetResult(_secagg) is { Implicit: false } ? r.GetValue(_secagg) : spec.SecureAggregation,
                NoiseMultiplier = r.GetValue(_noise) ?? spec.NoiseMultiplier,
                Epsilon = r.GetValue(_epsilon) ?? spec.Epsilon,
                Delta = r.GetValue(_delta) ?? spec.Delta,
                Compression = r.GetValue(_compression)?.Trim() ?? spec.Compression,
                Clients = r.GetValue(_clients) is { } c ? Split(c) : spec.Clients,
            };
        }
    }
}
