using System.CommandLine;
using System.Globalization;
using EdgeProfile.Training.Pipeline;

namespace EdgeProfile.Cli.Commands;

/// <summary>
/// <c>models train</c>: MMoE and a logistic-regression baseline from a training set, split by time, exported as fp32
/// and int8 ONNX for the edge; <c>models evaluate</c>: an ONNX model's test metrics on a training set; the hub's
/// registry commands are in <see cref="ModelsRegistryCommands"/>.
/// </summary>
public static class ModelsCommand
{
    /// <summary>Builds <c>models</c> and its subcommands.</summary>
    public static Command Create()
    {
        var models = new Command("models", "Train and evaluate models from training sets; register, deploy and roll back models at the hub");
        models.Subcommands.Add(Train());
        models.Subcommands.Add(Evaluate());
        foreach (var command in ModelsRegistryCommands.Create())
        {
            models.Subcommands.Add(command);
        }

        return models;
    }

    private static Command Train()
    {
        var trainingSet = new Option<DirectoryInfo>("--training-set") { Description = "Directory with training_set.csv and manifest.json (from `features training-set`)", HelpName = "DIR", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory for model.onnx, model.int8.onnx and metrics.json", HelpName = "DIR", Required = true };
        var split = SplitOption("[default: the cutoff at the 80th percentile]");
        var experts = new Option<int>("--experts") { Description = "MMoE experts", HelpName = "N", DefaultValueFactory = _ => 4 };
        var epochs = new Option<int>("--epochs") { Description = "Maximum epochs (early stopping on the validation rows)", HelpName = "N", DefaultValueFactory = _ => 30 };
        var seed = new Option<int>("--seed") { Description = "Seed of weights and shuffling", HelpName = "N", DefaultValueFactory = _ => 1 };
        var version = new Option<string?>("--version") { Description = "Model version stamped in the metadata (model_version) [default: yyyyMMdd-HHmmss, UTC]", HelpName = "V" };

        var command = new Command("train", "Train an MMoE (and a logistic-regression baseline) on a training set, split by time; export fp32 and int8 ONNX")
        {
            trainingSet, output, split, experts, epochs, seed, version,
        };
        command.SetGuardedAction(async (r, ct) =>
        {
            var options = new PipelineOptions
            {
                TrainingSetDirectory = r.GetValue(trainingSet)!.FullName,
                OutputDirectory = r.GetValue(output)!.FullName,
                Split = ParseSplit(r.GetValue(split)),
                Experts = Positive(r.GetValue(experts), "--experts"),
                Epochs = Positive(r.GetValue(epochs), "--epochs"),
                Seed = r.GetValue(seed),
                Version = r.GetValue(version) is { } v && !string.IsNullOrWhiteSpace(v)
                    ? (EdgeProfile.Models.Serving.ModelArtifact.IsValidVersion(v.Trim()) ? v.Trim() : throw new CliException($"--version: '{v}' must be 1 to 128 of A-Z a-z 0-9 . _ - : @ +", ExitCodes.Usage))
                    : null,
            };
            var result = await Run(() => ModelPipeline.Train(options), ct).ConfigureAwait(false);

            var rows = result.Split;
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"model {result.Version}: {result.Features.Count} features, {result.Tasks.Count} tasks; rows train {rows.Train.Count}, validation {rows.Validation.Count}, test {rows.Test.Count} (split {rows.SplitAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z; {result.UnobservedRows} unobserved left out)")).ConfigureAwait(false);
            if (result.SkippedColumns.Count > 0)
            {
                await Console.Out.WriteLineAsync($"left out: {string.Join(", ", result.SkippedColumns)}").ConfigureAwait(false);
            }

            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"best epoch: mmoe {result.BestEpochs.Mmoe}, logistic regression {result.BestEpochs.Baseline}")).ConfigureAwait(false);
            await Console.Out.WriteAsync(ModelPipeline.ToTable(result.Models)).ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"wrote {result.Files.Model}, {result.Files.Int8Model}, {result.Files.Metrics}").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Evaluate()
    {
        var model = new Option<FileInfo>("--model") { Description = "ONNX model written by `models train`", HelpName = "FILE", Required = true };
        var trainingSet = new Option<DirectoryInfo>("--training-set") { Description = "Directory with training_set.csv and manifest.json", HelpName = "DIR", Required = true };
        var split = SplitOption("[default: the split stamped in the model, else the 80th-percentile cutoff]");
        var command = new Command("evaluate", "Score an ONNX model on the test split of a training set (AUC per binary task, RMSE on log1p for regression)")
        {
            model, trainingSet, split,
        };
        command.SetGuardedAction(async (r, ct) =>
        {
            var path = r.GetValue(model)!.FullName;
            var directory = r.GetValue(trainingSet)!.FullName;
            var at = ParseSplit(r.GetValue(split));
            var evaluation = await Run(() => ModelPipeline.Evaluate(path, directory, at), ct).ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"test rows: {(evaluation.Tasks.Count > 0 ? evaluation.Tasks[0].Rows : 0)}").ConfigureAwait(false);
            await Console.Out.WriteAsync(ModelPipeline.ToTable([evaluation])).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Option<string?> SplitOption(string defaults) =>
        new("--split") { Description = $"Test rows are those with cutoff at or after this time (YYYY-MM-DD or RFC 3339, UTC) {defaults}", HelpName = "TIME" };

    private static DateTimeOffset? ParseSplit(string? text) =>
        text is null ? null
        : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at
        : throw new CliException($"--split '{text}' is not a time (use YYYY-MM-DD or RFC 3339)", ExitCodes.Usage);

    private static int Positive(int value, string name) =>
        value >= 1 ? value : throw new CliException($"{name} must be at least 1 (got {value})", ExitCodes.Usage);

    private static async Task<T> Run<T>(Func<T> work, CancellationToken ct)
    {
        try
        {
            return await Task.Run(work, ct).ConfigureAwait(false);
        }
        catch (PipelineException ex)
        {
            throw new CliException(ex.Message, ex.IsUsage ? ExitCodes.Usage : ExitCodes.Failed);
        }
    }
}
