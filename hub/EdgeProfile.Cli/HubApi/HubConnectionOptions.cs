using System.CommandLine;

namespace EdgeProfile.Cli.HubApi;

/// <summary>
/// <c>--hub</c>, <c>--token</c> and <c>--token-file</c>, shared by every command that talks to a hub
/// (contracts.md §6). Environment fallbacks: <c>EDGEPROFILE_HUB</c>, <c>EDGEPROFILE_TOKEN</c>.
/// </summary>
public sealed class HubConnectionOptions
{
    /// <summary>Environment variable with the hub URL when <c>--hub</c> is not given.</summary>
    public const string HubVariable = "EDGEPROFILE_HUB";

    /// <summary>Environment variable with the operator token when neither <c>--token</c> nor <c>--token-file</c> is given.</summary>
    public const string TokenVariable = "EDGEPROFILE_TOKEN";

    /// <summary>Where a hub listens by default.</summary>
    public const string DefaultHubUrl = "http://127.0.0.1:8080";

    /// <summary><c>--hub</c>.</summary>
    public Option<string> Hub { get; } = new("--hub")
    {
        Description = $"The hub's URL [env {HubVariable}; default {DefaultHubUrl}]",
        HelpName = "URL",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(HubVariable) is { Length: > 0 } env ? env : DefaultHubUrl,
    };

    /// <summary><c>--token</c>.</summary>
    public Option<string?> Token { get; } = new("--token")
    {
        Description = $"The operator's bearer token [env {TokenVariable}]",
        HelpName = "TOKEN",
    };

    /// <summary><c>--token-file</c>.</summary>
    public Option<FileInfo?> TokenFile { get; } = new("--token-file")
    {
        Description = "Read the operator token from a file, e.g. {Hub:DataDir}/operator.token",
        HelpName = "FILE",
    };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Hub);
        command.Options.Add(Token);
        command.Options.Add(TokenFile);
    }

    /// <summary>A client for the hub named by the parsed options.</summary>
    public HubRestClient CreateClient(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var url = HubRestClient.ParseHubUrl(parseResult.GetValue(Hub));
        return new HubRestClient(url, ResolveToken(parseResult));
    }

    private string? ResolveToken(ParseResult parseResult)
    {
        if (parseResult.GetValue(Token) is { Length: > 0 } token)
        {
            return token.Trim();
        }

        if (parseResult.GetValue(TokenFile) is { } file)
        {
            try
            {
                var text = File.ReadAllText(file.FullName).Trim();
                return text.Length > 0 ? text : throw new CliException($"--token-file {file.FullName} is empty", ExitCodes.Usage);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"--token-file {file.FullName} cannot be read: {ex.Message}", ExitCodes.Usage);
            }
        }

        return Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } env ? env.Trim() : null;
    }
}
