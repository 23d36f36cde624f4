using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge;

/// <summary>Fails the start of a misconfigured edge with messages that name the key.</summary>
public sealed partial class EdgeOptionsValidator : IValidateOptions<EdgeOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, EdgeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.StoreId))
        {
            errors.Add("Edge:StoreId is required (e.g. --Edge:StoreId=store-001)");
        }
        else if (!StoreIdPattern().IsMatch(options.StoreId))
        {
            errors.Add($"Edge:StoreId '{options.StoreId}' must be 1-64 chars of letters, digits, '.', '_' or '-'");
        }

        if (options.Mqtt.Port is < 1 or > 65535)
        {
            errors.Add($"Edge:Mqtt:Port {options.Mqtt.Port} is not a TCP port (1-65535)");
        }

        if (!string.Equals(options.Mqtt.Mode, "embedded", StringComparison.OrdinalIgnoreCase) && !options.Mqtt.IsExternal)
        {
            errors.Add($"Edge:Mqtt:Mode '{options.Mqtt.Mode}' must be 'embedded' or 'external'");
        }

        if (options.Mqtt.IsExternal && string.IsNullOrWhiteSpace(options.Mqtt.Host))
        {
            errors.Add("Edge:Mqtt:Host is required when Edge:Mqtt:Mode is 'external'");
        }

        if (!options.Mqtt.IsExternal && !System.Net.IPAddress.TryParse(options.Mqtt.Bind, out _))
        {
            errors.Add($"Edge:Mqtt:Bind '{options.Mqtt.Bind}' is not an IP address");
        }

        if (options.Mqtt.MaxPendingPerClient < 1000)
        {
            errors.Add("Edge:Mqtt:MaxPendingPerClient must be at least 1000");
        }

        if (!string.IsNullOrWhiteSpace(options.HubUrl)
            && (!Uri.TryCreate(options.HubUrl, UriKind.Absolute, out var hub) || (hub.Scheme != Uri.UriSchemeHttp && hub.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add($"Edge:HubUrl '{options.HubUrl}' must be an http:// or https:// URL");
        }

        foreach (var url in options.Http.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Port is < 0 or > 65535 || (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add($"Edge:Http:Urls '{url}' is not an http:// URL with a valid port");
            }
        }

        if (options.Log.Durability is not ("fsync" or "process"))
        {
            errors.Add($"Edge:Log:Durability '{options.Log.Durability}' must be 'fsync' or 'process'");
        }

        if (options.Log.WalMb is < 16 or > 65_536)
        {
            errors.Add("Edge:Log:WalMb must be between 16 and 65536");
        }

        if (options.Log.MaxBatch is < 1 or > 100_000)
        {
            errors.Add("Edge:Log:MaxBatch must be between 1 and 100000");
        }

        if (options.Log.QueueCapacity < 16)
        {
            errors.Add("Edge:Log:QueueCapacity must be at least 16");
        }

        if (options.Uplink.BatchSize is < 1 or > 10_000)
        {
            errors.Add("Edge:Uplink:BatchSize must be between 1 and 10000");
        }

        if (options.Uplink.DiskBudgetMb < 1)
        {
            errors.Add("Edge:Uplink:DiskBudgetMb must be at least 1");
        }

        if (options.MaxClockSkew < TimeSpan.Zero)
        {
            errors.Add("Edge:MaxClockSkew must not be negative");
        }

        if (options.DeadLetters.MaxCount < 1)
        {
            errors.Add("Edge:DeadLetters:MaxCount must be at least 1");
        }

        if (!string.IsNullOrEmpty(options.PseudonymKey))
        {
            try
            {
                if (Convert.FromBase64String(options.PseudonymKey).Length < 16)
                {
                    errors.Add("Edge:PseudonymKey must decode to at least 16 bytes");
                }
            }
            catch (FormatException)
            {
                errors.Add("Edge:PseudonymKey is not valid base64");
            }
        }

        if (options.AllowedLateness < TimeSpan.Zero)
        {
            errors.Add("Edge:AllowedLateness must not be negative");
        }

        if (options.Stream.MaxOutOfOrderness < TimeSpan.Zero)
        {
            errors.Add("Edge:Stream:MaxOutOfOrderness must not be negative");
        }

        foreach (var (source, delay) in options.Stream.SourceOutOfOrderness)
        {
            if (delay < TimeSpan.Zero)
            {
                errors.Add($"Edge:Stream:SourceOutOfOrderness:{source} must not be negative");
            }
        }

        if (options.Stream.SourceIdleTimeout <= TimeSpan.Zero)
        {
            errors.Add("Edge:Stream:SourceIdleTimeout must be positive");
        }

        if (options.Features.MemoryCustomers < 0)
        {
            errors.Add("Edge:Features:MemoryCustomers must not be negative");
        }

        if (options.Features.CheckpointInterval <= TimeSpan.Zero)
        {
            errors.Add("Edge:Features:CheckpointInterval must be positive");
        }

        if (options.Features.BackfillBatch < 1)
        {
            errors.Add("Edge:Features:BackfillBatch must be at least 1");
        }

        if (!string.IsNullOrWhiteSpace(options.Features.DefinitionsFile))
        {
            if (!File.Exists(options.Features.DefinitionsFile))
            {
                errors.Add($"Edge:Features:DefinitionsFile '{options.Features.DefinitionsFile}' does not exist");
            }
            else
            {
                try
                {
                    EdgeProfile.Core.Features.FeatureSet.Parse(File.ReadAllText(options.Features.DefinitionsFile));
                }
                catch (EdgeProfile.Core.Features.FeatureDefinitionException ex)
                {
                    errors.Add($"Edge:Features:DefinitionsFile '{options.Features.DefinitionsFile}': {ex.Message}");
                }
            }
        }

        if (options.Federation.Threads is < 1 or > 64)
        {
            errors.Add($"Edge:Federation:Threads must be 1-64, got {options.Federation.Threads}");
        }

        if (options.Models.HoldoutRows < 0)
        {
            errors.Add($"Edge:Models:HoldoutRows must be >= 0 (0 turns the local holdout off), got {options.Models.HoldoutRows}");
        }

        if (options.Models.RescoreAfter < TimeSpan.Zero)
        {
            errors.Add($"Edge:Models:RescoreAfter must be >= 0 (0 turns re-scoring by age off), got {options.Models.RescoreAfter}");
        }

        var explanations = options.Models.Explanations;
        if (explanations.BackgroundRows is < 1 or > 256)
        {
            errors.Add($"Edge:Models:Explanations:BackgroundRows must be in [1, 256], got {explanations.BackgroundRows}");
        }

        if (explanations.TopReasons is < 1 or > 10)
        {
            errors.Add($"Edge:Models:Explanations:TopReasons must be in [1, 10], got {explanations.TopReasons}");
        }

        if (explanations.RetainDecisions < TimeSpan.Zero)
        {
            errors.Add($"Edge:Models:Explanations:RetainDecisions must be >= 0 (0 keeps only the latest decision), got {explanations.RetainDecisions}");
        }

        var recommendations = options.Recommendations;
        if (!string.IsNullOrWhiteSpace(recommendations.Bundle) && !File.Exists(recommendations.Bundle))
        {
            errors.Add($"Edge:Recommendations:Bundle: file '{recommendations.Bundle}' does not exist");
        }

        if (recommendations.ColdSlots is < 0 or > 100)
        {
            errors.Add($"Edge:Recommendations:ColdSlots must be 0-100, got {recommendations.ColdSlots}");
        }

        if (recommendations.MinColdSimilarity is { } minCold && !(minCold is >= -1 and <= 1))
        {
            errors.Add($"Edge:Recommendations:MinColdSimilarity must be in [-1, 1], got {minCold.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }

        if (options.Models.HoldoutMinRows < 2)
        {
            errors.Add($"Edge:Models:HoldoutMinRows must be >= 2, got {options.Models.HoldoutMinRows}");
        }

        if (!(options.Models.MaxAucDrop is >= 0 and <= 1))
        {
            errors.Add($"Edge:Models:MaxAucDrop must be in [0, 1], got {options.Models.MaxAucDrop.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }

        if (options.Models.Enabled)
        {
            // The model's features must be online features of this edge: the configured definitions, or the built-in
            // set (a definitions file that does not parse is reported above; the model is then checked by name against
            // nothing more).
            var served = EdgeProfile.Core.Features.DefaultFeatures.Set;
            try
            {
                if (!string.IsNullOrWhiteSpace(options.Features.DefinitionsFile) && File.Exists(options.Features.DefinitionsFile))
                {
                    served = EdgeProfile.Core.Features.FeatureSet.Parse(File.ReadAllText(options.Features.DefinitionsFile));
                }
            }
            catch (EdgeProfile.Core.Features.FeatureDefinitionException)
            {
                served = null;
            }

            if (served is not null && Scoring.ModelFile.Problem(options.Models.File, served) is { } problem)
            {
                errors.Add(problem);
            }
        }

        errors.AddRange(options.Identity.Validate("Edge:Identity"));
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex StoreIdPattern();
}
