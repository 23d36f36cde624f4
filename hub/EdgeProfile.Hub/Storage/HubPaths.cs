using Microsoft.Extensions.Options;

namespace EdgeProfile.Hub.Storage;

/// <summary>Where the hub keeps its files, resolved once from <see cref="HubOptions.DataDir"/>.</summary>
internal sealed class HubPaths
{
    public HubPaths(IOptions<HubOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        DataDir = Path.GetFullPath(options.Value.DataDir);
    }

    public string DataDir { get; }

    public string Database => Path.Combine(DataDir, HubOptions.DatabaseFileName);

    public string OperatorToken => Path.Combine(DataDir, HubOptions.OperatorTokenFileName);

    public string PseudonymKey => Path.Combine(DataDir, HubOptions.PseudonymKeyFileName);

    public string Lock => Path.Combine(DataDir, "hub.lock");
}
